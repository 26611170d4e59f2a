"""Numbers as a person reads them: sizes, speeds, times left (translated units)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def human_bytes(value: float | None) -> str:
    if value is None:
        return "–"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def human_speed(bytes_per_second: float | None) -> str:
    if not bytes_per_second:
        return "–"
    return f"{human_bytes(bytes_per_second)}/s"


def human_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return QCoreApplication.translate("Format", "{0} s").format(seconds)
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return QCoreApplication.translate("Format", "{0} min {1} s").format(minutes, seconds)
    hours, minutes = divmod(minutes, 60)
    return QCoreApplication.translate("Format", "{0} h {1} min").format(hours, minutes)
