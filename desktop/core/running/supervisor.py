"""Served models by uid: launch, load and unload, terminate, what is served, and inference
routing.

Lives in the server's asyncio loop. Each loaded model is one worker process
(`engine.server_side`). A served model is remembered across restarts (`served.py`), loaded by
the first request that names it when it is not (JIT), unloaded after its idle time, and never
loaded over the memory left (`admission.py`: idle models are unloaded first, least recently
used). When a worker dies the model stays listed with its error, and the next request
relaunches it, with a back-off and a limit, so a model that keeps crashing does not loop. The
records are domain objects (`records.py`); how the API shows them is
`desktop.server.presenters`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.api.common import ModelState
from desktop.api.settings import Settings
from desktop.core.catalog import Catalog
from desktop.core.engine.server_side import Event, WorkerHandle
from desktop.core.errors import (
    HubUnreachable,
    InvalidRequest,
    LaunchCancelled,
    ModelAlreadyRunning,
    ModelFileMissing,
    ModelLoadError,
    ModelNotReady,
    NotEnoughMemory,
    UnknownModelUID,
    XinDeskError,
)
from desktop.core.hub.manager import DownloadManager
from desktop.core.memory.hardware import Hardware, probe_hardware
from desktop.core.memory.pressure import Pressure, memory_pressure
from desktop.core.running import admission
from desktop.core.running.download_first import DownloadFirst
from desktop.core.running.idle import watch_idle
from desktop.core.running.keep import (
    check_relaunch,
    idle_limit_seconds,
    keep_alive_seconds,
    loads_at_start,
    service_options,
)
from desktop.core.running.launch import plan_launch
from desktop.core.running.prompt_bounds import check_prompt, cut_inputs
from desktop.core.running.records import (
    DownloadState,
    PendingDownload,
    RunningModel,
    UnavailableModel,
    check_operation,
)
from desktop.core.running.served import ServedModel, ServedModels, ServiceOptions
from desktop.core.store import ModelStore
from desktop.core.units import human_bytes

__all__ = ["DownloadState", "PendingDownload", "RunningModel", "Supervisor", "UnavailableModel"]

log = logging.getLogger("xindesk.supervisor")


@dataclass(frozen=True)
class Lifecycle:
    """How the supervisor keeps models: the remembered-models file, how often it looks for
    idle models, and how it reads free memory (state passed in, so tests can set them)."""

    served: ServedModels | None = None
    tick_s: float = 1.0
    #: This machine as it is now: free RAM and GPU memory, for the check before each load.
    hardware: Callable[[], Hardware] = probe_hardware
    #: The system's memory pressure (macOS, Linux); at "warning" idle models are unloaded.
    pressure: Callable[[], Pressure | None] = memory_pressure
    pressure_every_s: float = 5.0


class Supervisor:
    """All served models of one server."""

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        store: ModelStore,
        address: str,
        downloads: DownloadManager | None = None,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        """`hardware` describes the machine as it is now (free RAM and GPU memory), for the
        memory check before each launch."""
        self.catalog = catalog
        self.settings = settings
        self.store = store
        self.address = address
        self.downloads = downloads
        self.lifecycle = lifecycle or Lifecycle()
        self._models: dict[str, RunningModel] = {}
        self._first = DownloadFirst(self)
        self._unavailable: dict[str, UnavailableModel] = {}
        # One load at a time: each is admitted against the memory the others left.
        self._load_lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None

    def use_settings(self, settings: Settings) -> None:
        """Take changed settings (a listener of the settings store): later launches, idle
        times and the memory budget use them. The models folder is the store's."""
        self.settings = settings

    # -- start and stop --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bring back the remembered models and start watching for idle ones."""
        served = self.lifecycle.served
        for entry in await asyncio.to_thread(served.load) if served is not None else []:
            await self._restore(entry)
        self._watcher = asyncio.create_task(watch_idle(self), name="idle-watch")

    async def _restore(self, entry: ServedModel) -> None:
        request = {**entry.request, "model_uid": entry.uid, "model_path": entry.model_path}
        try:
            plan = await asyncio.to_thread(
                plan_launch, request, self.catalog, self.settings, self.store
            )
        except XinDeskError as exc:
            message = f"Cannot be brought back: {exc}"
            self._unavailable[entry.uid] = UnavailableModel(
                uid=entry.uid,
                model_type=entry.model_type,
                model_name=str(entry.request.get("model_name") or entry.uid),
                model_path=entry.model_path,
                error=message,
            )
            log.error("served model %s: %s", entry.uid, message)
            return
        record = RunningModel(plan=plan, service=entry.service, state=ModelState.UNLOADED)
        record.ready.set()
        self._models[plan.uid] = record
        if loads_at_start(entry.service, plan.model_type):
            log.info("loading %s (load at start)", plan.uid)
            self._start_load(record)
        else:
            log.info("served model %s listed unloaded; the first request loads it", plan.uid)

    async def shutdown(self) -> None:
        """Stop every worker; the served models stay remembered for the next start."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        self._first.cancel_all()
        records = list(self._models.values())
        self._models.clear()
        reason = "The server is shutting down; send the request again once it is back."
        await asyncio.gather(
            *(self._discard(r, reason, "server_shutdown") for r in records),
            return_exceptions=True,
        )

    # -- launch / terminate ---------------------------------------------------------------------

    async def launch(self, request: dict[str, Any], *, wait_ready: bool = True) -> str:
        """Start serving a model; with `wait_ready` return only once it answers (or failed).

        A catalog model that is not on disk yet is downloaded first (stage "downloading").
        A model whose memory estimate exceeds the free memory is refused (`NotEnoughMemory`)
        unless the request says `force`.
        """
        uid_asked = request.get("model_uid") or request.get("model_name")
        if isinstance(uid_asked, str) and uid_asked in self._first.pending:
            raise ModelAlreadyRunning(f"Model is already being downloaded, uid: {uid_asked}")
        service = service_options(request)
        await self.store.look_at_given_files(request)
        try:
            plan = await asyncio.to_thread(
                plan_launch, request, self.catalog, self.settings, self.store
            )
        except ModelFileMissing as missing:
            if self.downloads is None or request.get("model_path"):
                raise
            try:
                return await self._first.launch(request, wait_ready=wait_ready)
            except HubUnreachable as exc:
                # Offline: say both what is missing (and how to fetch it later) and why not now.
                raise HubUnreachable(f"{missing} Downloading it now failed: {exc}") from exc
        existing = self._models.get(plan.uid)
        if existing is not None and existing.state is not ModelState.ERROR:
            raise ModelAlreadyRunning(f"Model is already in the model list, uid: {plan.uid}")
        record = RunningModel(plan=plan, service=service, state=ModelState.UNLOADED)
        if not plan.force:
            # Refused here, before it is listed or remembered, when even unloading every idle
            # model would leave too little memory (`force` skips the check).
            async with self._load_lock:
                await self._admit(record)
        if existing is not None:
            # A model that stopped with an error may be launched again under its uid.
            await self._discard(existing)
        self._unavailable.pop(plan.uid, None)
        self._models[plan.uid] = record
        self._start_load(record, force=True, remember=True)
        if wait_ready:
            await self._wait_loaded(record)
        return plan.uid

    async def _wait_loaded(self, record: RunningModel) -> None:
        await record.ready.wait()
        if record.state is ModelState.READY:
            return
        if record.load_error is not None:
            raise record.load_error
        if record.error == "Launch cancelled":
            raise LaunchCancelled("Launch cancelled")
        raise ModelLoadError(record.error or "The model failed to load.")

    def _start_load(
        self, record: RunningModel, *, force: bool = False, remember: bool = False
    ) -> None:
        """Load `record` in the background unless a load of it is under way."""
        if record.task is not None and not record.task.done():
            return
        record.state = ModelState.LOADING
        record.load_error = None
        record.updated_at = time.time()
        record.ready.clear()
        record.task = asyncio.create_task(
            self._load(record, force=force, remember=remember), name=f"load-{record.uid}"
        )

    async def _load(self, record: RunningModel, *, force: bool, remember: bool) -> None:
        try:
            async with self._load_lock:
                if not force:
                    await self._admit(record)
                await self._start_worker(record)
            if record.state is ModelState.READY and remember:
                self._remember(record)
        except NotEnoughMemory as exc:
            # Not loaded, nothing broken: it stays served, unloaded, and says why.
            record.state = ModelState.UNLOADED
            record.load_error = exc
            record.error = str(exc)
            log.warning("model %s not loaded: %s", record.uid, exc)
            if remember:
                self._remember(record)
        finally:
            record.ready.set()

    async def _admit(self, record: RunningModel) -> None:
        """Make room for `record`: unload idle models, least recently used first."""
        need = await asyncio.to_thread(admission.memory_need, record.plan, self.lifecycle.hardware)
        if need is None:
            return
        record.needs, record.needs_gpu = need.ram, need.gpu
        now = time.monotonic()
        loaded = [
            admission.Loaded(
                uid=other.uid,
                ram=other.needs,
                gpu=other.needs_gpu,
                last_used=other.last_used,
                evictable=self.evictable(other, now),
            )
            for other in self._models.values()
            if other is not record and other.state in (ModelState.READY, ModelState.LOADING)
        ]
        evict = admission.plan_evictions(record.plan, need, self.settings, loaded)
        for uid in evict:
            await self.unload_record(self._models[uid], f"to make room for {record.uid}")

    def evictable(self, record: RunningModel, now: float) -> bool:
        """Whether `record` may be unloaded now: loaded, not pinned, answering nothing, its
        keep_alive over."""
        return (
            record.state is ModelState.READY
            and record.handle is not None
            and not record.service.pinned
            and record.in_flight == 0
            and record.keep_until <= now
        )

    async def _start_worker(self, record: RunningModel) -> None:
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
            record.error = None
            record.updated_at = time.time()
            record.last_used = time.monotonic()
            log.info("model %s ready in %.2fs (%s)", record.uid, time.monotonic() - started, info)

    def _fail(self, record: RunningModel, message: str) -> None:
        record.state = ModelState.ERROR
        record.error = message
        record.updated_at = time.time()
        record.ready.set()
        log.error("model %s: %s", record.uid, message)

    def _on_worker_exit(self, handle: WorkerHandle, reason: str) -> None:
        for record in self._models.values():
            if record.handle is handle and record.state is ModelState.READY:
                record.crashes.append(time.monotonic())
                self._fail(record, reason + " The next request relaunches it.")

    def _remember(self, record: RunningModel) -> None:
        served = self.lifecycle.served
        if served is None:
            return
        served.remember(
            ServedModel(
                uid=record.uid,
                model_type=record.plan.model_type,
                request={k: v for k, v in record.plan.request.items() if k != "force"},
                model_path=str(record.plan.model_path),
                service=record.service,
            )
        )

    async def serve_unloaded(self, request: dict[str, Any]) -> str:
        """Serve a model without loading it (a pulled model): listed unloaded and remembered,
        the first request loads it. Serving an uid that is served already changes nothing."""
        plan = await asyncio.to_thread(
            plan_launch, request, self.catalog, self.settings, self.store
        )
        if plan.uid not in self._models:
            record = RunningModel(
                plan=plan, service=service_options(request), state=ModelState.UNLOADED
            )
            record.ready.set()
            self._models[plan.uid] = record
            self._unavailable.pop(plan.uid, None)
            self._remember(record)
        return plan.uid

    async def relaunch(self, uid: str, *, wait_ready: bool = True) -> str:
        """Launch a model again with the request that launched it (after an error, say)."""
        record = self.get(uid)
        request = {**record.plan.request, **record.service.model_dump(exclude_none=True)}
        await self._discard(
            record,
            f"Model {uid} is being relaunched; send the request again once it is ready.",
            "model_relaunched",
        )
        self._models.pop(uid, None)
        return await self.launch(request, wait_ready=wait_ready)

    async def terminate(self, uid: str) -> None:
        """Stop serving `uid` and forget it."""
        unavailable = self._unavailable.pop(uid, None)
        record = self._models.pop(uid, None)
        if record is None and unavailable is None:
            raise UnknownModelUID(uid, self.uids())
        if self.lifecycle.served is not None:
            await asyncio.to_thread(self.lifecycle.served.forget, uid)
        if record is not None:
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
        pending = self._first.pending.get(uid)
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

    # -- load / unload / keep -------------------------------------------------------------------

    async def load(self, uid: str, *, force: bool = False) -> None:
        """Load a served model now (unloaded, or stopped with an error) and wait for it."""
        record = self.get(uid)
        if record.state is ModelState.READY:
            return
        self._start_load(record, force=force)
        await self._wait_loaded(record)

    async def unload(self, uid: str) -> None:
        """Stop the worker of a loaded model and free its memory; it stays served."""
        record = self.get(uid)
        if record.state is ModelState.LOADING:
            raise InvalidRequest(f"Model {uid} is loading; cancel the launch instead.")
        if record.state is ModelState.READY:
            await self.unload_record(record, "asked to")

    async def unload_record(self, record: RunningModel, why: str) -> None:
        """Stop `record`'s worker and free its memory; `why` goes into the log."""
        freed = record.resident_bytes()
        handle = record.handle
        # No request takes the worker from here on; "unloaded" is said once it is gone.
        record.handle = None
        if handle is not None:
            await handle.stop(
                reason=f"Model {record.uid} was unloaded ({why}); send the request again.",
                code="model_unloaded",
            )
        record.state = ModelState.UNLOADED
        record.updated_at = time.time()
        log.info("unloaded %s %s; freed %s", record.uid, why, human_bytes(freed or record.needs))

    def set_service(self, uid: str, changes: dict[str, Any]) -> ServiceOptions:
        """Change how a served model is kept (pinned, load at start, idle minutes)."""
        record = self.get(uid)
        merged = {**record.service.model_dump(), **changes}
        record.service = service_options(merged)
        if record.state is ModelState.READY or self.lifecycle.served is not None:
            self._remember(record)
        return record.service

    def idle_limit(self, record: RunningModel) -> float | None:
        """Seconds unused after which `record` is unloaded; None when never."""
        return idle_limit_seconds(record.service, record.plan.model_type, self.settings)

    # -- queries ---------------------------------------------------------------------------------

    def get(self, uid: str) -> RunningModel:
        """The served model `uid` (raises UnknownModelUID)."""
        record = self._models.get(uid)
        if record is None:
            raise UnknownModelUID(uid, self.uids())
        return record

    def find(self, uid: str) -> RunningModel | UnavailableModel:
        """The served model `uid`, or the remembered one that could not be brought back."""
        unavailable = self._unavailable.get(uid)
        return unavailable if unavailable is not None else self.get(uid)

    def uids(self) -> list[str]:
        return sorted([*self._models, *self._unavailable])

    def is_active(self, uid: str) -> bool:
        """Whether `uid` is served in a state that a new launch may not replace (not failed)."""
        record = self._models.get(uid)
        return record is not None and record.state is not ModelState.ERROR

    def knows(self, uid: str) -> bool:
        """Whether `uid` is served, downloading or remembered."""
        return uid in self._models or uid in self._first.pending or uid in self._unavailable

    def models(self) -> list[RunningModel]:
        """Every served model, in launch order (not those still downloading)."""
        return list(self._models.values())

    def unavailable(self) -> list[UnavailableModel]:
        """Remembered models that could not be brought back, with why."""
        return list(self._unavailable.values())

    def pending_downloads(self) -> list[PendingDownload]:
        """Launches waiting for their files to download."""
        return list(self._first.pending.values())

    def launch_state(self, uid: str) -> DownloadState | RunningModel | None:
        """Where the launch of `uid` is: downloading, launched (loading, ready or failed), or
        None when nothing by that uid is known."""
        downloading = self._first.state(uid)
        return downloading if downloading is not None else self._models.get(uid)

    def running_files(self) -> list[tuple[RunningModel, Path]]:
        return [(r, r.plan.model_path) for r in self._models.values()]

    def needs_load(self, uid: str, op: str) -> bool:
        """Whether a request `op` for `uid` would wait for a load (unloaded, loading, crashed);
        raises at once when the model cannot take such a request at all."""
        record = self._models.get(uid)
        if record is None:
            return False
        check_operation(record, op)
        return record.state in (ModelState.UNLOADED, ModelState.LOADING) or record.crashed

    async def ready_for(self, uid: str, op: str) -> None:
        """Wait until `uid` is loaded for a request `op` (loading it if it must)."""
        await self._serving(uid, op)

    # -- inference -------------------------------------------------------------------------------

    async def _serving(self, uid: str, op: str) -> RunningModel:
        """The model `uid`, loaded: a model that is unloaded, loading or crashed is loaded
        first, and every request waiting for it waits for the same load."""
        record = self._models.get(uid)
        if record is None:
            unavailable = self._unavailable.get(uid)
            if unavailable is not None:
                raise ModelNotReady(f"Model {uid}: {unavailable.error}")
            raise UnknownModelUID(uid, self.uids())
        check_operation(record, op)
        while True:
            if record.state is ModelState.READY:
                if record.handle is not None:
                    return record
                # Being unloaded: wait for its worker to go, then load it again.
                await asyncio.sleep(0.05)
                continue
            if record.state is ModelState.LOADING:
                # Returns once it is ready; raises why not otherwise.
                await self._wait_loaded(record)
                continue
            if record.state is ModelState.UNLOADED:
                log.info("loading %s for a request", uid)
                self._start_load(record)
                continue
            if record.crashed:
                check_relaunch(record, time.monotonic())
                log.info("relaunching %s after its worker stopped", uid)
                self._start_load(record)
                continue
            raise ModelNotReady(
                f"Model {uid} is stopped: {record.error} Relaunch it (POST /v1/models with the "
                f"same model_uid, or `xindesk launch`)."
            )

    def _begin(self, record: RunningModel, keep_alive: object) -> None:
        record.in_flight += 1
        record.last_used = time.monotonic()
        if keep_alive is not None:
            seconds = keep_alive_seconds(keep_alive)
            if seconds is None:
                record.keep_until = math.inf
            elif seconds == 0:
                record.unload_when_idle = True
            else:
                record.keep_until = max(record.keep_until, time.monotonic() + seconds)

    def _end(self, record: RunningModel) -> None:
        record.in_flight -= 1
        record.last_used = time.monotonic()

    async def stream(
        self, uid: str, op: str, params: dict[str, Any], *, keep_alive: object = None
    ) -> AsyncGenerator[Event, None]:
        """Events of a chat or completion request, loading the model first if it must."""
        if keep_alive is not None:
            keep_alive_seconds(keep_alive)
        record = await self._serving(uid, op)
        handle = record.handle
        assert handle is not None
        check_prompt(op, params, handle.info)
        self._begin(record, keep_alive)
        try:
            async for event in handle.stream(op, params):
                yield event
        finally:
            self._end(record)

    async def call(
        self, uid: str, op: str, params: dict[str, Any], *, keep_alive: object = None
    ) -> dict[str, Any]:
        if keep_alive is not None:
            keep_alive_seconds(keep_alive)
        record = await self._serving(uid, op)
        handle = record.handle
        assert handle is not None
        self._begin(record, keep_alive)
        try:
            return await handle.call(op, cut_inputs(op, params, handle.info))
        finally:
            self._end(record)
