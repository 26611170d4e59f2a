"""Start the desktop app: settings, language, the local server child, the window and the tray."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.api.settings import Settings
from desktop.core.errors import ConfigError
from desktop.core.paths import AppPaths, resources_dir
from desktop.core.settings import load_settings
from desktop.gui.connection import Connection
from desktop.gui.context import GuiContext, Navigator
from desktop.gui.i18n import Translations
from desktop.gui.local_server import LocalServerStatus
from desktop.gui.main_window import MainWindow
from desktop.gui.tasks import Tasks
from desktop.gui.tray import Tray
from desktop.gui.wheel_guard import WheelGuard

log = logging.getLogger("xindesk.gui")

# Set by bench/gui_startup.py: print the seconds from process start to the window shown, quit.
STARTUP_PROBE_ENV = "XINDESK_STARTUP_PROBE"


def load_style(app: QApplication) -> None:
    sheet = resources_dir() / "styles" / "xindesk.qss"
    if sheet.exists():
        app.setStyleSheet(sheet.read_text(encoding="utf-8"))


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "xindesk.svg"))


class DesktopApp(QObject):
    """Owns the window, the tray and the local server for one run of the app."""

    def __init__(
        self,
        app: QApplication,
        paths: AppPaths,
        settings: Settings,
        *,
        endpoint: str | None = None,
        api_key: str | None = None,
        start_server: bool = True,
        server_environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.app = app
        self.translations = Translations(self)
        self.translations.apply(settings.ui.language)
        tasks = Tasks(self)
        self.connection = Connection(
            paths,
            settings,
            tasks,
            endpoint=endpoint,
            api_key=api_key,
            server_environment=server_environment,
            parent=self,
        )
        self.ctx = GuiContext(
            connection=self.connection,
            tasks=tasks,
            translations=self.translations,
            navigator=Navigator(self),
        )
        # Before the window is built, so every box it makes is seen when first polished.
        self.wheel_guard = WheelGuard(self)
        app.installEventFilter(self.wheel_guard)
        self.window = MainWindow(self.ctx)
        self.window.setWindowIcon(app_icon())
        self.window.close_requested.connect(self._window_closed)
        self.tray: Tray | None = None
        if Tray.available():
            self.tray = Tray(self.ctx, app_icon(), self)
            self.tray.open_requested.connect(self.show_window)
            self.tray.quit_requested.connect(self.quit)
            self.tray.show()
        if self.connection.server is not None and start_server:
            self.connection.server.start()
        first = "models" if settings.ui.welcome_done else "welcome"
        self.window.open_page(first)

    def show_window(self) -> None:
        if self.window.isHidden() and (page := self.window.current_page()) is not None:
            # Hiding to the tray stopped the pages' polling; start the shown page's again.
            page.activate(None)
        self.window.show()
        if QApplication.platformName() not in ("offscreen", "minimal"):
            self.window.raise_()
            self.window.activateWindow()

    def _window_closed(self) -> None:
        if self.tray is not None and self.ctx.settings.ui.keep_running_in_tray:
            self.window.hide()
            self.window.shutdown()
            return
        self.quit()

    def close(self) -> None:
        """Close the window for good and stop the server if this app started it."""
        self.app.removeEventFilter(self.wheel_guard)
        self.window.quit_for_real()
        if self.tray is not None:
            self.tray.hide()
        self.connection.close()

    def quit(self) -> None:
        """Close everything and leave the event loop."""
        self.close()
        self.app.quit()


def run_gui(argv: Sequence[str] | None = None) -> int:
    """`xindesk` with no command: open the window."""
    started = time.perf_counter()
    os.environ.setdefault("QT_API", "pyside6")
    app = QApplication.instance() or QApplication(list(argv or sys.argv))
    assert isinstance(app, QApplication)
    app.setApplicationName("XinDesk")
    app.setOrganizationName("XinDesk")
    app.setWindowIcon(app_icon())
    # Closing the window may leave the app in the tray; quitting is explicit.
    app.setQuitOnLastWindowClosed(False)
    load_style(app)
    paths = AppPaths.from_environment()
    paths.ensure()
    try:
        settings = load_settings(paths)
    except ConfigError as exc:
        QMessageBox.critical(None, "XinDesk", str(exc))
        return 1
    desktop = DesktopApp(app, paths, settings)
    desktop.show_window()
    if probe := os.environ.get(STARTUP_PROBE_ENV):
        install_startup_probe(desktop, probe, started)
    return app.exec()


def install_startup_probe(desktop: DesktopApp, probe: str, started: float) -> None:
    """Report on stdout that the window came up, then quit (start-up benchmark, smoke tests).

    Any value reports `window-shown <seconds>` once the window is painted. `server` also waits
    for the window's own server child and reports `server-running <url>` or
    `server-failed <reason>`: the frozen app's smoke test uses it to see that the packaged
    executable can start its server.
    """

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def window_shown() -> None:
        say(f"window-shown {time.perf_counter() - started:.4f}")
        server = desktop.ctx.server
        if probe != "server" or server is None:
            desktop.quit()
            return
        server.state_changed.connect(lambda _state: server_state())
        server_state()

    def server_state() -> None:
        server = desktop.ctx.server
        assert server is not None
        if server.state in (LocalServerStatus.RUNNING, LocalServerStatus.ATTACHED):
            say(f"server-{server.state.value} {server.url}")
        elif server.state is LocalServerStatus.FAILED:
            say(f"server-failed {server.error or 'no reason given'}")
        else:
            return
        desktop.quit()

    QTimer.singleShot(0, window_shown)
