"""The Connect page's FastGPT section: the config follows the running models, copies, and the
"test it as FastGPT would" check reports each request with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from desktop.client import XinDeskClient
from desktop.core.export.check import check_names
from desktop.gui.app import DesktopApp
from desktop.gui.pages.connect import ConnectPage
from desktop.gui.widgets.export_panel import ExportPanel
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chat_uid(gui_server: ServerProcess, gemma_gguf: Path) -> str:
    return gui_server.launch_gguf(gemma_gguf, "fastgpt-chat")


def _panel(desktop: DesktopApp) -> ExportPanel:
    desktop.window.open_page("connect")
    page = desktop.window.pages["connect"]
    assert isinstance(page, ConnectPage)
    panel = page.findChild(ExportPanel)
    assert panel is not None
    return panel


def test_the_config_names_the_running_model_and_follows_the_host_choice(
    desktop_app: DesktopApp, chat_uid: str, qtbot: QtBot, gui_server: ServerProcess
) -> None:
    panel = _panel(desktop_app)
    panel.set_choice("v4.9", "docker")
    qtbot.waitUntil(lambda: "host.docker.internal" in panel.exported_text(), timeout=20_000)
    entries = json.loads(panel.exported_text())
    llm = next(e for e in entries if e["metadata"]["type"] == "llm")
    assert llm["metadata"]["model"] == chat_uid
    port = gui_server.url.rsplit(":", 1)[1]
    assert (
        llm["metadata"]["requestUrl"] == f"http://host.docker.internal:{port}/v1/chat/completions"
    )
    # Only a chat model runs: the page says what is missing for FastGPT's other roles.
    assert panel.warnings.isVisible()
    assert "embedding" in panel.warnings.text().lower()

    panel.set_choice("env", "same")
    qtbot.waitUntil(lambda: "OPENAI_BASE_URL" in panel.exported_text(), timeout=20_000)
    assert f"http://127.0.0.1:{port}/v1" in panel.exported_text()
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == panel.exported_text()


def test_the_fastgpt_check_passes_chat_and_names_what_is_missing(
    desktop_app: DesktopApp, chat_uid: str, qtbot: QtBot, gui_server: ServerProcess
) -> None:
    panel = _panel(desktop_app)
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    assert panel.checking
    qtbot.waitUntil(lambda: not panel.checking, timeout=240_000)
    rows = {name: (passed, reason) for passed, name, reason in panel.check_results()}
    assert list(rows) == check_names()
    assert rows["chat, streaming"][0], rows["chat, streaming"][1]
    assert rows["chat, not streaming"][0], rows["chat, not streaming"][1]
    # Nothing serves embeddings or rerank here: those fail, and say why.
    passed, reason = rows["embedding"]
    assert not passed
    assert "embedding" in reason.lower()
    assert not rows["rerank, 100 documents"][0]
    assert f"of {len(check_names())} checks passed" in panel.check_summary.text()
    # The check talked to the real server: the chat model is still there and answering.
    with XinDeskClient(gui_server.url) as client:
        assert chat_uid in {m.id for m in client.list_models()}


def test_scrolling_over_the_format_box_scrolls_the_page_not_the_format(
    desktop_app: DesktopApp, qtbot: QtBot
) -> None:
    panel = _panel(desktop_app)
    combo = panel.format_combo
    qtbot.waitUntil(combo.isVisible, timeout=10_000)
    before = combo.currentIndex()
    area = next(
        parent
        for parent in _ancestors(combo)
        if isinstance(parent, QScrollArea) and parent.verticalScrollBar().maximum() > 0
    )
    bar = area.verticalScrollBar()
    bar.setValue(0)

    def turn() -> None:
        centre = QPointF(combo.width() / 2, combo.height() / 2)
        event = QWheelEvent(
            centre,
            combo.mapToGlobal(centre),
            QPoint(0, 0),
            QPoint(0, -120),  # one notch down
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(combo, event)

    combo.clearFocus()
    for _ in range(3):
        turn()
    assert combo.currentIndex() == before
    assert bar.value() > 0  # the page scrolled instead
    # Clicked into, the box takes the wheel as usual.
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=5_000)
    turn()
    assert combo.currentIndex() != before


def _ancestors(widget: QWidget) -> list[QWidget]:
    found = []
    parent = widget.parentWidget()
    while parent is not None:
        found.append(parent)
        parent = parent.parentWidget()
    return found
