"""The download jobs of the server as a table: name, progress, size, speed, time left, state.

The server owns the jobs (they are records on its disk and outlive the window); this model only
mirrors `GET /v1/xindesk/downloads`. Each refresh updates rows in place, keyed by job id, so the
view keeps its selection and the per-row buttons while the figures tick.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from desktop.api.common import JobState
from desktop.api.downloads import DownloadJobView
from desktop.core.units import human_bytes
from desktop.gui.format import human_duration, human_speed
from desktop.gui.models.palette import ACCENT, AMBER, GREEN, GREY, RED
from desktop.gui.models.record_table import (
    COLOUR_ROLE,
    PROGRESS_ROLE,
    STATE_ROLE,
    RecordTableModel,
)

CLEARABLE_STATES = frozenset({JobState.COMPLETED, JobState.CANCELLED})

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class DownloadColumn(IntEnum):
    NAME = 0
    PROGRESS = 1
    SIZE = 2
    SPEED = 3
    TIME_LEFT = 4
    STATE = 5
    ACTIONS = 6


class DownloadsModel(RecordTableModel[DownloadJobView]):
    """The server's download jobs (as `XinDeskClient.downloads()` returns them), newest first."""

    column_count = len(DownloadColumn)

    def set_jobs(self, jobs: list[DownloadJobView]) -> None:
        # The server lists jobs oldest first; the newest one is what a person just started.
        self.merge_records(list(reversed(jobs)))

    def key(self, record: DownloadJobView) -> str:
        return record.id

    # -- what a person reads ------------------------------------------------------------------

    def header(self, section: int, role: int) -> Any:
        column = DownloadColumn(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                DownloadColumn.NAME: self.tr("Model"),
                DownloadColumn.PROGRESS: self.tr("Progress"),
                DownloadColumn.SIZE: self.tr("Downloaded"),
                DownloadColumn.SPEED: self.tr("Speed"),
                DownloadColumn.TIME_LEFT: self.tr("Time left"),
                DownloadColumn.STATE: self.tr("State"),
                DownloadColumn.ACTIONS: self.tr("Actions"),
            }[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {
                DownloadColumn.NAME: self.tr("The model or file being downloaded"),
                DownloadColumn.PROGRESS: self.tr("How much of the download is done"),
                DownloadColumn.SIZE: self.tr("Bytes on disk so far, of the whole download"),
                DownloadColumn.SPEED: self.tr("Current download speed"),
                DownloadColumn.TIME_LEFT: self.tr("Estimated time until the download is done"),
                DownloadColumn.STATE: self.tr("What the download is doing now"),
                DownloadColumn.ACTIONS: self.tr("Pause, resume, retry or cancel the download"),
            }[column]
        return None

    def cell(self, job: DownloadJobView, section: int, role: int) -> Any:
        column = DownloadColumn(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(job, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            DownloadColumn.SIZE,
            DownloadColumn.SPEED,
            DownloadColumn.TIME_LEFT,
        ):
            return int(_RIGHT)
        if role == Qt.ItemDataRole.ForegroundRole and column == DownloadColumn.STATE:
            return self.state_colour(job.state)
        if role == STATE_ROLE:
            return job.state.value
        if role == PROGRESS_ROLE and column == DownloadColumn.PROGRESS:
            return job.progress
        if role == COLOUR_ROLE and column == DownloadColumn.PROGRESS:
            return self.bar_colour(job.state)
        return None

    def _text(self, job: DownloadJobView, column: DownloadColumn) -> str:
        active = job.state.active
        if column == DownloadColumn.NAME:
            return job.label or job.repo_id or job.id
        if column == DownloadColumn.PROGRESS:
            return self.tr("{0}%").format(int(job.progress * 100))
        if column == DownloadColumn.SIZE:
            return self.size_text(job)
        if column == DownloadColumn.SPEED:
            return human_speed(job.speed_bytes_per_second) if active else "–"
        if column == DownloadColumn.TIME_LEFT:
            return human_duration(job.eta_seconds) if active else "–"
        if column == DownloadColumn.STATE:
            return self.state_text(job)
        return ""

    def _tooltip(self, job: DownloadJobView, column: DownloadColumn) -> str | None:
        if column == DownloadColumn.NAME:
            files = ", ".join(f.path for f in job.files)
            return self.tr("{0} from {1}\nFiles: {2}\nSaved in: {3}").format(
                job.repo_id, job.hub, files, job.folder
            )
        if column == DownloadColumn.STATE:
            return self.state_text(job)
        if column in (DownloadColumn.SPEED, DownloadColumn.TIME_LEFT) and job.state.active:
            return self.tr("{0}, about {1} left").format(
                human_speed(job.speed_bytes_per_second), human_duration(job.eta_seconds)
            )
        return None

    def size_text(self, job: DownloadJobView) -> str:
        """ "120.0 MB of 241.4 MB"."""
        return self.tr("{0} of {1}").format(
            human_bytes(job.downloaded_bytes), human_bytes(job.total_bytes)
        )

    def state_text(self, job: DownloadJobView) -> str:
        """The state in words, with the reason when it failed."""
        state = job.state
        if state is JobState.DOWNLOADING and job.attempt > 0:
            return self.tr("Downloading (retry {0})").format(job.attempt)
        if state is JobState.FAILED:
            return self.tr("Failed: {0}").format(job.error or self.tr("unknown error"))
        words = {
            JobState.QUEUED: self.tr("Waiting to start"),
            JobState.DOWNLOADING: self.tr("Downloading"),
            JobState.VERIFYING: self.tr("Checking the file"),
            JobState.PAUSED: self.tr("Paused"),
            JobState.CANCELLED: self.tr("Cancelled"),
            JobState.COMPLETED: self.tr("Completed"),
        }
        return words[state]

    @staticmethod
    def state_colour(state: JobState) -> QColor | None:
        return {JobState.FAILED: RED, JobState.COMPLETED: GREEN, JobState.PAUSED: AMBER}.get(state)

    @staticmethod
    def bar_colour(state: JobState) -> QColor:
        colours = {
            JobState.FAILED: RED,
            JobState.COMPLETED: GREEN,
            JobState.PAUSED: AMBER,
            JobState.CANCELLED: GREY,
        }
        return colours.get(state, ACCENT)

    # -- the page header's summary ------------------------------------------------------------

    def summary(self) -> str:
        """ "2 downloading · 12.3 MB/s · 1 paused", or a word when nothing is going on."""
        states = [job.state for job in self._records]
        active = [job for job in self._records if job.state.active]
        parts: list[str] = []
        if active:
            speed = sum(job.speed_bytes_per_second for job in active)
            parts.append(self.tr("{0} downloading").format(len(active)))
            if speed > 0:
                parts.append(human_speed(speed))
        if paused := states.count(JobState.PAUSED):
            parts.append(self.tr("{0} paused").format(paused))
        if failed := states.count(JobState.FAILED):
            parts.append(self.tr("{0} failed").format(failed))
        if not parts:
            return self.tr("Nothing downloading") if self._records else ""
        return " · ".join(parts)
