"""The server's launched models as a table: UID, model, type, quantization, memory, state.

`fetch_running_models` (run off the GUI thread) gathers one row per model from three routes:
`GET /v1/models` describes launched models (state, error, memory), `GET /v1/models/instances`
also lists catalog models still downloading before they load, and `GET /v1/models/{uid}/progress`
gives those downloads' figures. `RunningModelsModel` shows the rows, updated in place by uid.
"""

from __future__ import annotations

import time
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

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

STATES = ("downloading", "loading", "ready", "error")


def _blank_row(uid: str) -> dict[str, Any]:
    return {
        "uid": uid,
        "model_name": None,
        "model_type": None,
        "quantization": None,
        "memory_bytes": None,
        "state": "ready",
        "error": None,
        "abilities": [],
        "context_length": None,
        "model_path": None,
        "created_ts": None,
        "waited": None,
        "progress": None,
        "download_state": None,
        "downloaded_bytes": None,
        "total_bytes": None,
        "speed": None,
        "eta": None,
        "offload": None,
    }


def row_from_description(desc: dict[str, Any]) -> dict[str, Any]:
    """One row from a `GET /v1/models` item (XinDesk adds status, error and memory_bytes)."""
    row = _blank_row(str(desc.get("id") or desc.get("model_uid")))
    state = str(desc.get("status") or "ready")
    row.update(
        {
            "model_name": desc.get("model_name"),
            "model_type": desc.get("model_type"),
            "quantization": desc.get("quantization"),
            "memory_bytes": desc.get("memory_bytes"),
            "state": state if state in STATES else "ready",
            "error": desc.get("error"),
            "abilities": list(desc.get("model_ability") or []),
            "context_length": desc.get("context_length") or desc.get("max_tokens"),
            "model_path": desc.get("model_path"),
            # Where llama.cpp put the layers (GPU or CPU), once loaded.
            "offload": desc.get("offload"),
        }
    )
    return row


def row_from_instance(instance: dict[str, Any]) -> dict[str, Any]:
    """A row for a model the server lists only as an instance: a catalog model downloading."""
    row = _blank_row(str(instance.get("model_uid")))
    abilities = list(instance.get("model_ability") or [])
    row.update(
        {
            "model_name": instance.get("model_name"),
            "model_type": "LLM" if {"chat", "generate"} & set(abilities) else None,
            "state": "downloading",
            "abilities": abilities,
            "created_ts": instance.get("instance_created_ts"),
        }
    )
    return row


def apply_progress(row: dict[str, Any], progress: dict[str, Any]) -> None:
    """Fill a downloading row's figures from `GET /v1/models/{uid}/progress`."""
    download = progress.get("download")
    if isinstance(download, dict):
        row.update(
            {
                "progress": float(download.get("progress") or 0.0),
                "download_state": download.get("state"),
                "downloaded_bytes": download.get("downloaded_bytes"),
                "total_bytes": download.get("total_bytes"),
                "speed": download.get("speed_bytes_per_second"),
                "eta": download.get("eta_seconds"),
            }
        )
    else:
        row["progress"] = float(progress.get("progress") or 0.0)


def fetch_running_models(client: XinDeskClient) -> list[dict[str, Any]]:
    """Every launched or launching model, as rows for `RunningModelsModel` (blocking)."""
    rows = [row_from_description(desc) for desc in client.list_models()]
    by_uid = {row["uid"]: row for row in rows}
    for instance in client.instances():
        uid = str(instance.get("model_uid"))
        if uid in by_uid:
            by_uid[uid]["created_ts"] = instance.get("instance_created_ts")
        elif instance.get("status") == "CREATING":
            row = row_from_instance(instance)
            rows.append(row)
            by_uid[uid] = row
    now = time.time()
    for row in rows:
        if row["state"] == "loading" and row["created_ts"]:
            # Whole seconds: the row changes (and repaints) once a second while it loads.
            row["waited"] = max(0, round(now - float(row["created_ts"])))
        if row["state"] != "downloading":
            continue
        try:
            apply_progress(row, client.progress(row["uid"]))
        except ClientError:
            # It finished or went away between the two calls; the next refresh shows where.
            continue
    return rows


class RunningColumn(IntEnum):
    UID = 0
    NAME = 1
    TYPE = 2
    QUANTIZATION = 3
    MEMORY = 4
    DEVICE = 5
    STATE = 6
    ACTIONS = 7


