"""Lumen: a self-hosted link shortener that brings dark social into the light.

The web app is built by `shortener.app.create_app`; importing this package loads nothing else.
"""
