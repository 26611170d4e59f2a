"""Repositories found on Hugging Face and ModelScope (`GET /v1/xindesk/search`) as a table."""

from __future__ import annotations

from collections.abc import Hashable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt

from desktop.api.common import ModelType
from desktop.api.library import SearchHit
from desktop.gui.models.record_table import RecordTableModel

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def hub_name(hub: str | None) -> str:
    """ "huggingface" -> "Hugging Face" (translatable: ModelScope has a Chinese name too)."""
    names = {
        "huggingface": QCoreApplication.translate("SearchModel", "Hugging Face"),
        "modelscope": QCoreApplication.translate("SearchModel", "ModelScope"),
    }
    return names.get(hub or "", hub or "")


def guess_model_type(repo_id: str) -> ModelType:
    """What a repository probably holds, from its name: "…-Embedding-…" is an embedding
    model, "…rerank…" a reranker, anything else a chat model. Only a default the person can
    change before launching."""
    name = repo_id.lower()
    if "rerank" in name:
        return "rerank"
    if "embed" in name or "bge-" in name or "e5-" in name:
        return "embedding"
    return "LLM"


class SearchColumn(IntEnum):
    REPO = 0
    HUB = 1
    DOWNLOADS = 2
    LIKES = 3
    UPDATED = 4


class SearchModel(RecordTableModel[SearchHit]):
    """Search hits in the server's order (most downloaded first, hub by hub)."""

    column_count = len(SearchColumn)

    def set_results(self, results: list[SearchHit]) -> None:
        self.set_records(results)

    def key(self, record: SearchHit) -> Hashable:
        return (record.hub, record.repo_id)

    def header(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                SearchColumn.REPO: self.tr("Repository"),
                SearchColumn.HUB: self.tr("Found on"),
                SearchColumn.DOWNLOADS: self.tr("Downloads"),
                SearchColumn.LIKES: self.tr("Likes"),
                SearchColumn.UPDATED: self.tr("Updated"),
            }[SearchColumn(column)]
        return None

    def cell(self, record: SearchHit, column: int, role: int) -> Any:
        col = SearchColumn(column)
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                SearchColumn.REPO: record.repo_id,
                SearchColumn.HUB: hub_name(record.hub),
                SearchColumn.DOWNLOADS: f"{record.downloads:,}",
                SearchColumn.LIKES: f"{record.likes:,}",
                SearchColumn.UPDATED: (record.updated or "")[:10] or "–",
            }[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            SearchColumn.DOWNLOADS,
            SearchColumn.LIKES,
        ):
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and col is SearchColumn.REPO and record.gguf_files:
            return QCoreApplication.translate("SearchModel", "{0} GGUF files").format(
                record.gguf_files
            )
        return None
