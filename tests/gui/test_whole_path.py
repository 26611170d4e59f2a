"""The whole path a new user takes, through the real window, a real server, the test hub and the
real Gemma model: first run → pick a model and quantization → download with progress → launch →
chat streams an answer → copy the endpoint → copy a FastGPT snippet.

Also: the downloads survive quitting the app (they are the server's), and the window leaves no
thread or timer behind (checked by the `make_app` fixture).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from desktop.api.settings import Settings
from desktop.client import XinDeskClient
from desktop.gui.app import DesktopApp
from desktop.gui.models.downloads_model import DownloadColumn
from desktop.gui.models.record_table import PROGRESS_ROLE, RECORD_ROLE
from desktop.gui.pages.chat import ChatPage
from desktop.gui.pages.connect import ConnectPage
from desktop.gui.pages.downloads import DownloadsPage
from desktop.gui.pages.models import ModelsPage
from desktop.gui.pages.welcome import WelcomePage
from desktop.gui.widgets.export_panel import ExportPanel
from tests.fixtures.hub_server import TestHub
from tests.fixtures.server import run_server
from tests.gui.conftest import CATALOG_FILE, hub_settings, write_settings

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

GEMMA = "gemma-3-1b-it"


def _click_row(qtbot: QtBot, view: QTableView, index: QModelIndex) -> None:
    view.scrollTo(index)
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center()
    )


def test_first_run_to_a_fastgpt_snippet(
    make_app: Callable[..., DesktopApp],
    qtbot: QtBot,
    gui_hub: TestHub,
    gemma_gguf: Path,
    tmp_path: Path,
) -> None:
    home = tmp_path / "server-home"
    write_settings(home, hub_settings(gui_hub))
    with (
        run_server(home, env=gui_hub.hf_env()) as server,
        XinDeskClient(server.url, timeout=120) as client,
    ):
        desktop = make_app(server.url, settings=Settings())
        desktop.window.show()
        window = desktop.window

        # First run: the welcome shows this computer, and skipping it is remembered.
        welcome = window.pages["welcome"]
        assert isinstance(welcome, WelcomePage)
        assert window.current_page() is welcome
        qtbot.waitUntil(lambda: not welcome.loading, timeout=30_000)
        qtbot.mouseClick(welcome.skip_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: client.get_settings().ui.welcome_done, timeout=10_000)

        # Pick the catalog Gemma and its Q4_K_M file.
        models = window.pages["models"]
        assert isinstance(models, ModelsPage)
        assert window.current_page() is models
        qtbot.waitUntil(
            lambda: not models.loading and models.catalogs["LLM"].rowCount() > 0, timeout=30_000
        )
        models.show_tab("LLM")
        view = models.catalog_views["LLM"]
        names = [
            view.model().index(row, 0).data(RECORD_ROLE).name
            for row in range(view.model().rowCount())
        ]
        _click_row(qtbot, view, view.model().index(names.index(GEMMA), 0))
        detail = models.detail
        qtbot.waitUntil(lambda: not detail.loading, timeout=60_000)
        assert detail.quants.rowCount() > 0, detail.banner.label.text()
        assert detail.select_quantization("Q4_K_M")

        # Download, and watch it move on the Downloads page.
        size = gemma_gguf.stat().st_size
        gui_hub.stall(3, after_bytes=size // 3, path=CATALOG_FILE)
        qtbot.mouseClick(detail.download_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(client.downloads()) == 1, timeout=30_000)
        window.open_page("downloads")
        downloads = window.pages["downloads"]
        assert isinstance(downloads, DownloadsPage)

        def progress() -> float:
            model = downloads.model
            if model.rowCount() != 1:
                return -1.0
            value = model.data(model.index(0, DownloadColumn.PROGRESS), PROGRESS_ROLE)
            return float(value) if value is not None else -1.0

        qtbot.waitUntil(lambda: 0 < progress() < 1, timeout=30_000)
        qtbot.waitUntil(lambda: progress() == 1, timeout=120_000)
        assert client.downloads()[0].state == "completed"

        # Launch it from its model page, with the dialog's defaults.
        window.open_page("models")
        assert models.showing_detail()
        qtbot.waitUntil(lambda: detail.launch_button.isEnabled(), timeout=30_000)
        qtbot.mouseClick(detail.launch_button, Qt.MouseButton.LeftButton)
        dialog = detail.launch_dialog
        assert dialog is not None
        assert dialog.uid_edit.text() == GEMMA
        with qtbot.waitSignal(desktop.ctx.navigator.running_changed, timeout=60_000):
            qtbot.mouseClick(dialog.launch_button, Qt.MouseButton.LeftButton)
        assert window.current_page() is window.pages["running"]
        qtbot.waitUntil(
            lambda: any(i.status == "READY" for i in client.instances(GEMMA)), timeout=180_000
        )

        # Chat with it: the answer streams into the transcript.
        window.open_page("chat", GEMMA)
        chat = window.pages["chat"]
        assert isinstance(chat, ChatPage)
        qtbot.waitUntil(lambda: chat.current_uid() == GEMMA, timeout=30_000)
        # A short answer: this test is about the path, and a busy machine decodes slowly.
        chat.sampling.max_tokens.setValue(48)
        qtbot.keyClicks(chat.prompt, "Name three colours.")
        qtbot.mouseClick(chat.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: chat.streaming, timeout=10_000)
        qtbot.waitUntil(lambda: not chat.streaming, timeout=180_000)
        assert chat.last_answer().strip()
        assert "tokens" in chat.stats_label.text()

        # Copy the endpoint FastGPT needs, then a FastGPT model snippet naming this model.
        window.open_page("connect")
        connect = window.pages["connect"]
        assert isinstance(connect, ConnectPage)
        qtbot.waitUntil(lambda: connect.local_field.value() != "", timeout=30_000)
        qtbot.mouseClick(connect.local_field.copy_button, Qt.MouseButton.LeftButton)
        assert QGuiApplication.clipboard().text() == f"{server.url}/v1"
        panel = connect.findChild(ExportPanel)
        assert panel is not None
        panel.set_choice("v4.9", "docker")
        qtbot.waitUntil(lambda: GEMMA in panel.exported_text(), timeout=30_000)
        qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
        entries = json.loads(QGuiApplication.clipboard().text())
        llm = next(e for e in entries if e["metadata"]["type"] == "llm")
        assert llm["metadata"]["model"] == GEMMA
        assert llm["metadata"]["requestUrl"].startswith("http://host.docker.internal:")
