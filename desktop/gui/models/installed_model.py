"""Models on this computer (`GET /v1/xindesk/installed`) as a table: downloaded, imported, and
found in the Hugging Face cache. A usable one can be launched straight from here."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import PurePath
from typing import Any

from PySide6.QtCore import Qt

from desktop.core.units import human_bytes
from desktop.gui.models.record_table import RecordTableModel

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class LocalModel:
    """One model file (or split set) on disk, as the server describes it."""

    id: str
    path: str
    size: int
    source: str
    repo_id: str | None
    quantization: str | None
    architecture: str | None
    context_length: int | None
    usable: bool
    problem: str | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> LocalModel:
        return cls(
            id=str(data["id"]),
            path=str(data["path"]),
            size=int(data.get("size") or 0),
            source=str(data.get("source") or ""),
            repo_id=data.get("repo_id"),
            quantization=data.get("quantization"),
            architecture=data.get("architecture"),
            context_length=data.get("context_length"),
            usable=bool(data.get("usable")),
            problem=data.get("problem"),
        )

    @property
    def file_name(self) -> str:
        return PurePath(self.path).name

    @property
    def stem(self) -> str:
        """The file name without `.gguf` and part numbers: a default name to launch it by."""
        name = self.file_name
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


class InstalledModel(RecordTableModel[LocalModel]):
    """The usable models first, then those with a problem (which say what is wrong)."""

    column_count = len(LocalColumn)

    def set_installed(self, models: list[dict[str, Any]]) -> None:
        found = [LocalModel.from_api(item) for item in models]
        self.set_records(sorted(found, key=lambda m: (not m.usable, m.file_name.lower())))

    def key(self, record: LocalModel) -> Hashable:
        return record.id

    def enabled(self, record: LocalModel) -> bool:
        return True

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

    def cell(self, record: LocalModel, column: int, role: int) -> Any:
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
                LocalColumn.FILE: record.file_name,
                LocalColumn.QUANT: record.quantization or "–",
                LocalColumn.SIZE: human_bytes(record.size),
            }[col]
        if role == Qt.ItemDataRole.ToolTipRole and col in (LocalColumn.FILE, LocalColumn.FROM):
            return record.path
        if role == Qt.ItemDataRole.TextAlignmentRole and col is LocalColumn.SIZE:
            return _RIGHT
        return None
