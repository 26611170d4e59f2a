"""The Logs page: what the server has been doing, filterable, and a support bundle to copy.

The server's own log buffer is read over REST (`GET /v1/xindesk/logs`, paged by sequence
number), so the page works the same for a remote server. When this window started the server,
the child's console output is a second source: it is the only one left when the server failed
to start or crashed, exactly when someone needs the log.
"""

from __future__ import annotations

import json
import logging
import platform
import sys

import PySide6
from PySide6.QtCore import QItemSelection, QModelIndex, Qt, qVersion
from PySide6.QtGui import QAction, QFontDatabase, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.api.admin import Diagnostics, LogPage
from desktop.gui.context import GuiContext
from desktop.gui.local_server import LocalServerStatus
from desktop.gui.models.log_model import LogFilter, LogModel, LogRow
from desktop.gui.pages.base import Page
from desktop.gui.polling import Poller
from desktop.gui.widgets.common import Banner, heading, hint, say_copied

log = logging.getLogger("xindesk.gui.logs")

POLL_MS = 1000
PAGE_SIZE = 2000
SERVER_SOURCE = "server"
CONSOLE_SOURCE = "console"
# The bundle's own lines are English on purpose: whoever reads a bug report may not read the
# reporter's language. The server's part is English too.
_CONNECTION_MODES = {
    LocalServerStatus.RUNNING: "local server started by this window",
    LocalServerStatus.ATTACHED: (
        "local server that was already running (not started by this window)"
    ),
    LocalServerStatus.STARTING: "local server, starting",
    LocalServerStatus.STOPPED: "local server, stopped",
    LocalServerStatus.FAILED: "local server, failed to start",
}


def connection_mode(ctx: GuiContext) -> str:
    """How the window reaches its server, in words for a support bundle."""
    if ctx.server is None:
        return "remote server"
    return _CONNECTION_MODES[ctx.server.state]


def diagnostics_text(
    ctx: GuiContext, server_bundle: Diagnostics | None, server_error: str | None
) -> str:
    """The support bundle as text: the GUI's facts, then the server's bundle (or why it is
    missing, with the console's last lines when this window ran the server). The API key is
    never in it: the server leaves it out, and it is scrubbed from the text as a last guard."""
    lines = [
        "XinDesk diagnostics",
        "===================",
        f"GUI version: {__version__}",
        f"PySide6: {PySide6.__version__} (Qt {qVersion()})",
        f"Python: {sys.version.split()[0]}",
        f"Platform: {platform.platform()}",
        f"Endpoint: {ctx.session.endpoint}",
        f"Connection: {connection_mode(ctx)}",
        f"API key: {'set (not shown)' if ctx.session.api_key else 'none'}",
        f"Language: {ctx.translations.language}",
        "",
    ]
    if server_bundle is not None:
        lines += ["Server diagnostics", "------------------"]
        bundle = server_bundle.model_dump(mode="json")
        lines.append(json.dumps(bundle, indent=2, ensure_ascii=False, sort_keys=False))
    else:
        lines += ["Server diagnostics: not available", f"Reason: {server_error}"]
    if ctx.server is not None and ctx.server.lines():
        lines += ["", "Console output of the local server (last 200 lines)", "-" * 51]
        lines += ctx.server.lines()[-200:]
    text = "\n".join(lines) + "\n"
    key = ctx.session.api_key
    return text.replace(key, "***") if key else text


