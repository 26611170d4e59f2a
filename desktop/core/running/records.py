"""What the supervisor knows of each served model: launched (loading, ready, unloaded or
failed), waiting for its download, or remembered but impossible to bring back."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from desktop.api.common import ModelState, ModelType
from desktop.core.engine.server_side import WorkerHandle
from desktop.core.errors import WrongModelType
from desktop.core.hub.jobs import DownloadJob
from desktop.core.memory.quant import quant_from_filename
from desktop.core.running.launch import LaunchPlan
from desktop.core.running.served import ServiceOptions


@dataclass
class RunningModel:
    """One launched model and what is known about it."""

    plan: LaunchPlan
    service: ServiceOptions = field(default_factory=ServiceOptions)
    handle: WorkerHandle | None = None
    state: ModelState = ModelState.LOADING
    error: str | None = None
    created_ts: int = field(default_factory=lambda: int(time.time()))
    updated_at: float = field(default_factory=time.time)
    #: Set when a load ends (ready or not); cleared when the next load starts.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    #: Why the last load did not happen (not enough memory, say), for the requests waiting.
    load_error: Exception | None = None
    #: RAM and GPU memory the memory estimate gives the loaded model (0 until admitted).
    needs: int = 0
    needs_gpu: int = 0
    #: When a request last used it (time.monotonic), and how many are being answered now.
    last_used: float = field(default_factory=time.monotonic)
    in_flight: int = 0
    #: A request's keep_alive: loaded at least until then (monotonic); inf keeps it for good.
    keep_until: float = 0.0
    #: keep_alive 0: unload once the requests in flight are answered.
    unload_when_idle: bool = False
    #: Times its worker died while serving (monotonic), for the relaunch back-off.
    crashes: list[float] = field(default_factory=list)

    @property
    def crashed(self) -> bool:
        """It stopped with an error because its worker died while serving."""
        return self.state is ModelState.ERROR and bool(self.crashes) and self.load_error is None

    @property
    def uid(self) -> str:
        return self.plan.uid

    @property
    def info(self) -> dict[str, Any]:
        """What the worker reported once loaded (n_ctx, parallel, offload...); empty before."""
        return self.handle.info if self.handle is not None else {}

    @property
    def pid(self) -> int | None:
        return self.handle.pid if self.handle is not None else None

    @property
    def quantization(self) -> str:
        """The catalog spec's level, else the request's, else the one the file name says."""
        plan = self.plan
        if plan.spec is not None:
            return plan.spec.quantization
        asked = plan.request.get("quantization")
        return str(asked or quant_from_filename(plan.model_path.name) or "unknown")

    @property
    def size_in_billions(self) -> int | float | str | None:
        if self.plan.spec is not None:
            return self.plan.spec.model_size_in_billions
        asked = self.plan.request.get("model_size_in_billions")
        return asked if isinstance(asked, int | float | str) else None

    @property
    def context_length(self) -> int:
        """The context the model was loaded with (the plan's until the worker says)."""
        return int(self.info.get("n_ctx") or self.plan.n_ctx)

    @property
    def parallel(self) -> int:
        """Requests decoded together, each with the whole context."""
        return int(self.info.get("parallel") or self.plan.worker.parallel or 1)

    @property
    def dimensions(self) -> int:
        """An embedding model's vector length (0 when nothing says)."""
        plan = self.plan
        return int(
            self.info.get("n_embd") or plan.family.dimensions or plan.gguf.embedding_length or 0
        )

    def resident_bytes(self) -> int | None:
        """Resident (RAM) memory of the worker process, or None without a live process.
        Memory the model holds on a GPU is not counted."""
        handle = self.handle
        if handle is None or not handle.alive or handle.pid is None:
            return None
        import psutil

        try:
            return int(psutil.Process(handle.pid).memory_info().rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None


@dataclass
class PendingDownload:
    """A catalog model launched before it was on disk: downloading, then it launches."""

    uid: str
    request: dict[str, Any]
    job_id: str
    model_name: str
    model_ability: list[str]
    created_ts: int = field(default_factory=lambda: int(time.time()))
    task: asyncio.Task[str] | None = None
    error: str | None = None


@dataclass(frozen=True)
class DownloadState:
    """A pending launch's download as it stands: the job, its figures (bytes done, speed...,
    `DownloadManager.progress`) and the bytes of each file on disk (None until it is whole)."""

    pending: PendingDownload
    job: DownloadJob
    figures: dict[str, Any]
    on_disk: list[int | None]


@dataclass
class UnavailableModel:
    """A remembered model that could not be brought back (its file is gone, say): listed with
    the reason until it is launched again or terminated."""

    uid: str
    model_type: ModelType
    model_name: str
    model_path: str
    error: str
    created_ts: int = field(default_factory=lambda: int(time.time()))


# What each request operation needs of a model: its type, and for chat the chat ability.
_OPERATION_NEEDS: dict[str, ModelType] = {
    "chat": "LLM",
    "count": "LLM",  # a chat prompt's length in tokens
    "complete": "LLM",
    "embed": "embedding",
    "rerank": "rerank",
}


def check_operation(record: RunningModel, op: str) -> None:
    """Raise unless `record` can answer a request `op` (chat, complete, embed, rerank)."""
    plan = record.plan
    needed = _OPERATION_NEEDS[op]
    if plan.model_type != needed:
        raise WrongModelType(record.uid, plan.model_type, needed, model_name=plan.family.model_name)
    if op in ("chat", "count") and "chat" not in plan.family.model_ability:
        raise WrongModelType(
            record.uid, plan.model_type, needed, model_name=plan.family.model_name, lacks="chat"
        )
