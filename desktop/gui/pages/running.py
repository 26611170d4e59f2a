"""The Running page: the server's launched models, their state and memory, and what to do next.

A model is listed from the moment it is launched: while its file downloads (with progress),
while it loads into memory, once ready, and after a failure (with the reason and Relaunch).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHeaderView,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.context import GuiContext
from desktop.gui.dialogs.keep import KeepDialog
from desktop.gui.models.record_table import COLOUR_ROLE, PROGRESS_ROLE
from desktop.gui.models.running_model import (
    RunningColumn,
    RunningModelsModel,
    RunningRow,
    fetch_running_models,
)
from desktop.gui.pages.table_page import TablePage
from desktop.gui.widgets.common import CopyField
from desktop.gui.widgets.progress_delegate import ProgressDelegate
from desktop.gui.widgets.row_actions import RowActions

log = logging.getLogger("xindesk.gui.running")


class RunningActions(RowActions):
    """The buttons of one running model's row; which ones show depends on its state.

    `requested` carries an action ("chat", "load", "unload", "keep", "stop", "cancel",
    "relaunch", "remove") and the model's uid.
    """

    ACTIONS = ("chat", "load", "unload", "keep", "stop", "cancel", "relaunch", "remove")
    NAME = "running"

    def show_for(self, state: str, *, can_chat: bool, busy: bool) -> None:
        chat = {"chat"} if can_chat else set()
        shown = {
            "ready": chat | {"unload", "keep", "stop"},
            "unloaded": chat | {"load", "keep", "stop"},
            "loading": {"cancel"},
            "downloading": {"cancel"},
            "error": {"relaunch", "remove"},
        }.get(state, {"stop"})
        # Opening the chat asks nothing of the server, so it stays usable during a call.
        self.show_only(shown, busy=busy, usable_while_busy={"chat"})

    def retranslate(self) -> None:
        self.set_texts(
            {
                "chat": (self.tr("Open in chat"), self.tr("Talk to this model on the Chat page")),
                "load": (self.tr("Load"), self.tr("Load the model into memory now")),
                "unload": (
                    self.tr("Unload"),
                    self.tr("Free its memory; the next request that names it loads it again"),
                ),
                "keep": (
                    self.tr("Keep…"),
                    self.tr("Pin it, load it when the server starts, or set its idle time"),
                ),
                "stop": (
                    self.tr("Stop"),
                    self.tr("Stop serving the model and free its memory"),
                ),
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
        )


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
        self.runs_on = QLabel(self)
        self.runs_on.setObjectName("runsOn")
        self.runs_on.setWordWrap(True)
        self.keeping = QLabel(self)
        self.keeping.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setObjectName("runningError")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = QFormLayout()
        # Labels made here: QFormLayout makes none for an empty text, and retranslate fills them.
        for field in (
            self.address,
            self.uid,
            self.file,
            self.context,
            self.runs_on,
            self.keeping,
        ):
            self.form.addRow(QLabel(self), field)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.title)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        self.retranslate()

    def show_model(self, endpoint: str, row: RunningRow) -> None:
        self.title.setText(self.tr("Use {0} from other apps").format(row.uid))
        self.address.set_value(f"{endpoint}/v1")
        self.uid.set_value(row.uid)
        self.file.setText(row.model_path or "–")
        context = row.context_length
        self.context.setText(self.tr("{0} tokens").format(context) if context else "–")
        if row.state == "error" and row.error:
            self.error.setText(self.tr("What went wrong: {0}").format(row.error))
            self.error.show()
        else:
            self.error.hide()

    def retranslate(self) -> None:
        labels = (
            self.tr("API address"),
            self.tr("Model ID"),
            self.tr("File"),
            self.tr("Context length"),
            self.tr("Runs on"),
            self.tr("Kept"),
        )
        for row, text in enumerate(labels):
            item = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(label := item.widget(), QLabel):
                label.setText(text)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class RunningPage(TablePage[RunningRow, RunningActions]):
    """Launched models with their state, memory and actions (open in chat, stop, relaunch).

    `activate(uid)` selects that model once the list is loaded.
    """

    key = "running"
    name = "running"
    actions_class = RunningActions
    actions_column = RunningColumn.ACTIONS
    optional_columns = (
        RunningColumn.NAME,
        RunningColumn.QUANTIZATION,
        RunningColumn.TYPE,
        RunningColumn.DEVICE,
    )
    """Hidden in a narrow window, the least needed first."""
    fitted_columns = (
        RunningColumn.TYPE,
        RunningColumn.QUANTIZATION,
        RunningColumn.MEMORY,
        RunningColumn.DEVICE,
    )
    min_stretch = 120
    """The narrowest a stretching column (UID, model, state) may get before others are hidden."""

    model: RunningModelsModel
    details: ModelDetails

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, RunningModelsModel(), parent)
        self.models_button = self.empty_page.button
        self.table.setItemDelegateForColumn(
            RunningColumn.STATE,
            ProgressDelegate(PROGRESS_ROLE, COLOUR_ROLE, text_width=150, parent=self.table),
        )
        self._size_columns()
        ctx.navigator.running_changed.connect(self.reload)
        self.retranslate()

    def _create_details(self) -> ModelDetails:
        return ModelDetails(self)

    def _size_columns(self) -> None:
        header = self.table.horizontalHeader()
        for column in RunningColumn:
            if column in self.fitted_columns:
                mode = QHeaderView.ResizeMode.ResizeToContents
            elif column == RunningColumn.ACTIONS:
                mode = QHeaderView.ResizeMode.Interactive
            else:
                mode = QHeaderView.ResizeMode.Stretch
            header.setSectionResizeMode(column, mode)
        header.resizeSection(RunningColumn.ACTIONS, 190)

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
        super().retranslate()

    # -- loading ------------------------------------------------------------------------------

    def _fetch(self) -> list[RunningRow]:
        return fetch_running_models(self.ctx.session.client)

    def _load(self, records: list[RunningRow]) -> None:
        self.model.set_models(records)

    def _load_error(self, message: str) -> str:
        return self.tr("Cannot load the running models: {0}").format(message)

    def _show_actions(self, actions: RunningActions, record: RunningRow, *, busy: bool) -> None:
        actions.show_for(record.state, can_chat=self.model.can_chat(record), busy=busy)

    # -- what a person reads ------------------------------------------------------------------

    def _describe(self, record: RunningRow) -> None:
        self.details.show_model(self.ctx.session.endpoint, record)
        self.details.runs_on.setText(self.model.device_text(record))
        self.details.runs_on.setToolTip(self.model.device_tooltip(record) or "")
        self.details.keeping.setText(self.model.keeping_text(record))

    # -- actions ------------------------------------------------------------------------------

    def _on_action(self, action: str, uid: str) -> None:
        record = self.model.record_of(uid)
        if record is None:
            return
        client = self.ctx.session.client
        if action == "chat":
            self.ctx.navigator.go("chat", uid)
        elif action == "stop":
            if self.confirm_stop(uid):
                self._call(uid, lambda: client.terminate(uid))
        elif action == "cancel":
            if record.state == "downloading":
                # The partial file stays: launching the same model later resumes the download.
                self._call(uid, lambda: client.cancel_launch(uid))
            else:
                self._call(uid, lambda: client.terminate(uid))
        elif action == "load":
            self._call(uid, lambda: client.load_model(uid))
        elif action == "unload":
            self._call(uid, lambda: client.unload_model(uid))
        elif action == "keep":
            dialog = KeepDialog(record, self)
            if dialog.exec() == KeepDialog.DialogCode.Accepted:
                change = dialog.change()
                self._call(uid, lambda: client.set_service(uid, change))
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

    def _call_done(self, keys: list[str], result: object) -> None:
        super()._call_done(keys, result)
        # The chat and models pages list running models too.
        self.ctx.navigator.running_changed.emit()

    def _call_error(self, keys: list[str], message: str) -> str:
        return self.tr("{0}: {1}").format(", ".join(keys), message)