class LogsPage(Page):
    """The server's log in a table with level and text filters, and "Copy diagnostics"."""

    key = "logs"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        # Bumped when the server changes: answers asked of the old one are dropped.
        self._generation = 0
        self._after = 0
        self._follow = True

        self.title_label = heading(self)
        self.intro = hint(self)
        self.banner = Banner(self)
        self.banner.action.clicked.connect(self._show_console)

        self.source_label = QLabel(self)
        self.source_combo = QComboBox(self)
        self.source_combo.addItem("", SERVER_SOURCE)
        if ctx.server is not None:
            self.source_combo.addItem("", CONSOLE_SOURCE)
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        self.level_label = QLabel(self)
        self.level_combo = QComboBox(self)
        for level in (logging.NOTSET, logging.WARNING, logging.ERROR):
            self.level_combo.addItem("", level)
        self.level_combo.currentIndexChanged.connect(self._level_changed)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._text_changed)
        self.clear_button = QPushButton(self)
        self.clear_button.clicked.connect(self._clear_view)
        self.diagnostics_button = QPushButton(self)
        self.diagnostics_button.setObjectName("primary")
        self.diagnostics_button.clicked.connect(self.copy_diagnostics)
        self.copy_status = QLabel(self)
        self.copy_status.setObjectName("hint")

        self.server_model = LogModel(parent=self)
        self.console_model = LogModel(parent=self)
        self.proxy = LogFilter(self)
        self.proxy.setSourceModel(self.server_model)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.view = QTableView(self)
        self.view.setObjectName("logView")
        self.view.setModel(self.proxy)
        self.view.setFont(mono)
        self.view.setWordWrap(False)
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.verticalHeader().hide()
        # Fixed row heights let a 10,000-row table scroll without measuring every row.
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        header.resizeSection(LogModel.TIME, self.view.fontMetrics().horizontalAdvance("0") * 15)
        header.resizeSection(LogModel.LEVEL, self.view.fontMetrics().horizontalAdvance("0") * 10)
        header.resizeSection(LogModel.SOURCE, self.view.fontMetrics().horizontalAdvance("0") * 26)
        self.copy_action = QAction(self.view)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_selected)
        self.view.addAction(self.copy_action)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        bar = self.view.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)

        self.details = QPlainTextEdit(self)
        self.details.setObjectName("logDetails")
        self.details.setReadOnly(True)
        self.details.setFont(mono)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([480, 120])

        self.footer = QLabel(self)
        self.footer.setObjectName("hint")

        tools = QHBoxLayout()
        tools.addWidget(self.source_label)
        tools.addWidget(self.source_combo)
        tools.addSpacing(12)
        tools.addWidget(self.level_label)
        tools.addWidget(self.level_combo)
        tools.addSpacing(12)
        tools.addWidget(self.filter_edit, 1)
        tools.addWidget(self.clear_button)
        actions = QHBoxLayout()
        actions.addWidget(self.footer, 1)
        actions.addWidget(self.copy_status)
        actions.addWidget(self.diagnostics_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(self.title_label)
        layout.addWidget(self.intro)
        layout.addWidget(self.banner)
        layout.addLayout(tools)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)

        self.poller: Poller[tuple[int, int, LogPage]] = Poller(
            ctx.tasks, self._fetch, self._apply, self._poll_failed, POLL_MS, self
        )
        if ctx.server is not None:
            self.console_model.append_console_lines(ctx.server.lines())
            ctx.server.log_line.connect(self._console_line)
        ctx.session.changed.connect(self._session_changed)
        self.proxy.rowsInserted.connect(self._update_footer)
        self.proxy.rowsRemoved.connect(self._update_footer)
        self.proxy.modelReset.connect(self._update_footer)
        self.proxy.layoutChanged.connect(self._update_footer)
        self.retranslate()

    # -- Page ---------------------------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Logs")

    def retranslate(self) -> None:
        self.title_label.setText(self.tr("Logs"))
        self.intro.setText(
            self.tr(
                "What the XinDesk server has been doing: models loaded, downloads, requests "
                "that failed. If something goes wrong, press Copy diagnostics and paste the "
                "result into your bug report (it never contains your API key)."
            )
        )
        self.source_label.setText(self.tr("Show:"))
        self.source_combo.setItemText(0, self.tr("Server log"))
        if self.source_combo.count() > 1:
            self.source_combo.setItemText(1, self.tr("Console output of the local server"))
        self.level_label.setText(self.tr("Level:"))
        self.level_combo.setItemText(0, self.tr("All messages"))
        self.level_combo.setItemText(1, self.tr("Warnings and errors"))
        self.level_combo.setItemText(2, self.tr("Errors only"))
        self.filter_edit.setPlaceholderText(self.tr("Filter: text in the message or source"))
        self.clear_button.setText(self.tr("Clear view"))
        self.clear_button.setToolTip(
            self.tr("Empty this list; only new messages are shown from now on.")
        )
        self.diagnostics_button.setText(self.tr("Copy diagnostics"))
        self.details.setPlaceholderText(self.tr("Select a line to read it in full here."))
        self.diagnostics_button.setToolTip(
            self.tr(
                "Copy a support bundle (versions, hardware, settings, models, recent log) to the "
                "clipboard. It holds no API key or token."
            )
        )
        self.copy_action.setText(self.tr("Copy selected lines"))
        # A past "Copied" would stay in the old language; it is news of the moment anyway.
        self.copy_status.clear()
        self.banner.action.setText(self.tr("Show console output"))
        self.server_model.retranslate()
        self.console_model.retranslate()
        self._update_footer()

    def activate(self, argument: object = None) -> None:
        self.copy_status.clear()
        self.poller.start()

    def deactivate(self) -> None:
        self.poller.stop()

    # -- the server's log over REST -----------------------------------------------------------

    def _fetch(self) -> tuple[int, int, LogPage]:
        # Runs off the GUI thread; the generation and seq read here say which question the
        # answer belongs to.
        generation, after = self._generation, self._after
        return generation, after, self.ctx.session.client.logs(after=after, limit=PAGE_SIZE)

    def _apply(self, answer: tuple[int, int, LogPage]) -> None:
        generation, after, result = answer
        if generation != self._generation or after != self._after:
            return
        if self.banner.isVisible() and self.source_combo.currentData() == SERVER_SOURCE:
            self.banner.clear()
        records = result.records
        last_seq = result.last_seq
        if last_seq < after:
            # A fresh buffer: the server restarted. Read it from its start.
            log.info("the server's log restarted (seq %d after %d)", last_seq, after)
            self._after = 0
            self.poller.poll_now()
            return
        self.server_model.append([LogRow.from_api(record) for record in records])
        self._after = last_seq
        if len(records) >= PAGE_SIZE and self.poller.active:
            # More are waiting (a first read of a full buffer): fetch them now, not in a second.
            self.poller.poll_now()

    def _poll_failed(self, message: str) -> None:
        if self.source_combo.currentData() != SERVER_SOURCE:
            return
        self.banner.show_error(self.tr("Cannot read the server's log: {0}").format(message))
        self.banner.action.setVisible(self.source_combo.count() > 1)

    def _session_changed(self) -> None:
        self._generation += 1
        self._after = 0
        self.server_model.clear()
        self.details.clear()

    # -- the local server's console -----------------------------------------------------------

    def _console_line(self, line: str) -> None:
        self.console_model.append_console_lines([line])

    def _show_console(self) -> None:
        self.source_combo.setCurrentIndex(self.source_combo.findData(CONSOLE_SOURCE))

    # -- filters and the view -----------------------------------------------------------------

    def _source_changed(self) -> None:
        console = self.source_combo.currentData() == CONSOLE_SOURCE
        self.proxy.setSourceModel(self.console_model if console else self.server_model)
        self.details.clear()
        if console:
            self.banner.clear()
        self._follow = True
        self.view.scrollToBottom()
        self._update_footer()

    def _level_changed(self) -> None:
        self.proxy.set_min_level(int(self.level_combo.currentData()))

    def _text_changed(self, text: str) -> None:
        self.proxy.set_text(text)

    def _clear_view(self) -> None:
        model = self.proxy.sourceModel()
        if isinstance(model, LogModel):
            model.clear()
        self.details.clear()

    def _scrolled(self, value: int) -> None:
        # Follow new lines only while the user is at the bottom; scrolling up to read stops it.
        self._follow = value >= self.view.verticalScrollBar().maximum() - 2
        self._update_footer()

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.view.verticalScrollBar().setValue(maximum)

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        current = self.view.currentIndex()
        if not current.isValid():
            self.details.clear()
            return
        self.details.setPlainText(self.proxy.row_at(current.row()).text())

    def _update_footer(self, *_: object) -> None:
        model = self.proxy.sourceModel()
        total = model.rowCount(QModelIndex()) if model is not None else 0
        shown = self.proxy.rowCount()
        text = (
            self.tr("{0} lines").format(total)
            if shown == total
            else self.tr("{0} of {1} lines match the filter").format(shown, total)
        )
        console = self.source_combo.currentData() == CONSOLE_SOURCE
        if console and total == 0 and self.ctx.server is not None and not self.ctx.server.owned:
            text = self.tr(
                "No console output: this window did not start the server (it was already "
                "running), so only the server log can be shown."
            )
        if not self._follow:
            text = self.tr("{0} · scrolled up: scroll to the bottom to follow new lines").format(
                text
            )
        self.footer.setText(text)

    def selected_rows(self) -> list[LogRow]:
        rows = sorted({index.row() for index in self.view.selectionModel().selectedRows()})
        return [self.proxy.row_at(row) for row in rows]

    def copy_selected(self) -> None:
        rows = self.selected_rows()
        if rows:
            QGuiApplication.clipboard().setText("\n".join(row.text() for row in rows) + "\n")

    # -- diagnostics --------------------------------------------------------------------------

    def copy_diagnostics(self) -> None:
        """Ask the server for its support bundle and copy it with the GUI's facts."""
        self.diagnostics_button.setEnabled(False)
        self.copy_status.setText(self.tr("Collecting…"))
        self.ctx.tasks.run(
            self.ctx.session.client.diagnostics, self._diagnostics_ready, self._diagnostics_failed
        )

    def _diagnostics_ready(self, bundle: Diagnostics) -> None:
        QGuiApplication.clipboard().setText(diagnostics_text(self.ctx, bundle, None))
        self.diagnostics_button.setEnabled(True)
        say_copied(self.copy_status, self.tr("Copied"), self.copy_status.clear)

    def _diagnostics_failed(self, message: str) -> None:
        # The bundle matters most when the server is broken: copy what the window knows.
        QGuiApplication.clipboard().setText(diagnostics_text(self.ctx, None, message))
        self.diagnostics_button.setEnabled(True)
        self.copy_status.setText(self.tr("Copied (without the server's part: {0})").format(message))
