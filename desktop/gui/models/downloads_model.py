"""The download jobs of the server as a table: name, progress, size, speed, time left, state.

The server owns the jobs (they are records on its disk and outlive the window); this model only
mirrors `GET /v1/xindesk/downloads`. Each refresh updates rows in place, keyed by job id, so the
view keeps its selection and the per-row buttons while the figures tick.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor

from desktop.gui.format import human_bytes, human_duration, human_speed

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's key (the job id here, the model uid in the running-models table)."""
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 2
"""A fraction 0..1 for the progress column (None in other columns)."""
COLOUR_ROLE = Qt.ItemDataRole.UserRole + 3
"""The progress bar's colour, which says the state at a glance."""
STATE_ROLE = Qt.ItemDataRole.UserRole + 4
"""The raw state word from the server ("downloading", "paused", "ready" ...)."""

ACTIVE_STATES = frozenset({"queued", "downloading", "verifying"})
CLEARABLE_STATES = frozenset({"completed", "cancelled"})

GREEN = QColor("#15803d")
AMBER = QColor("#b45309")
RED = QColor("#b91c1c")
ACCENT = QColor("#2563eb")
GREY = QColor("#94a3b8")

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class KeyedRowsModel(QAbstractTableModel):
    """A table of records (dicts) with a stable key, refreshed from the server in place.

    `replace_rows` compares the new records with those shown: rows that went away are removed,
    new ones inserted where they belong, and a row whose record changed emits `dataChanged`.
    Subclasses say how many columns there are and what each cell shows.
    """

    column_count = 0

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._keys: list[str] = []
        self._records: list[dict[str, Any]] = []

    # -- Qt's model interface -----------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._records)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return self.column_count

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    # -- records ------------------------------------------------------------------------------

    def record(self, row: int) -> dict[str, Any]:
        return self._records[row]

    def records(self) -> list[dict[str, Any]]:
        return list(self._records)

    def key(self, row: int) -> str:
        return self._keys[row]

    def keys(self) -> list[str]:
        return list(self._keys)

    def row_of(self, key: str) -> int:
        """The row showing `key`, or -1."""
        try:
            return self._keys.index(key)
        except ValueError:
            return -1

    def replace_rows(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        """Show exactly `rows` (key, record), in that order, changing as little as possible."""
        seen: set[str] = set()
        wanted: list[tuple[str, dict[str, Any]]] = []
        for key, record in rows:
            if key not in seen:
                seen.add(key)
                wanted.append((key, record))
        for row in reversed(range(len(self._keys))):
            if self._keys[row] not in seen:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._keys[row]
                del self._records[row]
                self.endRemoveRows()
        kept = set(self._keys)
        if [key for key, _ in wanted if key in kept] != self._keys:
            # The server reordered rows it already had (it never does today): start over.
            self.beginResetModel()
            self._keys = [key for key, _ in wanted]
            self._records = [record for _, record in wanted]
            self.endResetModel()
            return
        # What is left is in the wanted order, so walking the wanted list inserts each new row
        # at its final place and meets every kept row exactly where it already is.
        for position, (key, record) in enumerate(wanted):
            if position < len(self._keys) and self._keys[position] == key:
                if self._records[position] != record:
                    self._records[position] = record
                    self.dataChanged.emit(
                        self.index(position, 0), self.index(position, self.column_count - 1)
                    )
                continue
            self.beginInsertRows(QModelIndex(), position, position)
            self._keys.insert(position, key)
            self._records.insert(position, record)
            self.endInsertRows()

    def replace_one(self, key: str, record: dict[str, Any]) -> None:
        """Show a fresher record for one row (the answer to a pause, say) before the next poll."""
        row = self.row_of(key)
        if row >= 0 and self._records[row] != record:
            self._records[row] = record
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.column_count - 1))

    def retranslate(self) -> None:
        """The language changed: every header and cell text is asked for again."""
        if self.column_count:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.column_count - 1)
        if self._records:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._records) - 1, self.column_count - 1)
            )


class DownloadColumn(IntEnum):
    NAME = 0
    PROGRESS = 1
    SIZE = 2
    SPEED = 3
    TIME_LEFT = 4
    STATE = 5
    ACTIONS = 6


