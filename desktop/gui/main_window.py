"""The main window: a sidebar of pages, the pages, and the server's state at the bottom."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from desktop.gui.context import GuiContext
from desktop.gui.local_server import LocalServerStatus
from desktop.gui.pages.base import Page
from desktop.gui.pages.chat import ChatPage
from desktop.gui.pages.connect import ConnectPage
from desktop.gui.pages.downloads import DownloadsPage
from desktop.gui.pages.logs import LogsPage
from desktop.gui.pages.models import ModelsPage
from desktop.gui.pages.running import RunningPage
from desktop.gui.pages.settings import SettingsPage
from desktop.gui.pages.welcome import WelcomePage

log = logging.getLogger("xindesk.gui.window")

PAGE_TYPES: tuple[type[Page], ...] = (
    WelcomePage,
    ModelsPage,
    DownloadsPage,
    RunningPage,
    ChatPage,
    ConnectPage,
    SettingsPage,
    LogsPage,
)


class MainWindow(QMainWindow):
    """XinDesk's window.

    Signals:
        close_requested(): the user closed the window (the app decides: tray or quit).
    """

    close_requested = Signal()

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("mainWindow")
        self.resize(1180, 760)
        self.setMinimumSize(QSize(900, 600))
        self.sidebar = QListWidget(self)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(180)
        self.stack = QStackedWidget(self)
        self.pages: dict[str, Page] = {}
        for page_type in PAGE_TYPES:
            page = page_type(ctx, self.stack)
            self.pages[page.key] = page
            self.stack.addWidget(page)
            item = QListWidgetItem(self.sidebar)
            item.setData(Qt.ItemDataRole.UserRole, page.key)
        central = QWidget(self)
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.server_label = QLabel(self)
        self.server_label.setObjectName("serverState")
        self.server_button = QPushButton(self)
        self.server_button.clicked.connect(self._server_action)
        self.statusBar().addWidget(self.server_label, 1)
        self.statusBar().addPermanentWidget(self.server_button)

        self._current: Page | None = None
        self._closing_for_real = False
        self.sidebar.currentRowChanged.connect(self._row_changed)
        ctx.navigator.open_page.connect(self.open_page)
        ctx.session.changed.connect(self._show_server_state)
        if ctx.server is not None:
            ctx.server.state_changed.connect(self._show_server_state)
        self.retranslate()
        self._show_server_state()

    # -- navigation ---------------------------------------------------------------------------

    def open_page(self, key: str, argument: object = None) -> None:
        page = self.pages[key]
        row = list(self.pages).index(key)
        if self.sidebar.currentRow() != row:
            self.sidebar.blockSignals(True)
            self.sidebar.setCurrentRow(row)
            self.sidebar.blockSignals(False)
        self._switch_to(page, argument)

    def current_page(self) -> Page | None:
        return self._current

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self._switch_to(list(self.pages.values())[row], None)

    def _switch_to(self, page: Page, argument: object) -> None:
        if self._current is not None and self._current is not page:
            self._current.deactivate()
        self._current = page
        self.stack.setCurrentWidget(page)
        page.activate(argument)

    # -- server state -------------------------------------------------------------------------

    def _show_server_state(self, *_: object) -> None:
        server = self.ctx.server
        endpoint = self.ctx.session.endpoint
        if server is None or endpoint != server.url:
            self.server_label.setText(self.tr("Connected to a remote server: {0}").format(endpoint))
            self.server_button.hide()
            return
        state = server.state
        texts = {
            LocalServerStatus.STOPPED: self.tr("Server stopped"),
            LocalServerStatus.STARTING: self.tr("Server starting…"),
            LocalServerStatus.RUNNING: self.tr("Server running at {0}").format(endpoint),
            LocalServerStatus.ATTACHED: self.tr("Using the server already running at {0}").format(
                endpoint
            ),
            LocalServerStatus.FAILED: self.tr("Server failed to start: {0}").format(
                server.error.splitlines()[0] if server.error else ""
            ),
        }
        self.server_label.setText(texts[state])
        self.server_label.setProperty("state", state.value)
        self.server_label.style().unpolish(self.server_label)
        self.server_label.style().polish(self.server_label)
        self.server_button.setVisible(
            state in (LocalServerStatus.STOPPED, LocalServerStatus.FAILED)
        )
        self.server_button.setText(self.tr("Start server"))

    def _server_action(self) -> None:
        if self.ctx.server is not None:
            self.ctx.server.start()

    # -- language and closing -----------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("XinDesk: your private AI server"))
        for row, page in enumerate(self.pages.values()):
            item = self.sidebar.item(row)
            if item is not None:
                item.setText(page.title())
        self._show_server_state()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def quit_for_real(self) -> None:
        """Close without going to the tray (the app is quitting)."""
        self._closing_for_real = True
        self.close()

    def shutdown(self) -> None:
        """Stop every page's timers and wait for background calls (window closing for good)."""
        for page in self.pages.values():
            page.shutdown()
        if not self.ctx.tasks.stop_all():
            log.warning("some background calls were still running at shutdown")

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing_for_real:
            event.ignore()
            self.close_requested.emit()
            return
        self.shutdown()
        event.accept()
