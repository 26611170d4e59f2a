"""Running models by uid: launch, describe, terminate, relaunch, and inference routing.

Lives in the server's asyncio loop. Each model is one worker process (`engine.server_side`); when a
worker dies the model stays listed with its error until it is relaunched or terminated, so a
person can see what happened instead of a model that silently vanished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from desktop.api.settings import Settings
from desktop.core.catalog import Catalog
from desktop.core.catalog.download import download_catalog_model
from desktop.core.catalog.families import ENGINE_NAME, GGUF_FORMAT
from desktop.core.catalog.registry import parse_model_type, with_article
from desktop.core.engine.server_side import Event, WorkerHandle
from desktop.core.errors import (
    HubUnreachable,
    InvalidRequest,
    LaunchCancelled,
    ModelAlreadyRunning,
    ModelFileMissing,
    ModelLoadError,
    ModelNotReady,
    UnknownModelUID,
    WrongModelType,
)
from desktop.core.hub.jobs import JobState
from desktop.core.hub.manager import DownloadManager
from desktop.core.memory.quant import quant_from_filename
from desktop.core.running.launch import LaunchPlan, plan_launch, validate_uid

log = logging.getLogger("xindesk.supervisor")


class ModelState(Enum):
    LOADING = "loading"
    READY = "ready"
    ERROR = "error"


# Xinference's InstanceInfo statuses for each state.
_INSTANCE_STATUS = {
    ModelState.LOADING: "LOADING",
    ModelState.READY: "READY",
    ModelState.ERROR: "ERROR",
}

_ROUTE_NEEDS = {
    "chat": ("LLM", "a chat (LLM)"),
    "complete": ("LLM", "a text-generation (LLM)"),
    "embed": ("embedding", "an embedding"),
    "rerank": ("rerank", "a rerank"),
}


@dataclass
class RunningModel:
    """One launched model and what is known about it."""

    plan: LaunchPlan
    handle: WorkerHandle | None = None
    state: ModelState = ModelState.LOADING
    error: str | None = None
    created_ts: int = field(default_factory=lambda: int(time.time()))
    updated_at: float = field(default_factory=time.time)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def uid(self) -> str:
        return self.plan.uid


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


class Supervisor:
    """All running models of one server."""

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        models_dir: Path,
        address: str,
        downloads: DownloadManager | None = None,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.models_dir = models_dir
        self.address = address
        self.downloads = downloads
        self._models: dict[str, RunningModel] = {}
        self._pending: dict[str, PendingDownload] = {}

    def use_settings(self, settings: Settings, models_dir: Path) -> None:
        """Take changed settings (a listener of the settings store): later launches use them."""
        self.settings = settings
        self.models_dir = models_dir

    # -- launch / terminate ---------------------------------------------------------------------

    async def launch(self, request: dict[str, Any], *, wait_ready: bool = True) -> str:
        """Start a model; with `wait_ready` return only once it answers (or failed).

        A catalog model that is not on disk yet is downloaded first (stage "downloading").
        """
        uid_asked = request.get("model_uid") or request.get("model_name")
        if isinstance(uid_asked, str) and uid_asked in self._pending:
            raise ModelAlreadyRunning(f"Model is already being downloaded, uid: {uid_asked}")
        try:
            plan = await asyncio.to_thread(
                plan_launch, request, self.catalog, self.settings, self.models_dir
            )
        except ModelFileMissing as missing:
            if self.downloads is None or request.get("model_path"):
                raise
            try:
                return await self._download_then_launch(request, wait_ready=wait_ready)
            except HubUnreachable as exc:
                # Offline: say both what is missing (and how to fetch it later) and why not now.
                raise HubUnreachable(f"{missing} Downloading it now failed: {exc}") from exc
        existing = self._models.get(plan.uid)
        if existing is not None:
            if existing.state is not ModelState.ERROR:
                raise ModelAlreadyRunning(f"Model is already in the model list, uid: {plan.uid}")
            # A model that stopped with an error may be launched again under its uid.
            await self._discard(existing)
        record = RunningModel(plan=plan)
        self._models[plan.uid] = record
        record.task = asyncio.create_task(self._load(record), name=f"load-{plan.uid}")
        if wait_ready:
            await self._wait_loaded(record)
        return plan.uid

    async def _download_then_launch(self, request: dict[str, Any], *, wait_ready: bool) -> str:
        manager = self.downloads
        assert manager is not None
        name = str(request.get("model_name") or "").strip()
        uid = validate_uid(str(request.get("model_uid") or name))
        if uid in self._models and self._models[uid].state is not ModelState.ERROR:
            raise ModelAlreadyRunning(f"Model is already in the model list, uid: {uid}")
        model_type = parse_model_type(request.get("model_type"))
        job, _spec = await asyncio.to_thread(
            download_catalog_model,
            manager,
            self.catalog,
            self.models_dir,
            model_type=model_type,
            name=name,
            size=request.get("model_size_in_billions"),
            quantization=request.get("quantization"),
            source=request.get("download_hub") or self.settings.downloads.source,
        )
        family = self.catalog.find(model_type, name)
        pending = PendingDownload(
            uid=uid,
            request=dict(request),
            job_id=job.id,
            model_name=name,
            model_ability=list(family.model_ability) if family else [],
        )
        self._pending[uid] = pending
        log.info("model %s is not downloaded yet; downloading (job %s)", uid, job.id)
        pending.task = asyncio.create_task(self._finish_download(pending), name=f"dl-{uid}")
        if not wait_ready:
            return uid
        return await asyncio.shield(pending.task)

    async def _finish_download(self, pending: PendingDownload) -> str:
        manager = self.downloads
        assert manager is not None
        try:
            while True:
                job = await asyncio.to_thread(manager.wait, pending.job_id, 1.0)
                if job.state is JobState.COMPLETED:
                    break
                if job.state is JobState.CANCELLED:
                    raise LaunchCancelled("Launch cancelled")
                if job.state is JobState.FAILED:
                    raise ModelLoadError(f"Download failed: {job.error}")
        except BaseException as exc:
            pending.error = str(exc)
            self._pending.pop(pending.uid, None)
            raise
        self._pending.pop(pending.uid, None)
        # Launch the very file that was downloaded: the repository's names may differ from the
        # catalog's template, and a by-name lookup must never start the download again.
        request = {**pending.request, "model_path": str(job.destinations[0])}
        return await self.launch(request, wait_ready=True)

    async def _wait_loaded(self, record: RunningModel) -> None:
        await record.ready.wait()
        if record.state is ModelState.ERROR:
            if record.error == "Launch cancelled":
                raise LaunchCancelled("Launch cancelled")
            raise ModelLoadError(record.error or "The model failed to load.")

    async def _load(self, record: RunningModel) -> None:
        handle = WorkerHandle(record.plan.worker, on_exit=self._on_worker_exit)
        record.handle = handle
        started = time.monotonic()
        try:
            info = await handle.start()
        except ModelLoadError as exc:
            if record.state is ModelState.LOADING:
                self._fail(record, str(exc))
            await handle.stop(grace=2)
        except asyncio.CancelledError:
            handle.kill()
            self._fail(record, "Launch cancelled")
            raise
        else:
            record.state = ModelState.READY
            record.updated_at = time.time()
            log.info("model %s ready in %.2fs (%s)", record.uid, time.monotonic() - started, info)
        finally:
            record.ready.set()

    def _fail(self, record: RunningModel, message: str) -> None:
        record.state = ModelState.ERROR
        record.error = message
        record.updated_at = time.time()
        record.ready.set()
        log.error("model %s: %s", record.uid, message)

    def _on_worker_exit(self, handle: WorkerHandle, reason: str) -> None:
        for record in self._models.values():
            if record.handle is handle and record.state is ModelState.READY:
                self._fail(record, reason + " Relaunch the model to use it again.")

    async def relaunch(self, uid: str, *, wait_ready: bool = True) -> str:
        """Launch a model again with the request that launched it (after an error, say)."""
        record = self._get(uid)
        request = dict(record.plan.request)
        await self._discard(record)
        self._models.pop(uid, None)
        return await self.launch(request, wait_ready=wait_ready)

    async def terminate(self, uid: str) -> None:
        record = self._get(uid)
        self._models.pop(uid, None)
        await self._discard(record)

    async def _discard(self, record: RunningModel) -> None:
        if record.task is not None and not record.task.done():
            record.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await record.task
        if record.handle is not None:
            await record.handle.stop()

    async def cancel_launch(self, uid: str) -> None:
        pending = self._pending.get(uid)
        if pending is not None and self.downloads is not None:
            # The partial files stay: launching the same model again resumes the download.
            await asyncio.to_thread(self.downloads.cancel, pending.job_id, delete_files=False)
            return
        record = self._models.get(uid)
        if record is None or record.state is not ModelState.LOADING:
            raise InvalidRequest(f"Model {uid} has not been launched yet")
        if record.task is not None:
            record.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await record.task
        self._fail(record, "Launch cancelled")

    async def shutdown(self) -> None:
        for pending in list(self._pending.values()):
            if pending.task is not None:
                pending.task.cancel()
        self._pending.clear()
        records = list(self._models.values())
        self._models.clear()
        await asyncio.gather(*(self._discard(r) for r in records), return_exceptions=True)

    # -- queries ---------------------------------------------------------------------------------

    def _get(self, uid: str) -> RunningModel:
        record = self._models.get(uid)
        if record is None:
            raise UnknownModelUID(uid, sorted(self._models))
        return record

    def uids(self) -> list[str]:
        return list(self._models)

    def describe(self, uid: str) -> dict[str, Any]:
        return self._describe(self._get(uid))

    def list_models(self) -> list[dict[str, Any]]:
        return [
            {
                "id": r.uid,
                "object": "model",
                "created": 0,
                "owned_by": "xinference",
                **self._describe(r),
            }
            for r in self._models.values()
        ]

    def _describe(self, record: RunningModel) -> dict[str, Any]:
        plan = record.plan
        family = plan.family
        spec = plan.spec
        quant = (
            spec.quantization
            if spec
            else plan.request.get("quantization")
            or quant_from_filename(plan.model_path.name)
            or "unknown"
        )
        common: dict[str, Any] = {
            "model_type": plan.model_type,
            "address": self.address,
            "accelerators": [],
            "model_name": family.model_name,
            "model_engine": ENGINE_NAME,
            "model_format": GGUF_FORMAT,
            "quantization": quant,
            "replica": 1,
        }
        info = record.handle.info if record.handle is not None else {}
        n_ctx = int(info.get("n_ctx") or plan.n_ctx)
        if plan.model_type == "LLM":
            desc = {
                **common,
                "model_lang": family.model_lang,
                "model_ability": family.model_ability,
                "model_description": family.model_description,
                "model_size_in_billions": spec.model_size_in_billions
                if spec
                else plan.request.get("model_size_in_billions"),
                "model_family": family.model_family or family.model_name,
                "multimodal_projector": None,
                "model_hub": spec.model_hub if spec else "local",
                "revision": spec.model_revision if spec else None,
                "context_length": n_ctx,
                "strict_system_first": False,
                "n_worker": 1,
                # XinDesk: requests decoded together, each with the whole context_length.
                "parallel": int(info.get("parallel") or plan.worker.parallel or 1),
                "parallel_reason": plan.parallel_reason,
                # XinDesk: the engine settings that decide speed and memory.
                "flash_attn": plan.worker.llama_kwargs.get("flash_attn", "auto"),
                "cache_type_k": plan.worker.llama_kwargs.get("type_k", "f16"),
                "cache_type_v": plan.worker.llama_kwargs.get("type_v", "f16"),
                "speculative": plan.worker.speculative,
                "draft_max": plan.worker.draft_max,
                "draft_model_path": plan.worker.draft_model_path,
            }
        elif plan.model_type == "embedding":
            desc = {
                **common,
                "dimensions": int(
                    info.get("n_embd") or family.dimensions or plan.gguf.embedding_length or 0
                ),
                "max_tokens": n_ctx,
                "language": family.language or ["en"],
                "model_hub": spec.model_hub if spec else "local",
                "model_revision": spec.model_revision if spec else None,
            }
        else:
            desc = {
                **common,
                "type": "LLM-based" if plan.worker.rerank_kind == "llm-yes-no" else "normal",
                "language": family.language or ["en"],
                "model_revision": spec.model_revision if spec else None,
            }
        # XinDesk's own fields (clients that do not know them ignore them).
        desc.update(
            {
                "status": record.state.value,
                "error": record.error,
                "model_path": str(plan.model_path),
                "architecture": plan.gguf.architecture,
                "chat_template_source": info.get("template_source"),
                "worker_pid": record.handle.pid if record.handle else None,
                "memory_bytes": _resident_bytes(record.handle),
                # Where llama.cpp put the layers (engine.offload): None until loaded.
                "offload": info.get("offload"),
            }
        )
        desc["accelerators"] = _accelerators(info.get("offload"))
        return desc

    def _download_progress(self, pending: PendingDownload) -> dict[str, Any]:
        assert self.downloads is not None
        job = self.downloads.get(pending.job_id)
        figures = self.downloads.progress(pending.job_id)
        # Downloading is most of a launch's wait; loading takes the last few percent.
        progress = round(0.95 * float(figures["progress"]), 4)
        files = [
            {
                "file": file.path,
                "size": file.size,
                "downloaded": dest.stat().st_size if dest.is_file() else None,
            }
            for file, dest in zip(job.files, job.destinations, strict=True)
        ]
        info = f"Downloading {job.label} from {job.hub}: {job.state}"
        if job.error:
            info += f" ({job.error})"
        replica = {
            "replica_id": 0,
            "replica_model_uid": f"{pending.uid}-rep0",
            "progress": progress,
            "stage": "downloading",
            "info": info,
            "updated_at": time.time(),
            "download_files": files,
        }
        return {
            "progress": progress,
            "stage": "downloading",
            "download_files": files,
            "replicas": [replica],
            "download": {"job_id": job.id, "state": str(job.state), **figures},
        }

    def progress(self, uid: str) -> dict[str, Any]:
        pending = self._pending.get(uid)
        if pending is not None and self.downloads is not None:
            return self._download_progress(pending)
        record = self._models.get(uid)
        if record is None:
            return {"progress": 0.0, "stage": "pending", "download_files": [], "replicas": []}
        progress = 1.0 if record.state is ModelState.READY else 0.0
        stage = "loading"
        info = {
            ModelState.LOADING: "Loading model",
            ModelState.READY: "Ready",
            ModelState.ERROR: record.error or "Error",
        }[record.state]
        return {
            "progress": progress,
            "stage": stage,
            "download_files": [],
            "replicas": [
                {
                    "replica_id": 0,
                    "replica_model_uid": f"{uid}-rep0",
                    "progress": progress,
                    "stage": stage,
                    "info": info,
                    "updated_at": record.updated_at,
                    "download_files": [],
                }
            ],
        }

    def instances(
        self, model_name: str | None = None, model_uid: str | None = None
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for pending in self._pending.values():
            if model_uid and pending.uid != model_uid:
                continue
            if model_name and pending.model_name != model_name:
                continue
            out.append(
                {
                    "model_name": pending.model_name,
                    "model_uid": pending.uid,
                    "model_version": None,
                    "model_ability": pending.model_ability,
                    "replica": 1,
                    "status": "CREATING",
                    "instance_created_ts": pending.created_ts,
                    "n_worker": 1,
                    "replica_statuses": [],
                }
            )
        for record in self._models.values():
            if model_uid and record.uid != model_uid:
                continue
            if model_name and record.plan.family.model_name != model_name:
                continue
            status = _INSTANCE_STATUS[record.state]
            out.append(
                {
                    "model_name": record.plan.family.model_name,
                    "model_uid": record.uid,
                    "model_version": None,
                    "model_ability": record.plan.family.model_ability,
                    "replica": 1,
                    "status": status,
                    "instance_created_ts": record.created_ts,
                    "n_worker": 1,
                    "replica_statuses": [
                        {
                            "replica_id": 0,
                            "replica_model_uid": f"{record.uid}-rep0",
                            "worker_address": self.address,
                            "status": status,
                            "model_state": record.state.value,
                            "created_ts": record.created_ts,
                            "error_message": record.error,
                            "replica_uid": None,
                            "gpu_idx": None,
                        }
                    ],
                }
            )
        return out

    def running_files(self) -> list[tuple[RunningModel, Path]]:
        return [(r, r.plan.model_path) for r in self._models.values()]

    # -- inference -------------------------------------------------------------------------------

    def _for_route(self, uid: str, op: str) -> WorkerHandle:
        record = self._models.get(uid)
        if record is None:
            raise UnknownModelUID(uid, sorted(self._models))
        needed, label = _ROUTE_NEEDS[op]
        if record.plan.model_type != needed:
            route = {
                "chat": "/v1/chat/completions",
                "complete": "/v1/completions",
                "embed": "/v1/embeddings",
                "rerank": "/v1/rerank",
            }[op]
            raise WrongModelType(
                f"Model {uid} is {with_article(record.plan.model_type)} model; "
                f"{route} needs {label} model. Launch one with "
                f"model_type={needed!r} (a catalog model, or this file again with model_path)."
            )
        if op == "chat" and "chat" not in record.plan.family.model_ability:
            raise WrongModelType(
                f"Model {uid} ({record.plan.family.model_name}) is not a chat model; use "
                f"/v1/completions with it."
            )
        if record.state is ModelState.LOADING:
            raise ModelNotReady(f"Model is loading, please retry later: {uid}", retry_after=30)
        if record.state is ModelState.ERROR or record.handle is None:
            raise ModelNotReady(
                f"Model {uid} is stopped: {record.error} Relaunch it (POST /v1/models with the "
                f"same model_uid, or `xindesk launch`)."
            )
        return record.handle

    def stream(self, uid: str, op: str, params: dict[str, Any]) -> AsyncGenerator[Event, None]:
        """Events of a chat or completion request (raises before the first one if impossible)."""
        return self._for_route(uid, op).stream(op, params)

    async def call(self, uid: str, op: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self._for_route(uid, op).call(op, params)


def _accelerators(offload: Any) -> list[str]:
    """Xinference's `accelerators`: the GPU indices the model uses ("CUDA0" -> "0")."""
    if not isinstance(offload, dict) or not offload.get("gpu_layers"):
        return []
    names = [str(row.get("name", "")) for row in offload.get("devices") or [] if row.get("layers")]
    return [name[len(name.rstrip("0123456789")) :] or name for name in names]


def _resident_bytes(handle: WorkerHandle | None) -> int | None:
    """Resident (RAM) memory of a model's worker process, or None without a live process.
    Memory the model holds on a GPU is not counted."""
    if handle is None or not handle.alive or handle.pid is None:
        return None
    import psutil

    try:
        return int(psutil.Process(handle.pid).memory_info().rss)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
