"""Maintained data files the analytics rules read (see README.md here for sources and versions)."""
