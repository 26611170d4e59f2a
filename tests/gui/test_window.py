"""The window as a whole: pages, navigation, the local server child, closing cleanly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication, QIcon
from pytestqt.qtbot import QtBot

from desktop.gui.app import DesktopApp
from desktop.gui.local_server import LocalServerStatus
from desktop.gui.main_window import PAGE_TYPES
from desktop.gui.tray import Tray
from tests.fixtures.server import ServerProcess, free_port
from tests.gui.conftest import write_settings


def test_every_page_opens_from_the_sidebar(desktop_app: DesktopApp, qtbot: QtBot) -> None:
    window = desktop_app.window
    assert window.sidebar.count() == len(PAGE_TYPES)
    for row, page_type in enumerate(PAGE_TYPES):
        window.sidebar.setCurrentRow(row)
        page = window.current_page()
        assert isinstance(page, page_type)
        assert window.stack.currentWidget() is page
        assert window.sidebar.item(row).text() == page.title()


def test_an_attached_window_shows_the_endpoint(
    desktop_app: DesktopApp, gui_server: ServerProcess
) -> None:
    assert gui_server.url in desktop_app.window.server_label.text()


@pytest.mark.slow
def test_the_window_starts_its_own_server_and_stops_it_on_quit(
    make_app: Callable[..., DesktopApp], qtbot: QtBot, tmp_path: Path
) -> None:
    import os

    home = Path(os.environ["XINDESK_HOME"])
    port = free_port()
    write_settings(home, {"server": {"port": port}, "ui": {"welcome_done": True}})
    desktop = make_app()
    server = desktop.ctx.server
    assert server is not None
    qtbot.waitUntil(lambda: server.state is LocalServerStatus.RUNNING, timeout=60_000)
    assert server.owned
    assert f"127.0.0.1:{port}" in desktop.window.server_label.text()
    # The child's output arrives through the event loop, maybe after /status first answers.
    qtbot.waitUntil(lambda: any("serving on" in line for line in server.lines()), timeout=10_000)
    desktop.close()
    assert server.state is LocalServerStatus.STOPPED
    assert not server.owned


def test_the_tray_offers_and_copies_the_endpoint_clients_are_given(
    desktop_app: DesktopApp, gui_server: ServerProcess
) -> None:
    tray = Tray(desktop_app.ctx, QIcon())
    try:
        tray.retranslate()
        assert tray.copy_action.text().endswith(f"{gui_server.url}/v1")
        tray.copy_endpoint()
        assert QGuiApplication.clipboard().text() == f"{gui_server.url}/v1"
    finally:
        tray.deleteLater()
