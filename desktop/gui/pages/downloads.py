"""The Downloads page: every download job of the server, with progress, speed and time left.

Downloads are jobs of the server, saved on its disk: closing the window leaves them running, and
after quitting XinDesk they pick up where they stopped at the next start. This page only shows
them and sends pause, resume (also "Retry" after a failure), cancel and forget.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHeaderView, QLabel, QMessageBox, QPushButton, QWidget

from desktop.api.common import JobState
from desktop.api.downloads import DownloadJobView
from desktop.core.units import human_bytes
from desktop.gui.context import GuiContext
from desktop.gui.models.downloads_model import CLEARABLE_STATES, DownloadColumn, DownloadsModel
from desktop.gui.models.record_table import COLOUR_ROLE, PROGRESS_ROLE
from desktop.gui.pages.table_page import TablePage
from desktop.gui.widgets.common import hint
from desktop.gui.widgets.progress_delegate import ProgressDelegate
from desktop.gui.widgets.row_actions import RowActions

log = logging.getLogger("xindesk.gui.downloads")


class DownloadActions(RowActions):
    """The buttons of one download row; which ones show depends on the job's state.

    `requested` carries an action ("pause", "resume", "cancel", "remove", "open") and the job id.
    """

    ACTIONS = ("pause", "resume", "retry", "cancel", "open", "remove")
    NAME = "download"
    # "Retry" is a resume of a failed job: the server treats both alike.
    REQUESTS: ClassVar[Mapping[str, str]] = {"retry": "resume"}

    def show_for(self, state: JobState, *, busy: bool, can_open: bool) -> None:
        """Show the buttons that make sense for `state`; all disabled while a call runs."""
        shown = {
            JobState.QUEUED: {"pause", "cancel"},
            JobState.DOWNLOADING: {"pause", "cancel"},
            JobState.VERIFYING: {"pause", "cancel"},
            JobState.PAUSED: {"resume", "cancel"},
            JobState.FAILED: {"retry", "remove"},
            JobState.CANCELLED: {"remove"},
            JobState.COMPLETED: {"open", "remove"} if can_open else {"remove"},
        }[state]
        self.show_only(shown, busy=busy)

    def retranslate(self) -> None:
        self.set_texts(
            {
                "pause": (self.tr("Pause"), self.tr("Stop for now; resume later from where it is")),
                "resume": (self.tr("Resume"), self.tr("Continue from where it stopped")),
                "retry": (
                    self.tr("Retry"),
                    self.tr("Try again, continuing from where it stopped"),
                ),
                "cancel": (self.tr("Cancel"), self.tr("Stop this download for good")),
                "open": (
                    self.tr("Show files"),
                    self.tr("Open the folder the files were saved in"),
                ),
                "remove": (
                    self.tr("Remove"),
                    self.tr("Remove from this list; downloaded files stay on disk"),
                ),
            }
        )


class DownloadsPage(TablePage[DownloadJobView, DownloadActions]):
    """Progress of every download, with pause / resume / retry / cancel per row.

    `activate(job_id)` selects that job once the list is loaded (e.g. right after another page
    started it).
    """

    key = "downloads"
    name = "downloads"
    actions_class = DownloadActions
    actions_column = DownloadColumn.ACTIONS
    optional_columns = (DownloadColumn.SIZE, DownloadColumn.TIME_LEFT)
    """Hidden in a narrow window, the least needed first (the details line says them too)."""
    min_stretch = 140
    """The narrowest the name and state columns may get before others are hidden."""

    model: DownloadsModel
    details: QLabel

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, DownloadsModel(), parent)
        self.clear_button = QPushButton(self)
        self.clear_button.clicked.connect(self.clear_finished)
        self.top_bar.addWidget(self.clear_button)
        self.browse_button = self.empty_page.button
        self.table.setItemDelegateForColumn(
            DownloadColumn.PROGRESS,
            ProgressDelegate(PROGRESS_ROLE, COLOUR_ROLE, text_width=34, parent=self.table),
        )
        self._size_columns()
        ctx.navigator.downloads_changed.connect(self.reload)
        self.retranslate()

    def _create_details(self) -> QLabel:
        details = hint(self)
        details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return details

    def _size_columns(self) -> None:
        header = self.table.horizontalHeader()
        metrics = self.table.fontMetrics()
        pad = 18
        widths = {
            DownloadColumn.PROGRESS: 130,
            DownloadColumn.SIZE: metrics.horizontalAdvance("999.9 MB of 99.9 GB") + pad,
            DownloadColumn.SPEED: metrics.horizontalAdvance("999.9 MB/s") + pad,
            DownloadColumn.TIME_LEFT: metrics.horizontalAdvance("59 min 59 s") + pad,
            DownloadColumn.ACTIONS: 150,
        }
        for column in DownloadColumn:
            if column in widths:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
                header.resizeSection(column, widths[column])
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)

    # -- page ---------------------------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Downloads")

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Downloads"))
        self.hint.setText(
            self.tr(
                "Downloads keep going when you close this window. If you quit XinDesk, they "
                "continue from where they stopped the next time it starts."
            )
        )
        self.clear_button.setText(self.tr("Clear finished"))
        self.clear_button.setToolTip(
            self.tr("Remove completed and cancelled downloads from the list; files stay on disk")
        )
        self.empty_label.setText(self.tr("No downloads yet — pick a model on the Models page."))
        self.browse_button.setText(self.tr("Browse models"))
        self.banner.action.setText(self.tr("Dismiss"))
        super().retranslate()

    # -- loading ------------------------------------------------------------------------------

    def _fetch(self) -> list[DownloadJobView]:
        return self.ctx.session.client.downloads()

    def _load(self, records: list[DownloadJobView]) -> None:
        self.model.set_jobs(records)

    def _load_error(self, message: str) -> str:
        return self.tr("Cannot load the downloads: {0}").format(message)

    def _refresh_view(self) -> None:
        self.clear_button.setEnabled(
            any(job.state in CLEARABLE_STATES for job in self.model.records())
        )
        super()._refresh_view()

    def _show_actions(
        self, actions: DownloadActions, record: DownloadJobView, *, busy: bool
    ) -> None:
        actions.show_for(record.state, busy=busy, can_open=self._folder_here(record) is not None)

    # -- what a person reads ------------------------------------------------------------------

    def _describe(self, job: DownloadJobView) -> None:
        files = ", ".join(
            self.tr("{0} ({1})").format(f.path, human_bytes(f.size)) for f in job.files
        )
        lines = [
            self.tr("{0}: {1} from {2}").format(job.label, job.repo_id, job.hub),
            self.tr("Files: {0}").format(files),
            self.tr("Downloaded: {0}").format(self.model.size_text(job)),
            self.tr("Saved in: {0}").format(job.folder),
        ]
        if job.state is JobState.FAILED and job.error:
            lines.append(self.tr("What went wrong: {0}").format(job.error))
        self.details.setText("\n".join(lines))

    def selected_job(self) -> DownloadJobView | None:
        return self.selected_record()

    def _folder_here(self, job: DownloadJobView) -> Path | None:
        # A remote server's folders are on another computer: only a local one can be opened.
        if self.ctx.server is None or not job.folder:
            return None
        folder = Path(job.folder)
        return folder if folder.is_dir() else None

    # -- actions ------------------------------------------------------------------------------

    def _on_action(self, action: str, job_id: str) -> None:
        job = self.model.record_of(job_id)
        if job is None:
            return
        client = self.ctx.session.client
        if action == "pause":
            self._call(job_id, lambda: client.pause_download(job_id))
        elif action == "resume":
            self._call(job_id, lambda: client.resume_download(job_id))
        elif action == "cancel":
            delete_files = self.ask_cancel(job)
            if delete_files is not None:
                self._call(
                    job_id, lambda: client.cancel_download(job_id, delete_files=delete_files)
                )
        elif action == "remove":
            self._call(job_id, lambda: client.forget_download(job_id))
        elif action == "open" and (folder := self._folder_here(job)) is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def ask_cancel(self, job: DownloadJobView) -> bool | None:
        """Confirm a cancel: True to delete the partial file, False to keep it, None: don't."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Cancel download"))
        box.setText(self.tr("Cancel the download of {0}?").format(job.label))
        box.setInformativeText(
            self.tr(
                "You can keep what is already downloaded ({0}): downloading the same model "
                "later continues from there."
            ).format(human_bytes(job.downloaded_bytes))
        )
        delete = box.addButton(
            self.tr("Cancel and delete the partial file"), QMessageBox.ButtonRole.DestructiveRole
        )
        keep = box.addButton(
            self.tr("Cancel, keep the partial file"), QMessageBox.ButtonRole.AcceptRole
        )
        back = box.addButton(self.tr("Keep downloading"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(back)
        box.setEscapeButton(back)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        if clicked is delete:
            return True
        if clicked is keep:
            return False
        return None

    def clear_finished(self) -> None:
        """Forget every completed and cancelled job (their files stay)."""
        ids = [
            job.id
            for job in self.model.records()
            if job.state in CLEARABLE_STATES and job.id not in self._busy
        ]
        if not ids:
            return
        client = self.ctx.session.client

        def forget_all() -> None:
            for job_id in ids:
                client.forget_download(job_id)

        self._busy.update(ids)
        self.clear_button.setEnabled(False)
        self._start_call(ids, forget_all)

    def _call_done(self, keys: list[str], result: object) -> None:
        if isinstance(result, DownloadJobView) and result.id in keys:
            # The server answered with the job as it is now: show that at once.
            self.model.replace_record(result)
        super()._call_done(keys, result)

    def _call_error(self, keys: list[str], message: str) -> str:
        return self.tr("The download could not be changed: {0}").format(message)
