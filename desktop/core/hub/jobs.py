"""Download jobs as records on disk, so a download outlives the process that started it.

One JSON file per job in `AppPaths.downloads_dir`, written atomically on every change of state
(never on progress: the bytes on disk are the progress). After a crash or a reboot the manager
reads them back and carries on with whatever was queued or running.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from desktop.api.common import JobState as JobState
from desktop.api.hubs import HubName
from desktop.core.errors import UnsafePath
from desktop.core.fileio import atomic_write_text
from desktop.core.safepaths import inside

log = logging.getLogger("xindesk.hub")


class JobFile(BaseModel):
    path: str = Field(description="Path inside the repository.")
    size: int
    sha256: str | None = None


class CatalogRef(BaseModel):
    """Which catalog model a job downloads, when it came from the catalog."""

    model_name: str
    model_type: str = "LLM"
    model_size_in_billions: str | None = None
    quantization: str | None = None


class DownloadJob(BaseModel):
    id: str
    hub: HubName
    repo_id: str
    revision: str | None = None
    files: list[JobFile]
    folder: Path = Field(description="Where the files go; the repository's folder.")
    state: JobState = JobState.QUEUED
    error: str | None = None
    label: str = ""
    model: CatalogRef | None = None
    created_at: float = 0.0
    finished_at: float | None = None

    @property
    def total_bytes(self) -> int:
        return sum(file.size for file in self.files)

    def destination(self, file: JobFile) -> Path:
        """Where `file` goes below `folder`: the listing's path, checked to be a plain relative
        path that stays inside `folder` (`UnsafePath` otherwise; nothing may be opened then)."""
        return inside(self.folder, file.path, what=f"{self.repo_id} lists the file")

    def check_destinations(self) -> None:
        """Raise `UnsafePath` unless every file of the job lands inside `folder`."""
        for file in self.files:
            self.destination(file)

    @property
    def destinations(self) -> list[Path]:
        """The destinations that are safe to look at; a job with others fails before it
        writes anything (`check_destinations`)."""
        found: list[Path] = []
        for file in self.files:
            try:
                found.append(self.destination(file))
            except UnsafePath:
                continue
        return found


class JobStore:
    """Reads and writes job records; knows nothing about downloading."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.json"

    def save(self, job: DownloadJob) -> None:
        atomic_write_text(self._file(job.id), job.model_dump_json(indent=1))

    def remove(self, job_id: str) -> None:
        self._file(job_id).unlink(missing_ok=True)

    def load_all(self) -> list[DownloadJob]:
        if not self.folder.is_dir():
            return []
        jobs: list[DownloadJob] = []
        for file in sorted(self.folder.glob("*.json")):
            try:
                raw: Any = json.loads(file.read_text(encoding="utf-8"))
                jobs.append(DownloadJob.model_validate(raw))
            except (OSError, json.JSONDecodeError, ValidationError) as exc:
                # A damaged record must not stop the other downloads from resuming.
                log.warning("ignoring the unreadable download record %s: %s", file, exc)
        jobs.sort(key=lambda job: job.created_at)
        return jobs
