"""The Downloads page: every download job of the server, with progress, speed and time left.

Downloads are jobs of the server, saved on its disk: closing the window leaves them running, and
after quitting XinDesk they pick up where they stopped at the next start. This page only shows
them and sends pause, resume (also "Retry" after a failure), cancel and forget.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.context import GuiContext
from desktop.gui.format import human_bytes
from desktop.gui.models.downloads_model import (
    CLEARABLE_STATES,
    COLOUR_ROLE,
    PROGRESS_ROLE,
    DownloadColumn,
    DownloadsModel,
)
from desktop.gui.pages.base import Page
from desktop.gui.polling import Poller
from desktop.gui.widgets.common import Banner, heading
from desktop.gui.widgets.progress_delegate import ProgressDelegate

log = logging.getLogger("xindesk.gui.downloads")

POLL_MS = 1000
MIN_STRETCH = 140
"""The narrowest the name and state columns may get before others are hidden."""
OPTIONAL_COLUMNS = (DownloadColumn.SIZE, DownloadColumn.TIME_LEFT)
"""Columns hidden in a narrow window, the least needed first (the details line says it too)."""


class PendingCall(QObject):
    """One call to the server about some jobs, answered on the GUI thread.

    It is a child of the page: if the page is gone before the answer comes, so is this object,
    and Qt drops the answer instead of calling into a deleted widget.
    """

    def __init__(
        self,
        job_ids: list[str],
        on_done: Callable[[list[str], object], None],
        on_error: Callable[[list[str], str], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.job_ids = job_ids
        self._on_done = on_done
        self._on_error = on_error

    def done(self, result: object) -> None:
        self._on_done(self.job_ids, result)
        self.deleteLater()

    def failed(self, message: str) -> None:
        self._on_error(self.job_ids, message)
        self.deleteLater()


class DownloadActions(QWidget):
    """The buttons of one download row; which ones show depends on the job's state.

    Signals:
        requested(str, str): an action ("pause", "resume", "cancel", "remove", "open") and
            the job id it is for.
    """

    requested = Signal(str, str)

    ACTIONS = ("pause", "resume", "retry", "cancel", "open", "remove")

    def __init__(self, job_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job_id
        self.buttons: dict[str, QPushButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(4)
        for action in self.ACTIONS:
            button = QPushButton(self)
            button.setObjectName(f"download_{action}")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            # "Retry" is a resume of a failed job: the server treats both alike.
            wanted = "resume" if action == "retry" else action
            button.clicked.connect(lambda _=False, a=wanted: self.requested.emit(a, self.job_id))
            layout.addWidget(button)
            self.buttons[action] = button
        layout.addStretch(1)
        self.retranslate()

    def show_for(self, state: str, *, busy: bool, can_open: bool) -> None:
        """Show the buttons that make sense for `state`; all disabled while a call runs."""
        shown = {
            "queued": {"pause", "cancel"},
            "downloading": {"pause", "cancel"},
            "verifying": {"pause", "cancel"},
            "paused": {"resume", "cancel"},
            "failed": {"retry", "remove"},
            "cancelled": {"remove"},
            "completed": {"open", "remove"} if can_open else {"remove"},
        }.get(state, {"remove"})
        for action, button in self.buttons.items():
            button.setVisible(action in shown)
            button.setEnabled(not busy)

    def visible_actions(self) -> list[str]:
        return [action for action, button in self.buttons.items() if not button.isHidden()]

    def retranslate(self) -> None:
        texts = {
            "pause": (self.tr("Pause"), self.tr("Stop for now; resume later from where it is")),
            "resume": (self.tr("Resume"), self.tr("Continue from where it stopped")),
            "retry": (self.tr("Retry"), self.tr("Try again, continuing from where it stopped")),
            "cancel": (self.tr("Cancel"), self.tr("Stop this download for good")),
            "open": (self.tr("Show files"), self.tr("Open the folder the files were saved in")),
            "remove": (
                self.tr("Remove"),
                self.tr("Remove from this list; downloaded files stay on disk"),
            ),
        }
        for action, (text, tip) in texts.items():
            self.buttons[action].setText(text)
            self.buttons[action].setToolTip(tip)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class DownloadsPage(Page):
    """Progress of every download, with pause / resume / retry / cancel per row.

    `activate(job_id)` selects that job once the list is loaded (e.g. right after another page
    started it).
    """

    key = "downloads"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.model = DownloadsModel(self)
        self._busy: set[str] = set()
        self._loaded = False
        self._poll_error_shown = False
        self._select_when_loaded: str | None = None
        self._column_room: dict[DownloadColumn, int] = {}

        self.heading = heading(self)
        self.summary = QLabel(self)
        self.summary.setObjectName("downloadsSummary")
        self.clear_button = QPushButton(self)
        self.clear_button.clicked.connect(self.clear_finished)
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addSpacing(12)
        top.addWidget(self.summary, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addStretch(1)
        top.addWidget(self.clear_button)

        self.hint = QLabel(self)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.banner = Banner(self)
        self.banner.action.clicked.connect(self._dismiss_banner)

        self.table = QTableView(self)
        self.table.setObjectName("downloadsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(38)
        self.table.setItemDelegateForColumn(
            DownloadColumn.PROGRESS,
            ProgressDelegate(PROGRESS_ROLE, COLOUR_ROLE, text_width=34, parent=self.table),
        )
        self._size_columns()
        self.table.selectionModel().currentRowChanged.connect(self._show_details)
        self.details = QLabel(self)
        self.details.setObjectName("hint")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        list_page = QWidget(self)
        list_layout = QVBoxLayout(list_page)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.table, 1)
        list_layout.addWidget(self.details)

        self.empty_label = QLabel(self)
        self.empty_label.setObjectName("subheading")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.browse_button = QPushButton(self)
        self.browse_button.setObjectName("primary")
        self.browse_button.clicked.connect(self._go_to_models)
        empty_page = QWidget(self)
        empty_layout = QVBoxLayout(empty_page)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(self.browse_button, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addStretch(2)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(list_page)
        self.stack.addWidget(empty_page)
        self.list_page, self.empty_page = list_page, empty_page

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)

        self._poller: Poller[list[dict[str, Any]]] = Poller(
            ctx.tasks, self._fetch, self._apply, self._poll_failed, POLL_MS, self
        )
        ctx.navigator.downloads_changed.connect(self.reload)
        ctx.session.changed.connect(self.reload)
        self.retranslate()

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
        self.model.retranslate()
        self._show_summary()
        self._show_details()

    def activate(self, argument: object = None) -> None:
        if isinstance(argument, str) and argument:
            self._select_when_loaded = argument
        self._poller.start()

    def deactivate(self) -> None:
        self._poller.stop()

    @property
    def polling(self) -> bool:
        """Whether the page refreshes itself (only while it is shown)."""
        return self._poller.active

    def _go_to_models(self) -> None:
        self.ctx.navigator.go("models")

    def reload(self) -> None:
        """Ask the server now (another page started a download); nothing while hidden."""
        if self._poller.active:
            self._poller.poll_now()

    # -- loading ------------------------------------------------------------------------------

    def _fetch(self) -> list[dict[str, Any]]:
        return self.ctx.session.client.downloads()

    def _apply(self, jobs: list[dict[str, Any]]) -> None:
        if self._poll_error_shown:
            self._poll_error_shown = False
            self.banner.clear()
        self.model.set_jobs(jobs)
        self._loaded = True
        self._refresh_view()

    def _poll_failed(self, message: str) -> None:
        self._poll_error_shown = True
        self.banner.show_error(self.tr("Cannot load the downloads: {0}").format(message))
        self.banner.action.hide()

    def _refresh_view(self) -> None:
        empty = self._loaded and self.model.rowCount() == 0
        self.stack.setCurrentWidget(self.empty_page if empty else self.list_page)
        self.clear_button.setEnabled(
            any(job.get("state") in CLEARABLE_STATES for job in self.model.records())
        )
        self._sync_actions()
        if self._select_when_loaded and self.model.row_of(self._select_when_loaded) >= 0:
            self.select(self._select_when_loaded)
            self._select_when_loaded = None
        elif not self.table.selectionModel().hasSelection() and self.model.rowCount():
            self.table.selectRow(0)
        self._show_summary()
        self._show_details()

    def _sync_actions(self) -> None:
        """Give each row its buttons (rows come and go as jobs start and are forgotten)."""
        widest = 0
        for row, job in enumerate(self.model.records()):
            index = self.model.index(row, DownloadColumn.ACTIONS)
            actions = self.table.indexWidget(index)
            if not isinstance(actions, DownloadActions) or actions.job_id != job["id"]:
                actions = DownloadActions(str(job["id"]), self.table)
                actions.requested.connect(self._on_action)
                self.table.setIndexWidget(index, actions)
            actions.show_for(
                str(job.get("state")),
                busy=job["id"] in self._busy,
                can_open=self._folder_here(job) is not None,
            )
            widest = max(widest, actions.sizeHint().width())
        header = self.table.horizontalHeader()
        if widest and header.sectionSize(DownloadColumn.ACTIONS) < widest:
            header.resizeSection(DownloadColumn.ACTIONS, widest)
        self._fit_columns()

    def _size_columns(self) -> None:
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
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
        self.table.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """In a narrow window, hide the least needed columns so the others stay readable."""
        header = self.table.horizontalHeader()
        available = self.table.viewport().width()

        def needed() -> int:
            total = 0
            for column in DownloadColumn:
                if header.isSectionHidden(column):
                    continue
                stretch = header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch
                total += MIN_STRETCH if stretch else header.sectionSize(column)
            return total

        for column in reversed(OPTIONAL_COLUMNS):
            room = self._column_room.get(column, MIN_STRETCH)
            if not header.isSectionHidden(column) or needed() + room > available:
                break
            header.setSectionHidden(column, False)
        for column in OPTIONAL_COLUMNS:
            if needed() <= available:
                break
            if not header.isSectionHidden(column):
                self._column_room[column] = header.sectionSize(column)
                header.setSectionHidden(column, True)

    # -- what a person reads ------------------------------------------------------------------

    def _show_summary(self) -> None:
        self.summary.setText(self.model.summary())

    def _show_details(self, *_: object) -> None:
        job = self.selected_job()
        if job is None:
            self.details.hide()
            return
        files = ", ".join(
            self.tr("{0} ({1})").format(f.get("path"), human_bytes(f.get("size")))
            for f in job.get("files") or []
        )
        lines = [
            self.tr("{0}: {1} from {2}").format(
                job.get("label"), job.get("repo_id"), job.get("hub")
            ),
            self.tr("Files: {0}").format(files),
            self.tr("Downloaded: {0}").format(self.model.size_text(job)),
            self.tr("Saved in: {0}").format(job.get("folder")),
        ]
        if job.get("state") == "failed" and job.get("error"):
            lines.append(self.tr("What went wrong: {0}").format(job["error"]))
        self.details.setText("\n".join(lines))
        self.details.show()

    def selected_job(self) -> dict[str, Any] | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.record(index.row())

    def select(self, job_id: str) -> None:
        row = self.model.row_of(job_id)
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )

    def actions_for(self, job_id: str) -> DownloadActions | None:
        """The buttons shown on that job's row (None when the job is not listed)."""
        row = self.model.row_of(job_id)
        if row < 0:
            return None
        widget = self.table.indexWidget(self.model.index(row, DownloadColumn.ACTIONS))
        return widget if isinstance(widget, DownloadActions) else None

    def _folder_here(self, job: dict[str, Any]) -> Path | None:
        # A remote server's folders are on another computer: only a local one can be opened.
        if self.ctx.server is None or not job.get("folder"):
            return None
        folder = Path(str(job["folder"]))
        return folder if folder.is_dir() else None

    # -- actions ------------------------------------------------------------------------------

    def _on_action(self, action: str, job_id: str) -> None:
        job = self.model.job(job_id)
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

    def ask_cancel(self, job: dict[str, Any]) -> bool | None:
        """Confirm a cancel: True to delete the partial file, False to keep it, None: don't."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Cancel download"))
        box.setText(self.tr("Cancel the download of {0}?").format(job.get("label")))
        box.setInformativeText(
            self.tr(
                "You can keep what is already downloaded ({0}): downloading the same model "
                "later continues from there."
            ).format(human_bytes(job.get("downloaded_bytes")))
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
            str(job["id"])
            for job in self.model.records()
            if job.get("state") in CLEARABLE_STATES and job["id"] not in self._busy
        ]
        if not ids:
            return
        client = self.ctx.session.client

        def forget_all() -> None:
            for job_id in ids:
                client.forget_download(job_id)

        self._busy.update(ids)
        self.clear_button.setEnabled(False)
        call = PendingCall(ids, self._call_done, self._call_failed, self)
        self.ctx.tasks.run(forget_all, call.done, call.failed)

    def _call(self, job_id: str, fn: Callable[[], object]) -> None:
        self._busy.add(job_id)
        self._sync_actions()
        call = PendingCall([job_id], self._call_done, self._call_failed, self)
        self.ctx.tasks.run(fn, call.done, call.failed)

    def _call_done(self, job_ids: list[str], result: object) -> None:
        self._busy.difference_update(job_ids)
        if not self._poll_error_shown:
            self.banner.clear()
        if isinstance(result, dict) and result.get("id") in job_ids:
            # The server answered with the job as it is now: show that at once.
            self.model.replace_one(str(result["id"]), result)
        self._refresh_view()
        self._poller.poll_now()

    def _call_failed(self, job_ids: list[str], message: str) -> None:
        self._busy.difference_update(job_ids)
        self.banner.show_error(self.tr("The download could not be changed: {0}").format(message))
        self.banner.action.show()
        self._refresh_view()
        self._poller.poll_now()

    def _dismiss_banner(self) -> None:
        self.banner.clear()
