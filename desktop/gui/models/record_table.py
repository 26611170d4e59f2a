"""A read-only table of frozen records with a stable key, refreshed in place.

The Models page's tables (catalog families, search hits, files on disk, quantization choices)
all show a list of records the server sent; a refresh with the same keys in the same order only
emits `dataChanged` for the rows that differ, so the view keeps its selection and scroll.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

R = TypeVar("R", bound=Hashable)

RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's record (the frozen dataclass behind the row)."""

Index = QModelIndex | QPersistentModelIndex


class RecordTableModel(QAbstractTableModel, Generic[R]):
    """Rows of records; subclasses set `column_count` and answer `cell`/`header`.

    Subclasses implement `key(record)` (stable identity), `header(column, role)` and
    `cell(record, column, role)`; both return None for roles they do not answer.
    """

    column_count = 0

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[R] = []

    # -- what subclasses say ------------------------------------------------------------------

    def key(self, record: R) -> Hashable:
        return record

    def header(self, column: int, role: int) -> Any:
        return None

    def cell(self, record: R, column: int, role: int) -> Any:
        return None

    def enabled(self, record: R) -> bool:
        return True

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

    def row_of(self, key: Hashable) -> int:
        """The row whose record has `key`, or -1."""
        for row, record in enumerate(self._records):
            if self.key(record) == key:
                return row
        return -1

    def set_records(self, records: Sequence[R]) -> None:
        """Show `records`: in place when the keys are unchanged, else from scratch."""
        new = list(records)
        if [self.key(r) for r in new] != [self.key(r) for r in self._records]:
            self.beginResetModel()
            self._records = new
            self.endResetModel()
            return
        for row, (old, fresh) in enumerate(zip(self._records, new, strict=True)):
            if old != fresh:
                self._records[row] = fresh
                self.dataChanged.emit(self.index(row, 0), self.index(row, self.column_count - 1))

    def retranslate(self) -> None:
        """The language changed: headers and cells are asked for again."""
        if self.column_count:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.column_count - 1)
        if self._records:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._records) - 1, self.column_count - 1)
            )
