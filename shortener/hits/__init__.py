"""Hits: the write side (`recording`) and the read side (`reading`) of the recorded clicks."""
