"""Numbers as a person reads them: speeds and times left (translated units); sizes are
`desktop.core.units.human_bytes`."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from desktop.core.units import human_bytes


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
