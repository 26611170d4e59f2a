"""The tray icon: the server's state, the endpoint, open the window, quit."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from desktop.gui.context import GuiContext
from desktop.gui.local_server import LocalServerStatus


class Tray(QObject):
    """XinDesk's icon in the system tray (menu bar on macOS).

    Signals:
        open_requested(): show the window.
        quit_requested(): quit the app (and stop the server it started).
    """

    open_requested = Signal()
    quit_requested = Signal()

    def __init__(self, ctx: GuiContext, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.icon = QSystemTrayIcon(icon, self)
        self.menu = QMenu()
        self.state_action = QAction(self.menu)
        self.state_action.setEnabled(False)
        self.copy_action = QAction(self.menu)
        self.copy_action.triggered.connect(self.copy_endpoint)
        self.open_action = QAction(self.menu)
        self.open_action.triggered.connect(self.open_requested)
        self.quit_action = QAction(self.menu)
        self.quit_action.triggered.connect(self.quit_requested)
        for action in (self.state_action, self.copy_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        if ctx.server is not None:
            ctx.server.state_changed.connect(self.retranslate)
        ctx.session.changed.connect(self.retranslate)
        self.menu.installEventFilter(self)
        self.retranslate()

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def state_text(self) -> str:
        server = self.ctx.server
        if server is None:
            return self.tr("Remote server: {0}").format(self.ctx.session.endpoint)
        return {
            LocalServerStatus.STOPPED: self.tr("Server stopped"),
            LocalServerStatus.STARTING: self.tr("Server starting…"),
            LocalServerStatus.RUNNING: self.tr("Server running"),
            LocalServerStatus.ATTACHED: self.tr("Server running"),
            LocalServerStatus.FAILED: self.tr("Server failed"),
        }[server.state]

    def retranslate(self, *_: object) -> None:
        self.state_action.setText(self.state_text())
        self.copy_action.setText(self.tr("Copy endpoint {0}").format(self.openai_endpoint()))
        self.open_action.setText(self.tr("Open XinDesk"))
        self.quit_action.setText(self.tr("Quit XinDesk"))
        self.icon.setToolTip(f"XinDesk · {self.state_text()}")

    def openai_endpoint(self) -> str:
        """The base URL clients are given (OpenAI's, with /v1), as the Connect page says."""
        return f"{self.ctx.session.endpoint}/v1"

    def copy_endpoint(self) -> None:
        QGuiApplication.clipboard().setText(self.openai_endpoint())

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The menu is not a child of a window, so it gets LanguageChange on its own.
        if watched is self.menu and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        return super().eventFilter(watched, event)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_requested.emit()