class DownloadsModel(KeyedRowsModel):
    """The server's download jobs, newest first.

    Each record is the job as `XinDeskClient.downloads()` returns it (id, state, label, files,
    error, downloaded_bytes, total_bytes, progress, speed_bytes_per_second, eta_seconds ...).
    """

    column_count = len(DownloadColumn)

    def set_jobs(self, jobs: list[dict[str, Any]]) -> None:
        # The server lists jobs oldest first; the newest one is what a person just started.
        self.replace_rows([(str(job["id"]), job) for job in reversed(jobs)])

    def job(self, job_id: str) -> dict[str, Any] | None:
        row = self.row_of(job_id)
        return self.record(row) if row >= 0 else None

    # -- what a person reads ------------------------------------------------------------------

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.column_count:
            return None
        column = DownloadColumn(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                DownloadColumn.NAME: self.tr("Model"),
                DownloadColumn.PROGRESS: self.tr("Progress"),
                DownloadColumn.SIZE: self.tr("Downloaded"),
                DownloadColumn.SPEED: self.tr("Speed"),
                DownloadColumn.TIME_LEFT: self.tr("Time left"),
                DownloadColumn.STATE: self.tr("State"),
                DownloadColumn.ACTIONS: self.tr("Actions"),
            }[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {
                DownloadColumn.NAME: self.tr("The model or file being downloaded"),
                DownloadColumn.PROGRESS: self.tr("How much of the download is done"),
                DownloadColumn.SIZE: self.tr("Bytes on disk so far, of the whole download"),
                DownloadColumn.SPEED: self.tr("Current download speed"),
                DownloadColumn.TIME_LEFT: self.tr("Estimated time until the download is done"),
                DownloadColumn.STATE: self.tr("What the download is doing now"),
                DownloadColumn.ACTIONS: self.tr("Pause, resume, retry or cancel the download"),
            }[column]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        job = self._records[index.row()]
        column = DownloadColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(job, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            DownloadColumn.SIZE,
            DownloadColumn.SPEED,
            DownloadColumn.TIME_LEFT,
        ):
            return int(_RIGHT)
        if role == Qt.ItemDataRole.ForegroundRole and column == DownloadColumn.STATE:
            return self.state_colour(str(job.get("state")))
        if role == KEY_ROLE:
            return str(job["id"])
        if role == STATE_ROLE:
            return str(job.get("state"))
        if role == PROGRESS_ROLE and column == DownloadColumn.PROGRESS:
            return float(job.get("progress") or 0.0)
        if role == COLOUR_ROLE and column == DownloadColumn.PROGRESS:
            return self.bar_colour(str(job.get("state")))
        return None

    def _text(self, job: dict[str, Any], column: DownloadColumn) -> str:
        state = str(job.get("state"))
        active = state in ACTIVE_STATES
        if column == DownloadColumn.NAME:
            return str(job.get("label") or job.get("repo_id") or job["id"])
        if column == DownloadColumn.PROGRESS:
            return self.tr("{0}%").format(int(float(job.get("progress") or 0.0) * 100))
        if column == DownloadColumn.SIZE:
            return self.size_text(job)
        if column == DownloadColumn.SPEED:
            return human_speed(job.get("speed_bytes_per_second")) if active else "–"
        if column == DownloadColumn.TIME_LEFT:
            return human_duration(job.get("eta_seconds")) if active else "–"
        if column == DownloadColumn.STATE:
            return self.state_text(job)
        return ""

    def _tooltip(self, job: dict[str, Any], column: DownloadColumn) -> str | None:
        if column == DownloadColumn.NAME:
            files = ", ".join(str(f.get("path")) for f in job.get("files") or [])
            return self.tr("{0} from {1}\nFiles: {2}\nSaved in: {3}").format(
                job.get("repo_id"), job.get("hub"), files, job.get("folder")
            )
        if column == DownloadColumn.STATE:
            return self.state_text(job)
        if column in (DownloadColumn.SPEED, DownloadColumn.TIME_LEFT) and (
            str(job.get("state")) in ACTIVE_STATES
        ):
            return self.tr("{0}, about {1} left").format(
                human_speed(job.get("speed_bytes_per_second")),
                human_duration(job.get("eta_seconds")),
            )
        return None

    def size_text(self, job: dict[str, Any]) -> str:
        """ "120.0 MB of 241.4 MB"."""
        return self.tr("{0} of {1}").format(
            human_bytes(job.get("downloaded_bytes")), human_bytes(job.get("total_bytes"))
        )

    def state_text(self, job: dict[str, Any]) -> str:
        """The state in words, with the reason when it failed."""
        state = str(job.get("state"))
        if state == "downloading" and int(job.get("attempt") or 0) > 0:
            return self.tr("Downloading (retry {0})").format(job.get("attempt"))
        if state == "failed":
            return self.tr("Failed: {0}").format(job.get("error") or self.tr("unknown error"))
        words = {
            "queued": self.tr("Waiting to start"),
            "downloading": self.tr("Downloading"),
            "verifying": self.tr("Checking the file"),
            "paused": self.tr("Paused"),
            "cancelled": self.tr("Cancelled"),
            "completed": self.tr("Completed"),
        }
        return words.get(state, state)

    @staticmethod
    def state_colour(state: str) -> QColor | None:
        return {"failed": RED, "completed": GREEN, "paused": AMBER}.get(state)

    @staticmethod
    def bar_colour(state: str) -> QColor:
        return {"failed": RED, "completed": GREEN, "paused": AMBER, "cancelled": GREY}.get(
            state, ACCENT
        )

    # -- the page header's summary ------------------------------------------------------------

    def summary(self) -> str:
        """ "2 downloading · 12.3 MB/s · 1 paused", or a word when nothing is going on."""
        states = [str(job.get("state")) for job in self._records]
        active = [job for job in self._records if str(job.get("state")) in ACTIVE_STATES]
        parts: list[str] = []
        if active:
            speed = sum(float(job.get("speed_bytes_per_second") or 0.0) for job in active)
            parts.append(self.tr("{0} downloading").format(len(active)))
            if speed > 0:
                parts.append(human_speed(speed))
        if paused := states.count("paused"):
            parts.append(self.tr("{0} paused").format(paused))
        if failed := states.count("failed"):
            parts.append(self.tr("{0} failed").format(failed))
        if not parts:
            return self.tr("Nothing downloading") if self._records else ""
        return " · ".join(parts)
