"""The Connect page's FastGPT / One API section: the config to paste, and a check that sends
FastGPT's own requests to the endpoint before the person pastes anything.

The config text comes from the server (`GET /v1/xindesk/export/fastgpt`), built from the models
that are running. The check runs here, as a client, with `desktop.core.export.check`: it is
what FastGPT would send, so it runs where a client runs.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.api.export import ExportAnswer, ExportFormat, Target
from desktop.gui.context import GuiContext
from desktop.gui.widgets.common import Banner, hint, say_copied

if TYPE_CHECKING:
    # The check loads its HTTP machinery when it first runs, not at the window's start.
    from desktop.core.export.check import CheckResult

log = logging.getLogger("xindesk.gui.export")

# Every format and target of the export, in the order offered: the newest FastGPT first, and
# FastGPT in Docker on this computer, the usual setup.
FORMATS: tuple[ExportFormat, ...] = (
    "v4.9",
    "legacy",
    "legacy-full",
    "oneapi",
    "aiproxy",
    "env",
    "curl",
)
TARGETS: tuple[Target, ...] = ("docker", "same", "lan")


class CheckRelay(QObject):
    """Carries check results from the worker thread to the GUI thread (queued signal).

    Signals:
        result(object): one `CheckResult`, as soon as it is known.
    """

    result = Signal(object)


class ExportPanel(QWidget):
    """Format and host choice, the text with Copy / Save, and "Test as FastGPT"."""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.format_label = QLabel(self)
        self.format_combo = QComboBox(self)
        self.target_label = QLabel(self)
        self.target_combo = QComboBox(self)
        for _ in FORMATS:
            self.format_combo.addItem("")
        for _ in TARGETS:
            self.target_combo.addItem("")
        form = QFormLayout()
        form.addRow(self.format_label, self.format_combo)
        form.addRow(self.target_label, self.target_combo)
        self.banner = Banner(self)
        self.warnings = hint(self)
        # The server's words about the export (not a text of ours to translate).
        self.warnings.setProperty("xindesk_data", True)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMinimumHeight(220)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.copy_button = QPushButton(self)
        self.copy_button.setObjectName("primary")
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QPushButton(self)
        self.save_button.clicked.connect(self._save)
        self.check_button = QPushButton(self)
        self.check_button.clicked.connect(self.toggle_check)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.check_button)
        self.check_summary = QLabel(self)
        self.check_summary.setWordWrap(True)
        self.results = QTreeWidget(self)
        self.results.setColumnCount(3)
        self.results.setRootIsDecorated(False)
        self.results.setMinimumHeight(160)
        self.results.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.banner)
        layout.addWidget(self.warnings)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        layout.addWidget(self.check_summary)
        layout.addWidget(self.results)

        self._relay = CheckRelay(self)
        self._relay.result.connect(self._check_result)
        self._stop_check = threading.Event()
        self._checking = False
        self._passed = 0
        self._ran = 0
        self._export: ExportAnswer | None = None
        self._generation = 0
        self.format_combo.currentIndexChanged.connect(self.refresh)
        self.target_combo.currentIndexChanged.connect(self.refresh)
        ctx.navigator.running_changed.connect(self.refresh)
        self.retranslate()

    # -- what is chosen ------------------------------------------------------------------------

    def export_format(self) -> ExportFormat:
        return FORMATS[max(self.format_combo.currentIndex(), 0)]

    def target(self) -> Target:
        return TARGETS[max(self.target_combo.currentIndex(), 0)]

    def set_choice(self, export_format: ExportFormat, target: Target) -> None:
        self.format_combo.setCurrentIndex(FORMATS.index(export_format))
        self.target_combo.setCurrentIndex(TARGETS.index(target))

    def exported_text(self) -> str:
        return self.text.toPlainText()

    # -- the config text -----------------------------------------------------------------------

    def refresh(self, *_: object) -> None:
        """Ask the server for the config in the chosen format, for the chosen host."""
        export_format, target = self.export_format(), self.target()
        self._generation += 1
        generation, session = self._generation, self.ctx.session

        def fetch() -> tuple[int, ExportAnswer]:
            return generation, session.client.export_fastgpt(export_format, target=target)

        self.ctx.tasks.run(fetch, self._exported, self._export_failed)

    def _exported(self, answer: tuple[int, ExportAnswer]) -> None:
        generation, result = answer
        if generation != self._generation:
            return  # the answer to a choice the person has changed since
        self._export = result
        self.banner.clear()
        self.text.setPlainText(result.text)
        notes = result.warnings
        self.warnings.setText("\n".join(f"• {note}" for note in notes))
        self.warnings.setVisible(bool(notes))
        self.copy_button.setEnabled(True)
        self.save_button.setEnabled(True)

    def _export_failed(self, message: str) -> None:
        self._export = None
        self.text.clear()
        self.warnings.hide()
        self.copy_button.setEnabled(False)
        self.save_button.setEnabled(False)
        self.banner.show_error(message)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())
        say_copied(
            self.copy_button, self.tr("Copied"), lambda: self.copy_button.setText(self.tr("Copy"))
        )

    def _save(self) -> None:
        is_json = self._export is not None and self._export.content_type == "json"
        suggested = (
            "config.json"
            if self.export_format() == "legacy-full"
            else ("xindesk-models.json" if is_json else "xindesk-fastgpt.txt")
        )
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Save the configuration"), suggested
        )
        if not path:
            return
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(self.text.toPlainText())
        except OSError as exc:
            self.banner.show_error(self.tr("Could not save the file: {0}").format(exc))

    # -- the check -----------------------------------------------------------------------------

    def toggle_check(self) -> None:
        if self._checking:
            self._stop_check.set()
            return
        from desktop.core.export.check import CheckModels, check_names, run_fastgpt_check

        self._checking = True
        self._stop_check.clear()
        self._passed = self._ran = 0
        self.results.clear()
        self.results.show()
        self._total = len(check_names())
        self.check_summary.setText(self.tr("Sending FastGPT's requests…"))
        self._update_check_button()
        session, relay, stop = self.ctx.session, self._relay, self._stop_check

        def run() -> int:
            from desktop.core.export import select_models

            selection = select_models(session.client.list_models())
            results = run_fastgpt_check(
                session.endpoint,
                session.api_key,
                CheckModels.from_selection(selection),
                on_result=relay.result.emit,
                should_stop=stop.is_set,
            )
            return len(results)

        self.ctx.tasks.run(run, self._check_done, self._check_failed)

    def _check_result(self, result: CheckResult) -> None:
        self._ran += 1
        self._passed += int(result.passed)
        mark = self.tr("Pass") if result.passed else self.tr("Fail")
        item = QTreeWidgetItem([mark, result.name, result.reason])
        item.setToolTip(2, result.reason)
        item.setData(0, Qt.ItemDataRole.UserRole, result.passed)
        item.setForeground(0, Qt.GlobalColor.darkGreen if result.passed else Qt.GlobalColor.red)
        self.results.addTopLevelItem(item)
        self.results.resizeColumnToContents(0)

    def _check_done(self, ran: int) -> None:
        self._checking = False
        self._update_check_button()
        if self._stop_check.is_set():
            text = self.tr("Stopped after {0} checks.").format(ran)
        elif self._passed == ran:
            text = self.tr("All {0} checks passed: FastGPT can use this endpoint.").format(ran)
        else:
            text = self.tr(
                "{0} of {1} checks passed. The failures say what FastGPT would trip on."
            ).format(self._passed, ran)
        self.check_summary.setText(text)

    def _check_failed(self, message: str) -> None:
        self._checking = False
        self._update_check_button()
        self.check_summary.setText(self.tr("The check could not run: {0}").format(message))

    @property
    def checking(self) -> bool:
        return self._checking

    def check_results(self) -> list[tuple[bool, str, str]]:
        """(passed, name, reason) of every check shown."""
        rows = []
        for index in range(self.results.topLevelItemCount()):
            item = self.results.topLevelItem(index)
            if item is None:
                continue
            rows.append((bool(item.data(0, Qt.ItemDataRole.UserRole)), item.text(1), item.text(2)))
        return rows

    def stop(self) -> None:
        self._stop_check.set()

    # -- language ------------------------------------------------------------------------------

    def _update_check_button(self) -> None:
        self.check_button.setText(
            self.tr("Stop the test") if self._checking else self.tr("Test it as FastGPT would")
        )

    def retranslate(self) -> None:
        self.format_label.setText(self.tr("What to paste into"))
        self.target_label.setText(self.tr("Where FastGPT runs"))
        format_titles = {
            "v4.9": self.tr("FastGPT 4.8.20 or newer: model JSON to append in Model settings"),
            "legacy": self.tr("FastGPT 4.8.19 or older: parts to merge into config.json"),
            "legacy-full": self.tr("FastGPT 4.8.19 or older: a whole config.json"),
            "oneapi": self.tr("One API: channel settings"),
            "aiproxy": self.tr("AI Proxy (FastGPT 4.9+): channel settings"),
            "env": self.tr("docker-compose: environment lines"),
            "curl": self.tr("curl commands to test by hand"),
        }
        target_titles = {
            "docker": self.tr("In Docker on this computer"),
            "same": self.tr("On this computer, not in Docker"),
            "lan": self.tr("On another computer on my network"),
        }
        for index, key in enumerate(FORMATS):
            self.format_combo.setItemText(index, format_titles[key])
        for index, target in enumerate(TARGETS):
            self.target_combo.setItemText(index, target_titles[target])
        self.copy_button.setText(self.tr("Copy"))
        self.save_button.setText(self.tr("Save as…"))
        self._update_check_button()
        self.results.setHeaderLabels([self.tr("Result"), self.tr("Request"), self.tr("Why")])
        if not self._checking and self._ran == 0:
            self.check_summary.setText(
                self.tr(
                    "The test sends the requests FastGPT sends (chat, streaming, tools, "
                    "embeddings, rerank) to this endpoint with your key."
                )
            )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
