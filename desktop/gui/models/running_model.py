"""The server's launched models as a table: UID, model, type, quantization, memory, state.

`fetch_running_models` (run off the GUI thread) gathers one row per model from three routes:
`GET /v1/models` describes launched models (state, error, memory), `GET /v1/models/instances`
also lists catalog models still downloading before they load, and `GET /v1/models/{uid}/progress`
gives those downloads' figures. `RunningModelsModel` shows the rows, updated in place by uid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any, Literal

from PySide6.QtCore import Qt

from desktop.api.common import JobState
from desktop.api.xinference import (
    InstanceInfo,
    LaunchProgress,
    ListedEmbedding,
    ListedLLM,
    ListedModel,
    OffloadReport,
)
from desktop.client import ClientError, XinDeskClient
from desktop.core.units import human_bytes
from desktop.gui.format import human_duration, human_speed
from desktop.gui.models.palette import ACCENT, AMBER, GREEN, RED
from desktop.gui.models.record_table import (
    COLOUR_ROLE,
    PROGRESS_ROLE,
    STATE_ROLE,
    RecordTableModel,
)

RowState = Literal["downloading", "loading", "ready", "unloaded", "error"]


@dataclass(frozen=True)
class RunningRow:
    """One launched model as the table shows it.

    Attributes:
        state: Where it is: "downloading" (a catalog model's files, before it loads), then
            the server's state ("loading", "ready", "error").
        waited: Whole seconds it has been loading, while it loads.
        progress: 0-1 of its download, while it downloads.
        download_state: Its download job's state (paused, ...), while it downloads.
        offload: Where llama.cpp put its layers (GPU or CPU), once loaded.
    """

    uid: str
    model_name: str | None = None
    model_type: str | None = None
    quantization: str | None = None
    memory_bytes: int | None = None
    state: RowState = "ready"
    error: str | None = None
    abilities: tuple[str, ...] = ()
    context_length: int | None = None
    model_path: str | None = None
    created_ts: int | None = None
    waited: int | None = None
    progress: float | None = None
    download_state: JobState | None = None
    downloaded_bytes: int | None = None
    total_bytes: int | None = None
    speed: float | None = None
    eta: float | None = None
    offload: OffloadReport | None = None
    pinned: bool = False
    load_at_start: bool = False
    idle_minutes: float | None = None

    @classmethod
    def from_api(cls, model: ListedModel | InstanceInfo) -> RunningRow:
        """A row from a `GET /v1/models` item, or from an instance the server lists only
        there (a catalog model downloading before it loads)."""
        if isinstance(model, InstanceInfo):
            abilities = tuple(model.model_ability)
            return cls(
                uid=model.model_uid,
                model_name=model.model_name,
                model_type="LLM" if {"chat", "generate"} & set(abilities) else None,
                state="downloading",
                abilities=abilities,
                created_ts=model.instance_created_ts,
            )
        if isinstance(model, ListedLLM):
            abilities, context = tuple(model.model_ability), model.context_length
        elif isinstance(model, ListedEmbedding):
            abilities, context = (), model.max_tokens
        else:
            abilities, context = (), None
        return cls(
            uid=model.id,
            model_name=model.model_name,
            model_type=model.model_type,
            quantization=model.quantization,
            memory_bytes=model.memory_bytes,
            state=model.status.value,
            error=model.error,
            abilities=abilities,
            context_length=context,
            model_path=model.model_path,
            offload=model.offload,
            pinned=model.pinned,
            load_at_start=model.load_at_start,
            idle_minutes=model.idle_minutes,
        )

    def with_progress(self, progress: LaunchProgress) -> RunningRow:
        """This downloading row with the figures of `GET /v1/models/{uid}/progress`."""
        download = progress.download
        if download is None:
            return replace(self, progress=progress.progress)
        return replace(
            self,
            progress=download.progress,
            download_state=download.state,
            downloaded_bytes=download.downloaded_bytes,
            total_bytes=download.total_bytes,
            speed=download.speed_bytes_per_second,
            eta=download.eta_seconds,
        )


def fetch_running_models(client: XinDeskClient) -> list[RunningRow]:
    """Every launched or launching model, as rows for `RunningModelsModel` (blocking)."""
    rows = {model.id: RunningRow.from_api(model) for model in client.list_models()}
    for instance in client.instances():
        uid = instance.model_uid
        if uid in rows:
            rows[uid] = replace(rows[uid], created_ts=instance.instance_created_ts)
        elif instance.status == "CREATING":
            rows[uid] = RunningRow.from_api(instance)
    now = time.time()
    for uid, row in rows.items():
        if row.state == "loading" and row.created_ts:
            # Whole seconds: the row changes (and repaints) once a second while it loads.
            rows[uid] = replace(row, waited=max(0, round(now - row.created_ts)))
        if row.state != "downloading":
            continue
        try:
            rows[uid] = row.with_progress(client.progress(uid))
        except ClientError:
            # It finished or went away between the two calls; the next refresh shows where.
            continue
    return list(rows.values())


class RunningColumn(IntEnum):
    UID = 0
    NAME = 1
    TYPE = 2
    QUANTIZATION = 3
    MEMORY = 4
    DEVICE = 5
    STATE = 6
    ACTIONS = 7


class RunningModelsModel(RecordTableModel[RunningRow]):
    """Launched models keyed by uid; records come from `fetch_running_models`."""

    column_count = len(RunningColumn)

    def set_models(self, rows: list[RunningRow]) -> None:
        self.merge_records(rows)

    def key(self, record: RunningRow) -> str:
        return record.uid

    # -- what a person reads ------------------------------------------------------------------

    def header(self, section: int, role: int) -> Any:
        column = RunningColumn(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                RunningColumn.UID: self.tr("Model ID (UID)"),
                RunningColumn.NAME: self.tr("Model"),
                RunningColumn.TYPE: self.tr("Type"),
                RunningColumn.QUANTIZATION: self.tr("Quality level"),
                RunningColumn.MEMORY: self.tr("Memory used"),
                RunningColumn.DEVICE: self.tr("Runs on"),
                RunningColumn.STATE: self.tr("State"),
                RunningColumn.ACTIONS: self.tr("Actions"),
            }[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {
                RunningColumn.UID: self.tr(
                    'The name other apps use to call this model (the "model" field of API requests)'
                ),
                RunningColumn.NAME: self.tr("Which model was launched"),
                RunningColumn.TYPE: self.tr(
                    "Chat models answer messages; embedding models turn text into numbers for "
                    "search; rerank models sort search results"
                ),
                RunningColumn.QUANTIZATION: self.tr(
                    "Quality / size level (quantization): lower levels such as Q4 use less "
                    "memory, higher ones such as Q8 answer a little better"
                ),
                RunningColumn.MEMORY: self.tr(
                    "Computer memory (RAM) the model's process uses; memory on a graphics card "
                    "is not counted"
                ),
                RunningColumn.DEVICE: self.tr(
                    "Where the model's layers run: on the graphics card (GPU), which is fast, or "
                    "on the processor (CPU)"
                ),
                RunningColumn.STATE: self.tr("Whether the model is ready to answer"),
                RunningColumn.ACTIONS: self.tr("Open in chat, stop or relaunch the model"),
            }[column]
        return None

    def cell(self, row: RunningRow, section: int, role: int) -> Any:
        column = RunningColumn(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == RunningColumn.MEMORY:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == RunningColumn.STATE:
            return {"ready": GREEN, "error": RED, "loading": AMBER}.get(row.state)
        if role == STATE_ROLE:
            return row.state
        if role == PROGRESS_ROLE and column == RunningColumn.STATE:
            return row.progress if row.state == "downloading" else None
        if role == COLOUR_ROLE and column == RunningColumn.STATE:
            return AMBER if row.download_state is JobState.PAUSED else ACCENT
        return None

    def _text(self, row: RunningRow, column: RunningColumn) -> str:
        if column == RunningColumn.UID:
            return row.uid
        if column == RunningColumn.NAME:
            return row.model_name or "–"
        if column == RunningColumn.TYPE:
            return self.type_text(row)
        if column == RunningColumn.QUANTIZATION:
            quant = row.quantization
            if not quant:
                return "–"
            return self.tr("Unknown") if quant == "unknown" else quant
        if column == RunningColumn.MEMORY:
            return human_bytes(row.memory_bytes)
        if column == RunningColumn.DEVICE:
            return self.device_text(row)
        if column == RunningColumn.STATE:
            return self.state_text(row)
        return ""

    def _tooltip(self, row: RunningRow, column: RunningColumn) -> str | None:
        if column == RunningColumn.STATE:
            if row.state == "error":
                return row.error or ""
            return self.state_text(row)
        if column in (RunningColumn.UID, RunningColumn.NAME) and row.model_path:
            return self.tr("File: {0}").format(row.model_path)
        if column == RunningColumn.DEVICE:
            return self.device_tooltip(row)
        return None

    def device_text(self, row: RunningRow) -> str:
        """Where the model runs: "CPU", or "19/19 layers on CUDA0 (NVIDIA H100 80GB HBM3)";
        "–" before it is loaded."""
        offload = row.offload
        if offload is None:
            return "–"
        if not offload.gpu_layers:
            return self.tr("CPU")
        where = ", ".join(
            f"{d.name} ({d.description})" if d.description else d.name
            for d in offload.devices
            if d.layers
        )
        return self.tr("{0}/{1} layers on {2}").format(
            offload.gpu_layers, offload.total_layers, where or self.tr("the GPU")
        )

    def device_tooltip(self, row: RunningRow) -> str | None:
        """Why a model runs where it does, and how much it holds on the graphics card."""
        offload = row.offload
        if offload is None:
            return None
        gpu_layers, total = offload.gpu_layers, offload.total_layers
        if gpu_layers and gpu_layers >= total:
            return self.tr("All {0} layers run on the graphics card, which holds {1} of it").format(
                total, human_bytes(offload.gpu_bytes)
            )
        if gpu_layers:
            return self.tr(
                "{0} of {1} layers run on the graphics card ({2}); the rest run on the "
                "processor, which is slower"
            ).format(gpu_layers, total, human_bytes(offload.gpu_bytes))
        if offload.requested_gpu_layers == 0:
            return self.tr("Launched to run on the processor only (no GPU layers asked for)")
        return self.tr(
            "Runs on the processor: this XinDesk build or this computer has no graphics card "
            "it can use"
        )

    def type_text(self, row: RunningRow) -> str:
        kind = row.model_type
        if kind == "LLM":
            if "chat" in row.abilities:
                return self.tr("Chat (LLM)")
            return self.tr("Text generation (LLM)")
        if kind == "embedding":
            return self.tr("Embedding")
        if kind == "rerank":
            return self.tr("Rerank")
        return kind or "–"

    def state_text(self, row: RunningRow) -> str:
        state = row.state
        if state == "downloading":
            if row.progress is None:
                return self.tr("Downloading…")
            percent = int(row.progress * 100)
            if row.download_state is JobState.PAUSED:
                return self.tr("Download paused at {0}%").format(percent)
            if row.speed:
                return self.tr("Downloading {0}% · {1}").format(percent, human_speed(row.speed))
            return self.tr("Downloading {0}%").format(percent)
        if state == "loading":
            if row.waited is not None:
                return self.tr("Loading into memory… {0}").format(human_duration(row.waited))
            return self.tr("Loading into memory…")
        if state == "error":
            return self.tr("Error: {0}").format(row.error or self.tr("unknown error"))
        if state == "unloaded":
            return self.tr("Unloaded · loads on the next request")
        return self.tr("Ready")

    def keeping_text(self, row: RunningRow) -> str:
        """How the model is kept, in words: "Pinned · loads at start", "Unloads after 30 min
        idle"."""
        parts = []
        if row.pinned:
            parts.append(self.tr("Pinned: never unloaded"))
        elif row.idle_minutes is not None:
            parts.append(self.tr("Unloads after {0} min idle").format(f"{row.idle_minutes:g}"))
        else:
            parts.append(self.tr("Stays loaded"))
        if row.load_at_start:
            parts.append(self.tr("loads when the server starts"))
        return " · ".join(parts)

    def can_chat(self, row: RunningRow) -> bool:
        # An unloaded model loads for the chat's first message.
        return row.state in ("ready", "unloaded") and row.model_type == "LLM"

    # -- the page header's summary ------------------------------------------------------------

    def summary(self) -> str:
        """ "2 ready · 1 loading · 1.2 GB of memory", or nothing when no model runs."""
        states = [row.state for row in self._records]
        parts: list[str] = []
        if ready := states.count("ready"):
            parts.append(self.tr("{0} ready").format(ready))
        if starting := states.count("loading") + states.count("downloading"):
            parts.append(self.tr("{0} starting").format(starting))
        if unloaded := states.count("unloaded"):
            parts.append(self.tr("{0} unloaded").format(unloaded))
        if failed := states.count("error"):
            parts.append(self.tr("{0} stopped with an error").format(failed))
        memory = sum(row.memory_bytes or 0 for row in self._records)
        if memory:
            parts.append(self.tr("{0} of memory").format(human_bytes(memory)))
        return " · ".join(parts)
