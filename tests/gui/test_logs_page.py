"""The Logs page: the server's log buffer over REST, filters, the console, and diagnostics."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop import __version__
from desktop.api.admin import LogRecord
from desktop.api.settings import Settings
from desktop.client import XinDeskClient
from desktop.gui.app import DesktopApp
from desktop.gui.local_server import LocalServerStatus
from desktop.gui.models.log_model import LogFilter, LogModel, LogRow, parse_console_line
from desktop.gui.pages.logs import CONSOLE_SOURCE, LogsPage
from tests.fixtures.server import ServerProcess, free_port, run_server
from tests.gui.conftest import write_settings
from tests.gui.i18n_helpers import PseudoTranslator, unbracketed_labels


def open_logs(desktop: DesktopApp) -> LogsPage:
    desktop.window.open_page("logs")
    page = desktop.window.pages["logs"]
    assert isinstance(page, LogsPage)
    return page


def shown(page: LogsPage) -> list[LogRow]:
    return [page.proxy.row_at(row) for row in range(page.proxy.rowCount())]


def row(message: str, level: str = "INFO", logger: str = "xindesk.test") -> LogRow:
    return LogRow.from_api(
        LogRecord(seq=1, time=1_700_000_000.25, level=level, logger=logger, message=message)
    )


# -- the model, without a server ---------------------------------------------------------------


def test_the_log_model_and_its_filter_pass_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = LogModel(capacity=5)
    model.append([row("one"), row("two", "WARNING"), row("three\nline two", "ERROR")])
    qtmodeltester.check(model)
    proxy = LogFilter()
    proxy.setSourceModel(model)
    proxy.set_min_level(logging.WARNING)
    qtmodeltester.check(proxy)
    assert [proxy.row_at(r).message for r in range(proxy.rowCount())] == [
        "two",
        "three\nline two",
    ]
    # A traceback shows its first line in the table; the tooltip and details have it all.
    index = model.index(2, LogModel.MESSAGE)
    assert model.data(index) == "three …"
    assert model.data(index, Qt.ItemDataRole.ToolTipRole) == "three\nline two"
    proxy.set_min_level(logging.NOTSET)
    proxy.set_text("THR")
    assert [proxy.row_at(r).message for r in range(proxy.rowCount())] == ["three\nline two"]
    proxy.set_text("xindesk.TEST")
    assert proxy.rowCount() == 3


def test_the_oldest_rows_drop_off_beyond_the_capacity() -> None:
    model = LogModel(capacity=3)
    model.append([row("a"), row("b")])
    model.append([row("c"), row("d")])
    assert [model.row_at(r).message for r in range(model.rowCount())] == ["b", "c", "d"]
    model.append([row(str(n)) for n in range(10)])
    assert [model.row_at(r).message for r in range(model.rowCount())] == ["7", "8", "9"]


def test_console_lines_are_split_into_columns_and_tracebacks_keep_their_level() -> None:
    first = parse_console_line("2026-01-02 03:04:05,678 xindesk.server ERROR request failed", None)
    assert (first.level, first.logger, first.message) == (
        "ERROR",
        "xindesk.server",
        "request failed",
    )
    assert first.clock() == "03:04:05.678"
    body = parse_console_line('  File "x.py", line 1', first)
    assert (body.levelno, body.logger, body.message) == (logging.ERROR, "", '  File "x.py", line 1')
    uvicorn = parse_console_line("INFO:     Uvicorn running on http://127.0.0.1:9997", body)
    assert (uvicorn.level, uvicorn.logger) == ("INFO", "uvicorn")


# -- the server's log --------------------------------------------------------------------------


@pytest.mark.slow
def test_the_servers_log_appears_and_filters_by_level_and_text(
    desktop_app: DesktopApp, qtbot: QtBot, gui_server: ServerProcess, gemma_gguf: Path
) -> None:
    page = open_logs(desktop_app)
    assert page.poller.active
    qtbot.waitUntil(lambda: any("API ready" in r.message for r in shown(page)), timeout=10_000)
    # A model whose process dies is logged as an error by the server.
    uid = gui_server.launch_gguf(gemma_gguf, "logs-gemma")
    with XinDeskClient(gui_server.url) as client:
        pid = client.describe(uid).worker_pid
        os.kill(pid, signal.SIGKILL)
        qtbot.waitUntil(
            lambda: any(
                r.levelno >= logging.ERROR and "logs-gemma" in r.message for r in shown(page)
            ),
            timeout=15_000,
        )
        client.terminate(uid)
    total = page.proxy.rowCount()
    assert any(r.level == "INFO" and "logs-gemma ready" in r.message for r in shown(page))
    assert page.footer.text() == f"{total} lines"

    page.level_combo.setCurrentIndex(page.level_combo.findData(logging.WARNING))
    visible = shown(page)
    assert visible
    assert all(r.levelno >= logging.WARNING for r in visible)
    assert not any("API ready" in r.message for r in visible)
    assert "match the filter" in page.footer.text()

    page.level_combo.setCurrentIndex(page.level_combo.findData(logging.NOTSET))
    qtbot.keyClicks(page.filter_edit, "LOGS-gemma")
    visible = shown(page)
    assert 2 <= len(visible) < page.server_model.rowCount()
    assert all("logs-gemma" in r.message.lower() for r in visible)

    # Selecting a line shows it in full; Ctrl+C copies the selected lines.
    page.view.selectRow(0)
    assert visible[0].message in page.details.toPlainText()
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert visible[0].message in QGuiApplication.clipboard().text()

    page.filter_edit.clear()
    assert page.proxy.rowCount() == page.server_model.rowCount()


def test_scrolling_up_stops_following_new_lines(desktop_app: DesktopApp, qtbot: QtBot) -> None:
    page = open_logs(desktop_app)
    page.deactivate()  # only the rows added here
    page.server_model.append([row(f"line {n}") for n in range(300)])
    bar = page.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    bar.setValue(0)
    page.server_model.append([row(f"more {n}") for n in range(50)])
    assert bar.value() == 0
    assert "scrolled up" in page.footer.text()
    bar.setValue(bar.maximum())
    page.server_model.append([row(f"again {n}") for n in range(50)])
    assert bar.value() == bar.maximum()
    assert "scrolled up" not in page.footer.text()


# -- diagnostics -------------------------------------------------------------------------------


@pytest.fixture
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    key = "sk-test-diagnostics-6f1c2b9a"
    home = tmp_path_factory.mktemp("keyed-home")
    # The hubs on a closed local port: the pages' hub calls fail at once, whatever the
    # machine's DNS does with huggingface.co.
    closed = "http://127.0.0.1:9"
    write_settings(home, {"downloads": {"hf_endpoint": closed, "modelscope_endpoint": closed}})
    with run_server(home, "--api-key", key) as server:
        yield server, key


@pytest.mark.slow
def test_copy_diagnostics_gives_the_endpoint_and_versions_never_the_key(
    make_app: Callable[..., DesktopApp],
    qtbot: QtBot,
    keyed_server: tuple[ServerProcess, str],
) -> None:
    server, key = keyed_server
    desktop = make_app(server.url, settings=Settings.model_validate({"ui": {"welcome_done": True}}))
    desktop.ctx.session.connect_to(server.url, key)
    desktop.window.show()
    page = open_logs(desktop)
    # With the key, the log is readable (the server answers 401 without it).
    qtbot.waitUntil(lambda: page.server_model.rowCount() > 0, timeout=10_000)
    qtbot.mouseClick(page.diagnostics_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.copy_status.text() == "Copied", timeout=30_000)
    text = QGuiApplication.clipboard().text()
    assert f"Endpoint: {server.url}" in text
    assert f"GUI version: {__version__}" in text
    assert f'"version": "{__version__}"' in text  # the server's own part
    assert "Connection: remote server" in text
    assert "API key: set (not shown)" in text
    assert key not in text
    assert page.diagnostics_button.isEnabled()


def test_diagnostics_are_copied_even_when_the_server_is_unreachable(
    make_app: Callable[..., DesktopApp], qtbot: QtBot
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    desktop = make_app(url, settings=Settings.model_validate({"ui": {"welcome_done": True}}))
    desktop.window.show()
    page = open_logs(desktop)
    qtbot.waitUntil(page.banner.isVisible, timeout=10_000)
    assert "Cannot read the server's log" in page.banner.label.text()
    assert page.source_combo.count() == 1  # a remote server has no console here
    qtbot.mouseClick(page.diagnostics_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.copy_status.text().startswith("Copied"), timeout=10_000)
    text = QGuiApplication.clipboard().text()
    assert "Server diagnostics: not available" in text
    assert f"Cannot reach XinDesk at {url}" in text


@pytest.mark.slow
def test_a_server_started_by_the_window_also_shows_its_console(
    make_app: Callable[..., DesktopApp], qtbot: QtBot
) -> None:
    home = Path(os.environ["XINDESK_HOME"])
    write_settings(home, {"server": {"port": free_port()}, "ui": {"welcome_done": True}})
    desktop = make_app()
    server = desktop.ctx.server
    assert server is not None
    qtbot.waitUntil(lambda: server.state is LocalServerStatus.RUNNING, timeout=60_000)
    page = open_logs(desktop)
    qtbot.waitUntil(lambda: page.server_model.rowCount() > 0, timeout=10_000)
    page.source_combo.setCurrentIndex(page.source_combo.findData(CONSOLE_SOURCE))
    assert page.proxy.sourceModel() is page.console_model
    qtbot.waitUntil(lambda: any("serving on" in r.message for r in shown(page)), timeout=10_000)
    serving = next(r for r in shown(page) if "serving on" in r.message)
    assert serving.logger == "xindesk.cli" or serving.logger.startswith("xindesk")
    assert serving.level == "INFO"


def test_every_text_of_the_page_follows_a_language_switch(
    desktop_app: DesktopApp, qtbot: QtBot
) -> None:
    page = open_logs(desktop_app)
    qtbot.waitUntil(lambda: page.server_model.rowCount() > 0, timeout=10_000)
    pseudo = PseudoTranslator()
    QCoreApplication.installTranslator(pseudo)
    try:
        qtbot.waitUntil(lambda: page.title_label.text() == "⟦Logs⟧", timeout=5_000)
        assert unbracketed_labels(page) == []
        combos = [page.source_combo, page.level_combo]
        items = [combo.itemText(i) for combo in combos for i in range(combo.count())]
        assert all(item.startswith("⟦") for item in items)
        header = page.server_model.headerData(0, Qt.Orientation.Horizontal)
        assert header == "⟦Time⟧"
        assert page.filter_edit.placeholderText().startswith("⟦")
    finally:
        QCoreApplication.removeTranslator(pseudo)
    qtbot.waitUntil(lambda: page.title_label.text() == "Logs", timeout=5_000)
