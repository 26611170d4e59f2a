"""Download routes (under /v1/xindesk/downloads): list, start, pause, resume, cancel, forget.
The window and the command line follow progress by polling the list."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query

from desktop.api.common import Null
from desktop.api.downloads import DownloadJobView, DownloadList, StartDownload
from desktop.api.hubs import HubName
from desktop.core.catalog.download import (
    download_catalog_model,
    download_repo_quantization,
    repo_folder,
)
from desktop.core.settings import models_dir_of
from desktop.server.deps import StateDep, require_api_key
from desktop.server.presenters.downloads import download_job

router = APIRouter(
    prefix="/v1/xindesk/downloads", dependencies=[Depends(require_api_key)], tags=["downloads"]
)


@router.get("")
async def list_downloads(state: StateDep) -> DownloadList:
    manager = state.downloads
    return DownloadList(downloads=[download_job(manager, job) for job in manager.list()])


@router.post("")
async def start_download(body: StartDownload, state: StateDep) -> DownloadJobView:
    """Queue a download; answers at once with the job (poll it for progress)."""
    manager = state.downloads
    models_dir = models_dir_of(state.settings, state.paths)
    hub: HubName | None = None if body.hub in (None, "auto") else body.hub  # type: ignore[assignment]
    if body.model_name is not None:
        job, _ = await asyncio.to_thread(
            download_catalog_model,
            manager,
            state.catalog,
            models_dir,
            model_type=body.model_type,
            name=body.model_name,
            size=body.model_size_in_billions,
            quantization=body.quantization,
            source=body.hub or state.settings.downloads.source,
        )
    elif body.files:
        assert body.repo_id is not None
        job = await asyncio.to_thread(
            manager.add,
            body.repo_id,
            body.files,
            folder=repo_folder(models_dir, body.repo_id),
            hub=hub,
            revision=body.revision,
        )
    else:
        assert body.repo_id is not None
        assert body.quantization is not None
        job = await asyncio.to_thread(
            download_repo_quantization,
            manager,
            models_dir,
            body.repo_id,
            body.quantization,
            hub=hub,
            revision=body.revision,
        )
    return download_job(manager, job)


@router.get("/{job_id}")
async def get_download(job_id: str, state: StateDep) -> DownloadJobView:
    return download_job(state.downloads, state.downloads.get(job_id))


@router.post("/{job_id}/pause")
async def pause(job_id: str, state: StateDep) -> DownloadJobView:
    return download_job(state.downloads, state.downloads.pause(job_id))


@router.post("/{job_id}/resume")
async def resume(job_id: str, state: StateDep) -> DownloadJobView:
    return download_job(state.downloads, state.downloads.resume(job_id))


@router.post("/{job_id}/cancel")
async def cancel(
    job_id: str,
    state: StateDep,
    delete_files: bool = Query(True, description="Also delete the partial files."),
) -> DownloadJobView:
    job = await asyncio.to_thread(state.downloads.cancel, job_id, delete_files=delete_files)
    return download_job(state.downloads, job)


@router.delete("/{job_id}", response_model=Null)
async def forget(job_id: str, state: StateDep) -> None:
    """Remove a finished, cancelled or paused job from the list (downloaded files stay)."""
    state.downloads.forget(job_id)
