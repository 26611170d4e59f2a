"""Models on this computer (`GET /v1/xindesk/installed`) as a table: downloaded, imported, and
found in the Hugging Face cache. A usable one can be launched straight from here."""

from __future__ import annotations

from collections.abc import Hashable
from enum import IntEnum
from pathlib import PurePath
from typing import Any

from PySide6.QtCore import Qt

from desktop.api.library import InstalledModelView
from desktop.core.units import human_bytes
from desktop.gui.models.record_table import RecordTableModel

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def file_name(model: InstalledModelView) -> str:
    return PurePath(model.path).name


def launch_name(model: InstalledModelView) -> str:
    """The file name without `.gguf` and part numbers: a default name to launch it by."""
    name = file_name(model)
    if name.lower().endswith(".gguf"):
        name = name[: -len(".gguf")]
    head, sep, _tail = name.rpartition("-00001-of-")
    return head if sep else name


class LocalColumn(IntEnum):
    FILE = 0
    FROM = 1
    QUANT = 2
    SIZE = 3
    STATE = 4


class InstalledTableModel(RecordTableModel[InstalledModelView]):
    """The usable models first, then those with a problem (which say what is wrong)."""

    column_count = len(LocalColumn)

    def set_installed(self, models: list[InstalledModelView]) -> None:
        self.set_records(sorted(models, key=lambda m: (not m.usable, file_name(m).lower())))

    def key(self, record: InstalledModelView) -> Hashable:
        return record.id

    def header(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                LocalColumn.FILE: self.tr("File"),
                LocalColumn.FROM: self.tr("From"),
                LocalColumn.QUANT: self.tr("Quality level"),
                LocalColumn.SIZE: self.tr("Size"),
                LocalColumn.STATE: self.tr("State"),
            }[LocalColumn(column)]
        return None

    def cell(self, record: InstalledModelView, column: int, role: int) -> Any:
        col = LocalColumn(column)
        if role == Qt.ItemDataRole.DisplayRole:
            if col is LocalColumn.STATE:
                if record.usable:
                    return self.tr("Ready to launch")
                return record.problem or self.tr("Not a model of its own")
            if col is LocalColumn.FROM:
                if record.repo_id:
                    return record.repo_id
                return self.tr("Imported file")
            return {
                LocalColumn.FILE: file_name(record),
                LocalColumn.QUANT: record.quantization or "–",
                LocalColumn.SIZE: human_bytes(record.size),
            }[col]
        if role == Qt.ItemDataRole.ToolTipRole and col in (LocalColumn.FILE, LocalColumn.FROM):
            return record.path
        if role == Qt.ItemDataRole.TextAlignmentRole and col is LocalColumn.SIZE:
            return _RIGHT
        return None
