"""Launching a catalog model that is not on disk yet: download it, then launch the file that
arrived. The launch answers at once (Xinference's "CREATING") or when the model is ready."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from desktop.core.catalog.download import download_catalog_model
from desktop.core.catalog.registry import parse_model_type
from desktop.core.errors import (
    LaunchCancelled,
    ModelAlreadyRunning,
    ModelLoadError,
    UnsafePath,
)
from desktop.core.hub.jobs import DownloadJob, JobFile, JobState
from desktop.core.running.launch import validate_uid
from desktop.core.running.records import DownloadState, PendingDownload

if TYPE_CHECKING:
    from desktop.core.running.supervisor import Supervisor

log = logging.getLogger("xindesk.supervisor")


class DownloadFirst:
    """The launches of one supervisor that wait for their download."""

    def __init__(self, supervisor: Supervisor) -> None:
        self._supervisor = supervisor
        self.pending: dict[str, PendingDownload] = {}

    async def launch(self, request: dict[str, Any], *, wait_ready: bool) -> str:
        """Download the catalog model `request` names, then launch it."""
        supervisor = self._supervisor
        manager = supervisor.downloads
        assert manager is not None
        name = str(request.get("model_name") or "").strip()
        uid = validate_uid(str(request.get("model_uid") or name))
        if supervisor.is_active(uid):
            raise ModelAlreadyRunning(f"Model is already in the model list, uid: {uid}")
        model_type = parse_model_type(request.get("model_type"))
        job, _spec = await asyncio.to_thread(
            download_catalog_model,
            manager,
            supervisor.catalog,
            supervisor.store.models_dir,
            model_type=model_type,
            name=name,
            size=request.get("model_size_in_billions"),
            quantization=request.get("quantization"),
            source=request.get("download_hub") or supervisor.settings.downloads.source,
        )
        family = supervisor.catalog.find(model_type, name)
        pending = PendingDownload(
            uid=uid,
            request=dict(request),
            job_id=job.id,
            model_name=name,
            model_ability=list(family.model_ability) if family else [],
        )
        self.pending[uid] = pending
        log.info("model %s is not downloaded yet; downloading (job %s)", uid, job.id)
        pending.task = asyncio.create_task(self._finish(pending), name=f"dl-{uid}")
        if not wait_ready:
            return uid
        return await asyncio.shield(pending.task)

    async def _finish(self, pending: PendingDownload) -> str:
        manager = self._supervisor.downloads
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
            self.pending.pop(pending.uid, None)
            raise
        self.pending.pop(pending.uid, None)
        # Launch the very file that was downloaded: the repository's names may differ from the
        # catalog's template, and a by-name lookup must never start the download again.
        request = {**pending.request, "model_path": str(job.destination(job.files[0]))}
        return await self._supervisor.launch(request, wait_ready=True)

    def state(self, uid: str) -> DownloadState | None:
        """The download of a pending launch as it stands; None when `uid` is not one."""
        pending = self.pending.get(uid)
        manager = self._supervisor.downloads
        if pending is None or manager is None:
            return None
        job = manager.get(pending.job_id)
        return DownloadState(
            pending=pending,
            job=job,
            figures=manager.progress(pending.job_id),
            on_disk=[_size_on_disk(job, file) for file in job.files],
        )

    def cancel_all(self) -> None:
        for pending in list(self.pending.values()):
            if pending.task is not None:
                pending.task.cancel()
        self.pending.clear()


def _size_on_disk(job: DownloadJob, file: JobFile) -> int | None:
    """Bytes of a finished file of the job; None while it is not there (or where its path is
    refused: the job fails without writing it)."""
    try:
        destination = job.destination(file)
    except UnsafePath:
        return None
    return destination.stat().st_size if destination.is_file() else None
