"""Byte units and sizes as a person reads them, for the core, the command line and the window."""

from __future__ import annotations

__all__ = ["GiB", "KiB", "MiB", "gib_text", "human_bytes"]

KiB = 1024
MiB = 1024**2
GiB = 1024**3


def human_bytes(value: float | None, *, unknown: str = "–") -> str:
    """`1536` -> "1.5 KB" (binary multiples, the way file managers count); `unknown` for None."""
    if value is None:
        return unknown
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < KiB:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= KiB
    return f"{size:.1f} TB"


def gib_text(size: int, *, digits: int = 1) -> str:
    """`size` bytes in GiB, for messages about disk space: "3.2 GiB"."""
    return f"{size / GiB:.{digits}f} GiB"
