"""Dialogs the pages open."""
