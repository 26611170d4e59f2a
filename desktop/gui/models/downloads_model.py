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

from desktop.core.units import human_bytes
from desktop.gui.format import human_duration, human_speed
from desktop.gui.models.palette import ACCENT, AMBER, GREEN, GREY, RED
from desktop.gui.models.record_table import (
    COLOUR_ROLE,
    PROGRESS_ROLE,
    STATE_ROLE,
    RecordTableModel,
)

ACTIVE_STATES = frozenset({"queued", "downloading", "verifying"})
CLEARABLE_STATES = frozenset({"completed", "cancelled"})

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class DownloadColumn(IntEnum):
    NAME = 0
    PROGRESS = 1
    SIZE = 2
    SPEED = 3
    TIME_LEFT = 4
    STATE = 5
    ACTIONS = 6


class DownloadsModel(RecordTableModel[dict[str, Any]]):
    """The server's download jobs, newest first.

    Each record is the job as `XinDeskClient.downloads()` returns it (id, state, label, files,
    error, downloaded_bytes, total_bytes, progress, speed_bytes_per_second, eta_seconds ...).
    """

    column_count = len(DownloadColumn)

    def set_jobs(self, jobs: list[dict[str, Any]]) -> None:
        # The server lists jobs oldest first; the newest one is what a person just started.
        self.merge_records(list(reversed(jobs)))

    def key(self, record: dict[str, Any]) -> str:
        return str(record["id"])

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

    def cell(self, job: dict[str, Any], section: int, role: int) -> Any:
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
            return self.state_colour(str(job.get("state")))
        if role == STATE_ROLE:
            return str(job.get("state"))
        if role == PROGRESS_ROLE and column == DownloadColumn.PROGRESS:
            return float(job.get("progress") or 0.0)
        if role == COLOUR_ROLE and column == DownloadColumn.PROGRESS:
            return self.bar_colour(str(job.get("state")))
        return None

    def _text(self, job: dict[str, Any], column: DownloadColumn) -> str:
        state = str(job.get("state"))
        active = state in ACTIVE_STATES
        if column == DownloadColumn.NAME:
            return str(job.get("label") or job.get("repo_id") or job["id"])
        if column == DownloadColumn.PROGRESS:
            return self.tr("{0}%").format(int(float(job.get("progress") or 0.0) * 100))
        if column == DownloadColumn.SIZE:
            return self.size_text(job)
        if column == DownloadColumn.SPEED:
            return human_speed(job.get("speed_bytes_per_second")) if active else "–"
        if column == DownloadColumn.TIME_LEFT:
            return human_duration(job.get("eta_seconds")) if active else "–"
        if column == DownloadColumn.STATE:
            return self.state_text(job)
        return ""

    def _tooltip(self, job: dict[str, Any], column: DownloadColumn) -> str | None:
        if column == DownloadColumn.NAME:
            files = ", ".join(str(f.get("path")) for f in job.get("files") or [])
            return self.tr("{0} from {1}\nFiles: {2}\nSaved in: {3}").format(
                job.get("repo_id"), job.get("hub"), files, job.get("folder")
            )
        if column == DownloadColumn.STATE:
            return self.state_text(job)
        if column in (DownloadColumn.SPEED, DownloadColumn.TIME_LEFT) and (
            str(job.get("state")) in ACTIVE_STATES
        ):
            return self.tr("{0}, about {1} left").format(
                human_speed(job.get("speed_bytes_per_second")),
                human_duration(job.get("eta_seconds")),
            )
        return None

    def size_text(self, job: dict[str, Any]) -> str:
        """ "120.0 MB of 241.4 MB"."""
        return self.tr("{0} of {1}").format(
            human_bytes(job.get("downloaded_bytes")), human_bytes(job.get("total_bytes"))
        )

    def state_text(self, job: dict[str, Any]) -> str:
        """The state in words, with the reason when it failed."""
        state = str(job.get("state"))
        if state == "downloading" and int(job.get("attempt") or 0) > 0:
            return self.tr("Downloading (retry {0})").format(job.get("attempt"))
        if state == "failed":
            return self.tr("Failed: {0}").format(job.get("error") or self.tr("unknown error"))
        words = {
            "queued": self.tr("Waiting to start"),
            "downloading": self.tr("Downloading"),
            "verifying": self.tr("Checking the file"),
            "paused": self.tr("Paused"),
            "cancelled": self.tr("Cancelled"),
            "completed": self.tr("Completed"),
        }
        return words.get(state, state)

    @staticmethod
    def state_colour(state: str) -> QColor | None:
        return {"failed": RED, "completed": GREEN, "paused": AMBER}.get(state)

    @staticmethod
    def bar_colour(state: str) -> QColor:
        return {"failed": RED, "completed": GREEN, "paused": AMBER, "cancelled": GREY}.get(
            state, ACCENT
        )

    # -- the page header's summary ------------------------------------------------------------

    def summary(self) -> str:
        """ "2 downloading · 12.3 MB/s · 1 paused", or a word when nothing is going on."""
        states = [str(job.get("state")) for job in self._records]
        active = [job for job in self._records if str(job.get("state")) in ACTIVE_STATES]
        parts: list[str] = []
        if active:
            speed = sum(float(job.get("speed_bytes_per_second") or 0.0) for job in active)
            parts.append(self.tr("{0} downloading").format(len(active)))
            if speed > 0:
                parts.append(human_speed(speed))
        if paused := states.count("paused"):
            parts.append(self.tr("{0} paused").format(paused))
        if failed := states.count("failed"):
            parts.append(self.tr("{0} failed").format(failed))
        if not parts:
            return self.tr("Nothing downloading") if self._records else ""
        return " · ".join(parts)
