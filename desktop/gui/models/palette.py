"""The colours tables use to say a state at a glance (the same in every table)."""

from __future__ import annotations

from PySide6.QtGui import QColor

GREEN = QColor("#15803d")
"""Done or good: a completed download, a ready model, a file that fits the graphics card."""
AMBER = QColor("#b45309")
"""Waiting or partly: paused, loading, only partly on the graphics card."""
RED = QColor("#b91c1c")
"""Failed, or does not fit."""
ACCENT = QColor("#2563eb")
"""Work going on (a progress bar filling)."""
GREY = QColor("#94a3b8")
"""Nothing to say: cancelled, unknown."""
