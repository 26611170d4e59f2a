"""Download jobs as the download routes and their event stream show them."""

from __future__ import annotations

from desktop.api.downloads import CatalogRefView, DownloadFigures, DownloadJobView, JobFileView
from desktop.core.hub.jobs import DownloadJob
from desktop.core.hub.manager import DownloadManager


def download_job(manager: DownloadManager, job: DownloadJob) -> DownloadJobView:
    """A job's record and its live figures."""
    figures = DownloadFigures.model_validate(manager.progress(job.id))
    return DownloadJobView(
        id=job.id,
        state=job.state,
        label=job.label,
        hub=job.hub,
        repo_id=job.repo_id,
        revision=job.revision,
        folder=str(job.folder),
        files=[JobFileView(path=f.path, size=f.size, sha256=f.sha256) for f in job.files],
        error=job.error,
        model=(
            CatalogRefView(
                model_name=job.model.model_name,
                model_type=job.model.model_type,
                model_size_in_billions=job.model.model_size_in_billions,
                quantization=job.model.quantization,
            )
            if job.model
            else None
        ),
        created_at=job.created_at,
        finished_at=job.finished_at,
        **figures.model_dump(),
    )
