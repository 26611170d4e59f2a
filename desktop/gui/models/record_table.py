"""A read-only table of records with a stable key, refreshed in place.

Every table of the window shows records the server sent, typed: the client parses each answer
into its `desktop.api` model once. A table holds those models themselves where a row is one of
them (search hits, files on disk, download jobs), or a small frozen dataclass made from them in
one place where a row gathers or derives more: its `from_api` classmethod (a catalog family, a
running model, a log line), or for quantization choices `rows_from_catalog` and
`rows_from_repo`, which also order them. No table reads a JSON object by key. A refresh changes
as little as it can, so the view keeps its selection, scroll position and per-row buttons while
the figures tick.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

R = TypeVar("R")

RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's record (the api model or frozen dataclass behind the row)."""
KEY_ROLE = Qt.ItemDataRole.UserRole + 2
"""The row's key (a download's job id, a running model's uid ...)."""
STATE_ROLE = Qt.ItemDataRole.UserRole + 3
"""The raw state word from the server ("downloading", "paused", "ready" ...)."""
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 4
"""A fraction 0..1 for a progress column (None in other columns)."""
COLOUR_ROLE = Qt.ItemDataRole.UserRole + 5
"""A progress bar's colour, which says the state at a glance."""

Index = QModelIndex | QPersistentModelIndex


class RecordTableModel(QAbstractTableModel, Generic[R]):
    """Rows of records; subclasses set `column_count` and answer `cell`/`header`.

    Subclasses implement `key(record)` (stable identity), `header(column, role)` and
    `cell(record, column, role)`; both return None for roles they do not answer.

    Two ways to show new records: `set_records` starts over whenever the keys differ (a new
    search), `merge_records` removes and inserts only the rows that came or went (a poll).
    """

    column_count = 0

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[R] = []

    # -- what subclasses say ------------------------------------------------------------------

    def key(self, record: R) -> Hashable:
        raise NotImplementedError

    def header(self, column: int, role: int) -> Any:
        return None

    def cell(self, record: R, column: int, role: int) -> Any:
        return None

    def enabled(self, record: R) -> bool:
        return True

    def summary(self) -> str:
        """One line about all the records, for a page's header ("2 downloading · 1 paused")."""
        return ""

    # -- Qt's model interface -----------------------------------------------------------------

    def rowCount(self, parent: Index | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._records)

    def columnCount(self, parent: Index | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return self.column_count

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemNeverHasChildren
        if self.enabled(self._records[index.row()]):
            flags |= Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        if role == RECORD_ROLE:
            return record
        if role == KEY_ROLE:
            return self.key(record)
        return self.cell(record, index.column(), role)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.column_count:
            return None
        return self.header(section, role)

    # -- records ------------------------------------------------------------------------------

    def records(self) -> list[R]:
        return list(self._records)

    def record(self, row: int) -> R:
        return self._records[row]

    def keys(self) -> list[Hashable]:
        return [self.key(record) for record in self._records]

    def row_of(self, key: Hashable) -> int:
        """The row whose record has `key`, or -1."""
        for row, record in enumerate(self._records):
            if self.key(record) == key:
                return row
        return -1

    def record_of(self, key: Hashable) -> R | None:
        """The record shown for `key`, or None."""
        row = self.row_of(key)
        return self._records[row] if row >= 0 else None

    def set_records(self, records: Sequence[R]) -> None:
        """Show `records`: in place when the keys are unchanged, else from scratch."""
        new = list(records)
        if [self.key(r) for r in new] != self.keys():
            self.beginResetModel()
            self._records = new
            self.endResetModel()
            return
        for row, fresh in enumerate(new):
            self._update_row(row, fresh)

    def merge_records(self, records: Sequence[R]) -> None:
        """Show exactly `records`, in that order, changing as little as possible.

        Rows that went away are removed, new ones inserted where they belong, and a row whose
        record changed emits `dataChanged`. A record whose key came before is left out.
        """
        seen: set[Hashable] = set()
        wanted: list[R] = []
        for record in records:
            if (key := self.key(record)) not in seen:
                seen.add(key)
                wanted.append(record)
        for row in reversed(range(len(self._records))):
            if self.key(self._records[row]) not in seen:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._records[row]
                self.endRemoveRows()
        kept = self.keys()
        kept_set = set(kept)
        if [key for key in (self.key(r) for r in wanted) if key in kept_set] != kept:
            # The server reordered rows it already had (it never does today): start over.
            self.beginResetModel()
            self._records = wanted
            self.endResetModel()
            return
        # What is left is in the wanted order, so walking the wanted list inserts each new row
        # at its final place and meets every kept row exactly where it already is.
        for position, record in enumerate(wanted):
            if position < len(self._records) and self.key(self._records[position]) == (
                self.key(record)
            ):
                self._update_row(position, record)
                continue
            self.beginInsertRows(QModelIndex(), position, position)
            self._records.insert(position, record)
            self.endInsertRows()

    def replace_record(self, record: R) -> None:
        """Show a fresher record for its row (the answer to a pause, say) before the next poll."""
        row = self.row_of(self.key(record))
        if row >= 0:
            self._update_row(row, record)

    def _update_row(self, row: int, record: R) -> None:
        if self._records[row] != record:
            self._records[row] = record
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.column_count - 1))

    def retranslate(self) -> None:
        """The language changed: headers and cells are asked for again."""
        if self.column_count:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.column_count - 1)
        if self._records:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._records) - 1, self.column_count - 1)
            )
