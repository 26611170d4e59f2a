"""The Running page: the server's launched models, their state and memory, and what to do next.

A model is listed from the moment it is launched: while its file downloads (with progress),
while it loads into memory, once ready, and after a failure (with the reason and Relaunch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
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
from desktop.gui.models.running_model import (
    COLOUR_ROLE,
    PROGRESS_ROLE,
    RunningColumn,
    RunningModelsModel,
    fetch_running_models,
)
from desktop.gui.pages.base import Page
from desktop.gui.polling import Poller
from desktop.gui.widgets.common import Banner, CopyField, heading
from desktop.gui.widgets.progress_delegate import ProgressDelegate

log = logging.getLogger("xindesk.gui.running")

POLL_MS = 1000
MIN_STRETCH = 120
"""The narrowest a stretching column (UID, model, state) may get before others are hidden."""
OPTIONAL_COLUMNS = (RunningColumn.NAME, RunningColumn.QUANTIZATION, RunningColumn.TYPE)
"""Columns hidden in a narrow window, the least needed first."""
FITTED_COLUMNS = (RunningColumn.TYPE, RunningColumn.QUANTIZATION, RunningColumn.MEMORY)
"""Columns as wide as their contents."""


class PendingCall(QObject):
    """One call to the server about a model, answered on the GUI thread.

    It is a child of the page: if the page is gone before the answer comes, so is this object,
    and Qt drops the answer instead of calling into a deleted widget.
    """

    def __init__(
        self,
        uid: str,
        on_done: Callable[[str, object], None],
        on_error: Callable[[str, str], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.uid = uid
        self._on_done = on_done
        self._on_error = on_error

    def done(self, result: object) -> None:
        self._on_done(self.uid, result)
        self.deleteLater()

    def failed(self, message: str) -> None:
        self._on_error(self.uid, message)
        self.deleteLater()


class RunningActions(QWidget):
    """The buttons of one running model's row; which ones show depends on its state.

    Signals:
        requested(str, str): an action ("chat", "stop", "cancel", "relaunch", "remove") and
            the model's uid.
    """

    requested = Signal(str, str)

    ACTIONS = ("chat", "stop", "cancel", "relaunch", "remove")

    def __init__(self, uid: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.uid = uid
        self.buttons: dict[str, QPushButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(4)
        for action in self.ACTIONS:
            button = QPushButton(self)
            button.setObjectName(f"running_{action}")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _=False, a=action: self.requested.emit(a, self.uid))
            layout.addWidget(button)
            self.buttons[action] = button
        layout.addStretch(1)
        self.retranslate()

    def show_for(self, state: str, *, can_chat: bool, busy: bool) -> None:
        shown = {
            "ready": {"chat", "stop"} if can_chat else {"stop"},
            "loading": {"cancel"},
            "downloading": {"cancel"},
            "error": {"relaunch", "remove"},
        }.get(state, {"stop"})
        for action, button in self.buttons.items():
            button.setVisible(action in shown)
            # Opening the chat asks nothing of the server, so it stays usable during a call.
            button.setEnabled(action == "chat" or not busy)

    def visible_actions(self) -> list[str]:
        return [action for action, button in self.buttons.items() if not button.isHidden()]

    def retranslate(self) -> None:
        texts = {
            "chat": (self.tr("Open in chat"), self.tr("Talk to this model on the Chat page")),
            "stop": (self.tr("Stop"), self.tr("Unload the model and free its memory")),
            "cancel": (
                self.tr("Cancel"),
                self.tr("Stop starting this model (a download keeps what it already has)"),
            ),
            "relaunch": (
                self.tr("Relaunch"),
                self.tr("Start the model again with the same settings"),
            ),
            "remove": (self.tr("Remove"), self.tr("Remove this failed model from the list")),
        }
        for action, (text, tip) in texts.items():
            self.buttons[action].setText(text)
            self.buttons[action].setToolTip(tip)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class ModelDetails(QFrame):
    """How to reach the selected model from other apps, and where its file is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.title = QLabel(self)
        self.title.setObjectName("subheading")
        self.address = CopyField(parent=self)
        self.uid = CopyField(parent=self)
        self.file = QLabel(self)
        # The model file's path on the server: data, not words to translate.
        self.file.setProperty("xindesk_data", True)
        self.file.setWordWrap(True)
        self.file.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.context = QLabel(self)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setObjectName("runningError")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = QFormLayout()
        # Labels made here: QFormLayout makes none for an empty text, and retranslate fills them.
        for field in (self.address, self.uid, self.file, self.context):
            self.form.addRow(QLabel(self), field)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.title)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        self.retranslate()

    def show_model(self, endpoint: str, row: dict[str, Any]) -> None:
        self.title.setText(self.tr("Use {0} from other apps").format(row["uid"]))
        self.address.set_value(f"{endpoint}/v1")
        self.uid.set_value(str(row["uid"]))
        self.file.setText(str(row["model_path"] or "–"))
        context = row["context_length"]
        self.context.setText(self.tr("{0} tokens").format(context) if context else "–")
        if row["state"] == "error" and row["error"]:
            self.error.setText(self.tr("What went wrong: {0}").format(row["error"]))
            self.error.show()
        else:
            self.error.hide()

    def retranslate(self) -> None:
        labels = (
            self.tr("API address"),
            self.tr("Model ID"),
            self.tr("File"),
            self.tr("Context length"),
        )
        for row, text in enumerate(labels):
            item = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(label := item.widget(), QLabel):
                label.setText(text)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class RunningPage(Page):
    """Launched models with their state, memory and actions (open in chat, stop, relaunch).

    `activate(uid)` selects that model once the list is loaded.
    """

    key = "running"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.model = RunningModelsModel(self)
        self._busy: set[str] = set()
        self._loaded = False
        self._poll_error_shown = False
        self._select_when_loaded: str | None = None
        self._column_room: dict[RunningColumn, int] = {}

        self.heading = heading(self)
        self.summary = QLabel(self)
        self.summary.setObjectName("runningSummary")
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addSpacing(12)
        top.addWidget(self.summary, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addStretch(1)
        self.hint = QLabel(self)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.banner = Banner(self)
        self.banner.action.clicked.connect(self.banner.clear)

        self.table = QTableView(self)
        self.table.setObjectName("runningTable")
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
            RunningColumn.STATE,
            ProgressDelegate(PROGRESS_ROLE, COLOUR_ROLE, text_width=150, parent=self.table),
        )
        self._size_columns()
        self.table.selectionModel().currentRowChanged.connect(self._show_details)
        self.details = ModelDetails(self)
        list_page = QWidget(self)
        list_layout = QVBoxLayout(list_page)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.table, 1)
        list_layout.addWidget(self.details)

        self.empty_label = QLabel(self)
        self.empty_label.setObjectName("subheading")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.models_button = QPushButton(self)
        self.models_button.setObjectName("primary")
        self.models_button.clicked.connect(self._go_to_models)
        empty_page = QWidget(self)
        empty_layout = QVBoxLayout(empty_page)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(self.models_button, 0, Qt.AlignmentFlag.AlignHCenter)
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
        ctx.navigator.running_changed.connect(self.reload)
        ctx.session.changed.connect(self.reload)
        self.retranslate()

    # -- page ---------------------------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Running")

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Running models"))
        self.hint.setText(
            self.tr(
                "Models listed here answer other apps (FastGPT, scripts) at the API address "
                "below, by their model ID. Stop a model to free its memory."
            )
        )
        self.empty_label.setText(self.tr("No model is running — launch one from the Models page."))
        self.models_button.setText(self.tr("Go to Models"))
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
        """Ask the server now (a model was launched or stopped elsewhere); not while hidden."""
        if self._poller.active:
            self._poller.poll_now()

    # -- loading ------------------------------------------------------------------------------

    def _fetch(self) -> list[dict[str, Any]]:
        return fetch_running_models(self.ctx.session.client)

    def _apply(self, rows: list[dict[str, Any]]) -> None:
        if self._poll_error_shown:
            self._poll_error_shown = False
            self.banner.clear()
        self.model.set_models(rows)
        self._loaded = True
        self._refresh_view()

    def _poll_failed(self, message: str) -> None:
        self._poll_error_shown = True
        self.banner.show_error(self.tr("Cannot load the running models: {0}").format(message))
        self.banner.action.hide()

    def _refresh_view(self) -> None:
        empty = self._loaded and self.model.rowCount() == 0
        self.stack.setCurrentWidget(self.empty_page if empty else self.list_page)
        self._sync_actions()
        if self._select_when_loaded and self.model.row_of(self._select_when_loaded) >= 0:
            self.select(self._select_when_loaded)
            self._select_when_loaded = None
        elif not self.table.selectionModel().hasSelection() and self.model.rowCount():
            self.table.selectRow(0)
        self._show_summary()
        self._show_details()

    def _sync_actions(self) -> None:
        """Give each row its buttons (rows come and go as models start and stop)."""
        widest = 0
        for row, record in enumerate(self.model.records()):
            index = self.model.index(row, RunningColumn.ACTIONS)
            actions = self.table.indexWidget(index)
            if not isinstance(actions, RunningActions) or actions.uid != record["uid"]:
                actions = RunningActions(str(record["uid"]), self.table)
                actions.requested.connect(self._on_action)
                self.table.setIndexWidget(index, actions)
            actions.show_for(
                str(record["state"]),
                can_chat=self.model.can_chat(record),
                busy=record["uid"] in self._busy,
            )
            widest = max(widest, actions.sizeHint().width())
        header = self.table.horizontalHeader()
        if widest and header.sectionSize(RunningColumn.ACTIONS) < widest:
            header.resizeSection(RunningColumn.ACTIONS, widest)
        # The header fits these columns to their titles, not to rows inserted later: fit them to
        # the rows too (a short title, as in Chinese, left "Chat (LLM)" as "…").
        for column in FITTED_COLUMNS:
            if not header.isSectionHidden(column):
                self.table.resizeColumnToContents(column)
        self._fit_columns()

    def _size_columns(self) -> None:
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        for column in RunningColumn:
            if column in FITTED_COLUMNS:
                mode = QHeaderView.ResizeMode.ResizeToContents
            elif column == RunningColumn.ACTIONS:
                mode = QHeaderView.ResizeMode.Interactive
            else:
                mode = QHeaderView.ResizeMode.Stretch
            header.setSectionResizeMode(column, mode)
        header.resizeSection(RunningColumn.ACTIONS, 190)
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
            for column in RunningColumn:
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
                stretch = header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch
                self._column_room[column] = MIN_STRETCH if stretch else header.sectionSize(column)
                header.setSectionHidden(column, True)

    # -- what a person reads ------------------------------------------------------------------

    def _show_summary(self) -> None:
        self.summary.setText(self.model.summary())

    def _show_details(self, *_: object) -> None:
        row = self.selected_model()
        if row is None:
            self.details.hide()
            return
        self.details.show_model(self.ctx.session.endpoint, row)
        self.details.show()

    def selected_model(self) -> dict[str, Any] | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.record(index.row())

    def select(self, uid: str) -> None:
        row = self.model.row_of(uid)
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )

    def actions_for(self, uid: str) -> RunningActions | None:
        """The buttons shown on that model's row (None when it is not listed)."""
        row = self.model.row_of(uid)
        if row < 0:
            return None
        widget = self.table.indexWidget(self.model.index(row, RunningColumn.ACTIONS))
        return widget if isinstance(widget, RunningActions) else None

    # -- actions ------------------------------------------------------------------------------

    def _on_action(self, action: str, uid: str) -> None:
        record = self.model.model(uid)
        if record is None:
            return
        client = self.ctx.session.client
        if action == "chat":
            self.ctx.navigator.go("chat", uid)
        elif action == "stop":
            if self.confirm_stop(uid):
                self._call(uid, lambda: client.terminate(uid))
        elif action == "cancel":
            if record["state"] == "downloading":
                # The partial file stays: launching the same model later resumes the download.
                self._call(uid, lambda: client.cancel_launch(uid))
            else:
                self._call(uid, lambda: client.terminate(uid))
        elif action == "relaunch":
            self._call(uid, lambda: client.start_relaunch(uid))
        elif action == "remove":
            self._call(uid, lambda: client.terminate(uid))

    def confirm_stop(self, uid: str) -> bool:
        answer = QMessageBox.question(
            self,
            self.tr("Stop model"),
            self.tr(
                "Stop {0}? Apps that use it (FastGPT, the chat) get errors until you launch it "
                "again."
            ).format(uid),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _call(self, uid: str, fn: Callable[[], object]) -> None:
        self._busy.add(uid)
        self._sync_actions()
        call = PendingCall(uid, self._call_done, self._call_failed, self)
        self.ctx.tasks.run(fn, call.done, call.failed)

    def _call_done(self, uid: str, _result: object) -> None:
        self._busy.discard(uid)
        if not self._poll_error_shown:
            self.banner.clear()
        self._refresh_view()
        self._poller.poll_now()
        # The chat and models pages list running models too.
        self.ctx.navigator.running_changed.emit()

    def _call_failed(self, uid: str, message: str) -> None:
        self._busy.discard(uid)
        self.banner.show_error(self.tr("{0}: {1}").format(uid, message))
        self.banner.action.show()
        self._refresh_view()
        self._poller.poll_now()
