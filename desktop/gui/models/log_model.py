"""The rows of the Logs page: log records kept in a capped table, and the filter in front of it.

Records come from two places: the server's own log buffer (paged over REST, so it works for a
remote server too) and the console output of a server this window started (plain text lines,
parsed here into the same columns). The newest `capacity` rows are kept; older ones drop off the
top, so a server that logs for days cannot fill the window's memory.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from desktop.api.admin import LogRecord

DEFAULT_CAPACITY = 10_000

Index = QModelIndex | QPersistentModelIndex

# `%(asctime)s %(name)s %(levelname)s %(message)s`, the server's console format (desktop/cli.py).
_CONSOLE_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<logger>\S+) "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) (?P<message>.*)$"
)
# Uvicorn's own console lines: "INFO:     Uvicorn running on ...".
_UVICORN_LINE = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+(?P<message>.*)$")

_LEVEL_COLOURS = {
    logging.DEBUG: QColor("#64748b"),
    logging.WARNING: QColor("#b45309"),
    logging.ERROR: QColor("#b91c1c"),
    logging.CRITICAL: QColor("#b91c1c"),
}


def level_number(name: str) -> int:
    """The numeric level of a level name; an unknown name counts as INFO."""
    number = logging.getLevelName(name.upper())
    return number if isinstance(number, int) else logging.INFO


def _stamp(moment: float | None, layout: str) -> str:
    """`moment` in local time with milliseconds ("" for None)."""
    if moment is None:
        return ""
    # Rounded whole milliseconds first: 5.678 must not print as 5.677.
    millis = round(moment * 1000)
    return f"{time.strftime(layout, time.localtime(millis // 1000))}.{millis % 1000:03d}"


@dataclass(frozen=True, slots=True)
class LogRow:
    """One line of the log page.

    Attributes:
        time: When it was logged (epoch seconds), or None for a console line without a time
            (the rest of a traceback).
        levelno: The numeric level, which the level filter compares.
    """

    time: float | None
    levelno: int
    level: str
    logger: str
    message: str

    @classmethod
    def from_api(cls, record: LogRecord) -> LogRow:
        """A row from one record of `GET /v1/xindesk/logs`."""
        return cls(
            time=record.time,
            levelno=level_number(record.level),
            level=record.level,
            logger=record.logger,
            message=record.message,
        )

    def clock(self) -> str:
        """The time of day, to the millisecond (the day is in the tooltip)."""
        return _stamp(self.time, "%H:%M:%S")

    def text(self) -> str:
        """The row as one line of a log file (for copying)."""
        stamp = _stamp(self.time, "%Y-%m-%d %H:%M:%S")
        head = " ".join(part for part in (stamp, self.level, self.logger) if part)
        return f"{head}: {self.message}" if head else self.message


def parse_console_line(line: str, previous: LogRow | None) -> LogRow:
    """A console line as a row. A line in no known format (a traceback's body, a library's
    print) keeps the level of the line before it, so filtering on errors keeps whole tracebacks.
    """
    match = _CONSOLE_LINE.match(line)
    if match:
        stamp = dt.datetime.strptime(match["time"], "%Y-%m-%d %H:%M:%S,%f")
        return LogRow(
            time=stamp.timestamp(),
            levelno=level_number(match["level"]),
            level=match["level"],
            logger=match["logger"],
            message=match["message"],
        )
    match = _UVICORN_LINE.match(line)
    if match:
        return LogRow(
            time=None,
            levelno=level_number(match["level"]),
            level=match["level"],
            logger="uvicorn",
            message=match["message"],
        )
    levelno = previous.levelno if previous is not None else logging.INFO
    return LogRow(time=None, levelno=levelno, level="", logger="", message=line)


class LogModel(QAbstractTableModel):
    """Log rows, oldest first, at most `capacity` of them (the oldest drop off)."""

    TIME, LEVEL, SOURCE, MESSAGE = range(4)
    ROW_ROLE = Qt.ItemDataRole.UserRole + 1
    """The `LogRow` of an index (for the filter and for copying)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[LogRow] = []
        self._capacity = capacity

    # -- contents -----------------------------------------------------------------------------

    def append(self, rows: list[LogRow]) -> None:
        """Add rows at the end, dropping the oldest ones beyond the capacity."""
        if not rows:
            return
        rows = rows[-self._capacity :]
        overflow = len(self._rows) + len(rows) - self._capacity
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self._rows[:overflow]
            self.endRemoveRows()
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def append_console_lines(self, lines: list[str]) -> None:
        previous = self._rows[-1] if self._rows else None
        parsed: list[LogRow] = []
        for line in lines:
            previous = parse_console_line(line, previous)
            parsed.append(previous)
        self.append(parsed)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()

    def row_at(self, row: int) -> LogRow:
        return self._rows[row]

    def retranslate(self) -> None:
        """Column titles in the current language."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)

    # -- QAbstractTableModel ------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else 4

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.TIME:
                return row.clock()
            if column == self.LEVEL:
                return row.level
            if column == self.SOURCE:
                return row.logger
            # A traceback is one record: the table shows its first line, the details pane all.
            first, _, rest = row.message.partition("\n")
            return f"{first} …" if rest else first
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.TIME and row.time is not None:
                return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.time))
            if column == self.MESSAGE and "\n" in row.message:
                return row.message
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return _LEVEL_COLOURS.get(row.levelno)
        if role == self.ROW_ROLE:
            return row
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        titles = (self.tr("Time"), self.tr("Level"), self.tr("Source"), self.tr("Message"))
        return titles[section] if 0 <= section < len(titles) else None


class LogFilter(QSortFilterProxyModel):
    """Shows the rows at or above a level whose source or message holds a text (any case)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._min_level = logging.NOTSET
        self._needle = ""

    def set_min_level(self, level: int) -> None:
        if level != self._min_level:
            self.beginFilterChange()
            self._min_level = level
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        needle = text.strip().lower()
        if needle != self._needle:
            self.beginFilterChange()
            self._needle = needle
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, LogModel) or source_parent.isValid():
            return True
        row = model.row_at(source_row)
        if row.levelno < self._min_level:
            return False
        if not self._needle:
            return True
        return self._needle in row.message.lower() or self._needle in row.logger.lower()

    def row_at(self, proxy_row: int) -> LogRow:
        row: LogRow = self.data(self.index(proxy_row, 0), LogModel.ROW_ROLE)
        return row
