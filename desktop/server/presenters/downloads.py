"""Download jobs as the download routes show them."""

from __future__ import annotations

from desktop.api.downloads import CatalogRefView, DownloadFigures, DownloadJobView, JobFileView
from desktop.core.hub.jobs import DownloadJob
from desktop.core.hub.manager import DownloadManager
from desktop.server.presenters.attributes import view_of


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
        files=[view_of(JobFileView, file) for file in job.files],
        error=job.error,
        model=view_of(CatalogRefView, job.model) if job.model else None,
        created_at=job.created_at,
        finished_at=job.finished_at,
        **figures.model_dump(),
    )