class RunningModelsModel(RecordTableModel[dict[str, Any]]):
    """Launched models keyed by uid; records come from `fetch_running_models`."""

    column_count = len(RunningColumn)

    def set_models(self, rows: list[dict[str, Any]]) -> None:
        self.merge_records(rows)

    def key(self, record: dict[str, Any]) -> str:
        return str(record["uid"])

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

    def cell(self, row: dict[str, Any], section: int, role: int) -> Any:
        column = RunningColumn(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == RunningColumn.MEMORY:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == RunningColumn.STATE:
            return {"ready": GREEN, "error": RED, "loading": AMBER}.get(str(row["state"]))
        if role == STATE_ROLE:
            return str(row["state"])
        if role == PROGRESS_ROLE and column == RunningColumn.STATE:
            return row["progress"] if row["state"] == "downloading" else None
        if role == COLOUR_ROLE and column == RunningColumn.STATE:
            return AMBER if row.get("download_state") == "paused" else ACCENT
        return None

    def _text(self, row: dict[str, Any], column: RunningColumn) -> str:
        if column == RunningColumn.UID:
            return str(row["uid"])
        if column == RunningColumn.NAME:
            return str(row["model_name"] or "–")
        if column == RunningColumn.TYPE:
            return self.type_text(row)
        if column == RunningColumn.QUANTIZATION:
            quant = row["quantization"]
            if not quant:
                return "–"
            return self.tr("Unknown") if quant == "unknown" else str(quant)
        if column == RunningColumn.MEMORY:
            return human_bytes(row["memory_bytes"])
        if column == RunningColumn.DEVICE:
            return self.device_text(row)
        if column == RunningColumn.STATE:
            return self.state_text(row)
        return ""

    def _tooltip(self, row: dict[str, Any], column: RunningColumn) -> str | None:
        if column == RunningColumn.STATE:
            if row["state"] == "error":
                return str(row["error"] or "")
            return self.state_text(row)
        if column in (RunningColumn.UID, RunningColumn.NAME) and row["model_path"]:
            return self.tr("File: {0}").format(row["model_path"])
        if column == RunningColumn.DEVICE:
            return self.device_tooltip(row)
        return None

    def device_text(self, row: dict[str, Any]) -> str:
        """Where the model runs: "CPU", or "19/19 layers on CUDA0 (NVIDIA H100 80GB HBM3)";
        "–" before it is loaded."""
        offload = row.get("offload")
        if not isinstance(offload, dict):
            return "–"
        gpu_layers = int(offload.get("gpu_layers") or 0)
        if not gpu_layers:
            return self.tr("CPU")
        used = [d for d in offload.get("devices") or [] if d.get("layers")]
        where = ", ".join(
            f"{d['name']} ({d['description']})" if d.get("description") else str(d["name"])
            for d in used
        )
        return self.tr("{0}/{1} layers on {2}").format(
            gpu_layers, offload.get("total_layers"), where or self.tr("the GPU")
        )

    def device_tooltip(self, row: dict[str, Any]) -> str | None:
        """Why a model runs where it does, and how much it holds on the graphics card."""
        offload = row.get("offload")
        if not isinstance(offload, dict):
            return None
        gpu_layers = int(offload.get("gpu_layers") or 0)
        total = int(offload.get("total_layers") or 0)
        if gpu_layers and gpu_layers >= total:
            return self.tr("All {0} layers run on the graphics card, which holds {1} of it").format(
                total, human_bytes(offload.get("gpu_bytes"))
            )
        if gpu_layers:
            return self.tr(
                "{0} of {1} layers run on the graphics card ({2}); the rest run on the "
                "processor, which is slower"
            ).format(gpu_layers, total, human_bytes(offload.get("gpu_bytes")))
        if offload.get("requested_gpu_layers") == 0:
            return self.tr("Launched to run on the processor only (no GPU layers asked for)")
        return self.tr(
            "Runs on the processor: this XinDesk build or this computer has no graphics card "
            "it can use"
        )

    def type_text(self, row: dict[str, Any]) -> str:
        kind = row["model_type"]
        if kind == "LLM":
            if "chat" in row["abilities"]:
                return self.tr("Chat (LLM)")
            return self.tr("Text generation (LLM)")
        if kind == "embedding":
            return self.tr("Embedding")
        if kind == "rerank":
            return self.tr("Rerank")
        return str(kind or "–")

    def state_text(self, row: dict[str, Any]) -> str:
        state = row["state"]
        if state == "downloading":
            if row["progress"] is None:
                return self.tr("Downloading…")
            percent = int(float(row["progress"]) * 100)
            if row.get("download_state") == "paused":
                return self.tr("Download paused at {0}%").format(percent)
            if row.get("speed"):
                return self.tr("Downloading {0}% · {1}").format(percent, human_speed(row["speed"]))
            return self.tr("Downloading {0}%").format(percent)
        if state == "loading":
            if row.get("waited") is not None:
                return self.tr("Loading into memory… {0}").format(human_duration(row["waited"]))
            return self.tr("Loading into memory…")
        if state == "error":
            return self.tr("Error: {0}").format(row["error"] or self.tr("unknown error"))
        return self.tr("Ready")

    def can_chat(self, row: dict[str, Any]) -> bool:
        return bool(row["state"] == "ready" and row["model_type"] == "LLM")

    # -- the page header's summary ------------------------------------------------------------

    def summary(self) -> str:
        """ "2 ready · 1 loading · 1.2 GB of memory", or nothing when no model runs."""
        states = [str(row["state"]) for row in self._records]
        parts: list[str] = []
        if ready := states.count("ready"):
            parts.append(self.tr("{0} ready").format(ready))
        if starting := states.count("loading") + states.count("downloading"):
            parts.append(self.tr("{0} starting").format(starting))
        if failed := states.count("error"):
            parts.append(self.tr("{0} stopped with an error").format(failed))
        memory = sum(int(row["memory_bytes"] or 0) for row in self._records)
        if memory:
            parts.append(self.tr("{0} of memory").format(human_bytes(memory)))
        return " · ".join(parts)
