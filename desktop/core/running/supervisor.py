"""Running models by uid: launch, terminate, relaunch, what is running, and inference routing.

Lives in the server's asyncio loop. Each model is one worker process (`engine.server_side`); when a
worker dies the model stays listed with its error until it is relaunched or terminated, so a
person can see what happened instead of a model that silently vanished. The records are domain
objects; how the API shows them is `desktop.server.presenters`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.api.common import ModelState, ModelType
from desktop.api.settings import Settings
from desktop.core.catalog import Catalog
from desktop.core.catalog.download import download_catalog_model
from desktop.core.catalog.registry import parse_model_type
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
from desktop.core.hub.jobs import DownloadJob, JobState
from desktop.core.hub.manager import DownloadManager
from desktop.core.memory.hardware import Hardware, probe_hardware
from desktop.core.memory.quant import quant_from_filename
from desktop.core.running.launch import LaunchPlan, plan_launch, validate_uid
from desktop.core.running.memory_check import check_launch_memory
from desktop.core.running.prompt_bounds import check_prompt, cut_inputs
from desktop.core.store import ModelStore

log = logging.getLogger("xindesk.supervisor")


# What each request operation needs of a model: its type, and for chat the chat ability.
_OPERATION_NEEDS: dict[str, ModelType] = {
    "chat": "LLM",
    "complete": "LLM",
    "embed": "embedding",
    "rerank": "rerank",
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


class Supervisor:
    """All running models of one server."""

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        store: ModelStore,
        address: str,
        downloads: DownloadManager | None = None,
        hardware: Callable[[], Hardware] = probe_hardware,
    ) -> None:
        """`hardware` describes the machine as it is now (free RAM and GPU memory), for the
        memory check before each launch."""
        self.catalog = catalog
        self.settings = settings
        self.store = store
        self.address = address
        self.downloads = downloads
        self.hardware = hardware
        self._models: dict[str, RunningModel] = {}
        self._pending: dict[str, PendingDownload] = {}

    def use_settings(self, settings: Settings) -> None:
        """Take changed settings (a listener of the settings store): later launches use them.
        The models folder is the store's, which moves it."""
        self.settings = settings

    # -- launch / terminate ---------------------------------------------------------------------

    async def launch(self, request: dict[str, Any], *, wait_ready: bool = True) -> str:
        """Start a model; with `wait_ready` return only once it answers (or failed).

        A catalog model that is not on disk yet is downloaded first (stage "downloading").
        A model whose memory estimate exceeds the free memory is refused (`NotEnoughMemory`)
        unless the request says `force`.
        """
        uid_asked = request.get("model_uid") or request.get("model_name")
        if isinstance(uid_asked, str) and uid_asked in self._pending:
            raise ModelAlreadyRunning(f"Model is already being downloaded, uid: {uid_asked}")
        try:
            plan = await asyncio.to_thread(
                plan_launch, request, self.catalog, self.settings, self.store
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
        if existing is not None and existing.state is not ModelState.ERROR:
            raise ModelAlreadyRunning(f"Model is already in the model list, uid: {plan.uid}")
        if not plan.force:
            await asyncio.to_thread(self._check_memory, plan)
        if existing is not None:
            # A model that stopped with an error may be launched again under its uid.
            await self._discard(existing)
        record = RunningModel(plan=plan)
        self._models[plan.uid] = record
        record.task = asyncio.create_task(self._load(record), name=f"load-{plan.uid}")
        if wait_ready:
            await self._wait_loaded(record)
        return plan.uid

    def _check_memory(self, plan: LaunchPlan) -> None:
        need = check_launch_memory(plan, self.hardware())
        if need is not None:
            log.info(
                "launch %s: needs %d MiB of RAM and %d MiB of GPU memory (%d and %s free)",
                plan.uid,
                need.ram >> 20,
                need.gpu >> 20,
                need.ram_free >> 20,
                "unknown" if need.gpu_free is None else need.gpu_free >> 20,
            )

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
            self.store.models_dir,
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
        record = self.get(uid)
        request = dict(record.plan.request)
        await self._discard(
            record,
            f"Model {uid} is being relaunched; send the request again once it is ready.",
            "model_relaunched",
        )
        self._models.pop(uid, None)
        return await self.launch(request, wait_ready=wait_ready)

    async def terminate(self, uid: str) -> None:
        record = self.get(uid)
        self._models.pop(uid, None)
        await self._discard(
            record,
            f"Model {uid} was terminated while this answer was being generated.",
            "model_terminated",
        )

    async def _discard(
        self,
        record: RunningModel,
        reason: str = "The model was stopped.",
        code: str = "model_terminated",
    ) -> None:
        """Stop a model's worker; its requests in flight end with `reason` and `code`."""
        if record.task is not None and not record.task.done():
            record.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await record.task
        if record.handle is not None:
            await record.handle.stop(reason=reason, code=code)

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
        reason = "The server is shutting down; send the request again once it is back."
        await asyncio.gather(
            *(self._discard(r, reason, "server_shutdown") for r in records),
            return_exceptions=True,
        )

    # -- queries ---------------------------------------------------------------------------------

    def get(self, uid: str) -> RunningModel:
        """The launched model `uid` (raises UnknownModelUID)."""
        record = self._models.get(uid)
        if record is None:
            raise UnknownModelUID(uid, sorted(self._models))
        return record

    def uids(self) -> list[str]:
        return list(self._models)

    def models(self) -> list[RunningModel]:
        """Every launched model, in launch order (not those still downloading)."""
        return list(self._models.values())

    def pending_downloads(self) -> list[PendingDownload]:
        """Launches waiting for their files to download."""
        return list(self._pending.values())

    def launch_state(self, uid: str) -> DownloadState | RunningModel | None:
        """Where the launch of `uid` is: downloading, launched (loading, ready or failed), or
        None when nothing by that uid is known."""
        pending = self._pending.get(uid)
        if pending is not None and self.downloads is not None:
            job = self.downloads.get(pending.job_id)
            return DownloadState(
                pending=pending,
                job=job,
                figures=self.downloads.progress(pending.job_id),
                on_disk=[
                    dest.stat().st_size if dest.is_file() else None for dest in job.destinations
                ],
            )
        return self._models.get(uid)

    def running_files(self) -> list[tuple[RunningModel, Path]]:
        return [(r, r.plan.model_path) for r in self._models.values()]

    # -- inference -------------------------------------------------------------------------------

    def _for_route(self, uid: str, op: str) -> WorkerHandle:
        record = self._models.get(uid)
        if record is None:
            raise UnknownModelUID(uid, sorted(self._models))
        plan = record.plan
        needed = _OPERATION_NEEDS[op]
        if plan.model_type != needed:
            raise WrongModelType(uid, plan.model_type, needed, model_name=plan.family.model_name)
        if op == "chat" and "chat" not in plan.family.model_ability:
            raise WrongModelType(
                uid, plan.model_type, needed, model_name=plan.family.model_name, lacks="chat"
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
        """Events of a chat or completion request (raises before the first one if impossible,
        and at once for a prompt whose bytes alone cannot fit the context)."""
        handle = self._for_route(uid, op)
        check_prompt(op, params, handle.info)
        return handle.stream(op, params)

    async def call(self, uid: str, op: str, params: dict[str, Any]) -> dict[str, Any]:
        """An embedding or rerank request; texts far past the context are cut first (the worker
        truncates them to the context anyway)."""
        handle = self._for_route(uid, op)
        return await handle.call(op, cut_inputs(op, params, handle.info))
