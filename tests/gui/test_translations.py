"""The whole window in another language: every string translated, nothing left in English.

Three checks: the .ts file holds a finished translation of every string in the code (and the
.qm is compiled from it); with a pseudo translator that brackets every string, no visible text
on any page, dialog or tray menu is unbracketed (so each went through tr() and is set again on
a language switch); and with the real Chinese every text of ours contains Chinese, then English
comes back without a restart.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QAbstractItemView, QWidget
from pytestqt.qtbot import QtBot

from desktop.api.downloads import StartDownload
from desktop.api.settings import Settings
from desktop.api.xinference import LaunchRequest
from desktop.client import XinDeskClient
from desktop.gui.app import DesktopApp
from desktop.gui.dialogs.launch import LaunchDialog, LaunchTarget
from desktop.gui.models.catalog_model import CatalogColumn
from desktop.gui.models.downloads_model import DownloadColumn
from desktop.gui.models.quant_model import QuantColumn
from desktop.gui.models.running_model import RunningColumn
from desktop.gui.pages.chat import ChatPage
from desktop.gui.pages.connect import ConnectPage
from desktop.gui.pages.downloads import DownloadsPage
from desktop.gui.pages.logs import LogsPage
from desktop.gui.pages.models import ONLINE_TAB, ModelsPage
from desktop.gui.pages.running import RunningPage
from desktop.gui.pages.settings import SettingsPage
from desktop.gui.pages.welcome import WelcomePage
from desktop.gui.tray import Tray
from tests.fixtures.server import ServerProcess, free_port
from tests.gui.i18n_helpers import (
    PseudoTranslator,
    Shown,
    has_cjk,
    same_in_every_language,
    untranslated,
    visible_texts,
)

REPO = Path(__file__).resolve().parents[2]
UID = "gemma-i18n"
WAIT_MS = 30_000
# The catalog model the test hub serves (its bytes are the real Gemma 270M).
GEMMA_DOWNLOAD = StartDownload(
    model_name="gemma-3-1b-it", model_size_in_billions=1, quantization="Q4_K_M"
)

# Download states the server will not forget until they end.
ACTIVE_DOWNLOAD = {"queued", "downloading", "verifying"}

# Texts that read the same in Chinese: product names and terms Chinese users use in English.
SAME_IN_CHINESE = {
    "FastGPT / One API",
    "Hugging Face",
    "GGUF",
    "API",
    "Top P",
}
# Figures with their units ("1B", "8K", "–", "25%") need no translation either.
FIGURE = re.compile(r"[\d.,:\s]*(B|K|KB|MB|GB|TB|%)?|–")


def translations_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "xindesk_translations_script", REPO / "scripts" / "translations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(gui_server: ServerProcess) -> Iterator[XinDeskClient]:
    with XinDeskClient(gui_server.url, timeout=60) as client:
        yield client


def make_empty(client: XinDeskClient) -> None:
    """Nothing running and no download listed (the pages' empty states)."""
    for instance in client.instances():
        client.terminate(instance.model_uid)
    for job in client.downloads():
        job_id = job.id
        # A download started by the previous walk may still be checking its hash;
        # the server only forgets a job once it has stopped.
        deadline = time.monotonic() + 60
        while client.download(job_id).state in ACTIVE_DOWNLOAD and time.monotonic() < deadline:
            time.sleep(0.1)
        client.forget_download(job_id)


def populate(gui_server: ServerProcess, client: XinDeskClient, gemma: Path) -> None:
    """A running chat model and a download, so the lists have rows to show."""
    if not client.instances(UID):
        gui_server.launch_gguf(gemma, UID)
    client.start_download(GEMMA_DOWNLOAD)


class Walk:
    """Visits every page and dialog of one app and collects what each shows."""

    def __init__(self, app: DesktopApp, qtbot: QtBot) -> None:
        self.app = app
        self.qtbot = qtbot
        self.window = app.window
        self.shown: list[Shown] = []

    def take(self, where: str, root: QWidget) -> None:
        for item in visible_texts(root):
            self.shown.append(Shown(f"{where} {item.where}", item.text))

    def cells(self, where: str, view: QAbstractItemView, columns: tuple[int, ...]) -> None:
        """The cells of `columns` that are our words (states, kinds, verdicts), not data."""
        model = view.model()
        assert model.rowCount() > 0, f"{where}: no rows to check"
        for row in range(model.rowCount()):
            for column in columns:
                text = str(model.index(row, column).data() or "")
                if text:
                    self.shown.append(Shown(f"{where} cell {row},{column}", text))

    def page(self, key: str, ready: Callable[[], bool]) -> None:
        self.window.open_page(key)
        self.qtbot.waitUntil(ready, timeout=WAIT_MS)
        self.take(key, self.window.pages[key])

    def empty_pages(self) -> None:
        running = self.window.pages["running"]
        assert isinstance(running, RunningPage)
        self.page("running", lambda: running.stack.currentWidget() is running.empty_page)
        downloads = self.window.pages["downloads"]
        assert isinstance(downloads, DownloadsPage)
        self.page("downloads", lambda: downloads.stack.currentWidget() is downloads.empty_page)
        chat = self.window.pages["chat"]
        assert isinstance(chat, ChatPage)
        self.page("chat", lambda: chat.stack.currentIndex() == 0 and not chat._loading_models)

    def every_page(self) -> None:
        pages = self.window.pages
        welcome = pages["welcome"]
        assert isinstance(welcome, WelcomePage)
        self.page(
            "welcome",
            lambda: (
                welcome._loaded
                and not welcome.loading
                and not any(card.checking for card in welcome.cards.values())
            ),
        )
        self.models_page()
        downloads = pages["downloads"]
        assert isinstance(downloads, DownloadsPage)
        self.page("downloads", lambda: downloads.model.rowCount() > 0)
        self.cells("downloads", downloads.table, (DownloadColumn.STATE,))
        running = pages["running"]
        assert isinstance(running, RunningPage)
        self.page("running", lambda: running.model.row_of(UID) >= 0 and running.details.isVisible())
        self.cells("running", running.table, (RunningColumn.TYPE, RunningColumn.STATE))
        chat = pages["chat"]
        assert isinstance(chat, ChatPage)
        self.page("chat", lambda: chat.current_uid() == UID)
        self.chat_answer(chat)
        connect = pages["connect"]
        assert isinstance(connect, ConnectPage)
        self.page("connect", lambda: connect._view is not None and connect._view.model_uid == UID)
        settings = pages["settings"]
        assert isinstance(settings, SettingsPage)
        self.page("settings", lambda: settings._snapshot is not None)
        logs = pages["logs"]
        assert isinstance(logs, LogsPage)
        self.page("logs", lambda: logs.server_model.rowCount() > 0)
        self.shown.append(Shown("window title", self.window.windowTitle()))
        self.take("status bar", self.window.statusBar())
        self.take("sidebar", self.window.sidebar)
        self.launch_dialog()
        self.tray()

    def models_page(self) -> None:
        models = self.window.pages["models"]
        assert isinstance(models, ModelsPage)
        self.window.open_page("models")
        self.qtbot.waitUntil(
            lambda: not models.loading and models.catalogs["LLM"].rowCount() > 0, timeout=WAIT_MS
        )
        for index, key in enumerate(models._tab_keys):
            models.tabs.setCurrentIndex(index)
            self.take(f"models/{key}", models)
        llm = models.catalog_views["LLM"]
        self.cells("catalog", llm, (CatalogColumn.LANGUAGES, CatalogColumn.ABILITIES))
        models.show_tab(ONLINE_TAB)
        models.search_online()  # nothing typed: the page says what to do
        self.take("models/search", models)
        entry = models.catalogs["LLM"].entry("gemma-3-1b-it")
        assert entry is not None
        models.open_entry(entry)
        detail = models.detail
        self.qtbot.waitUntil(
            lambda: not detail.loading and detail.quants.rowCount() > 0, timeout=WAIT_MS
        )
        self.take("models/detail", models)
        self.cells(
            "quantizations",
            detail.table,
            (QuantColumn.QUALITY, QuantColumn.FIT, QuantColumn.STATUS),
        )
        models.show_list()

    def chat_answer(self, chat: ChatPage) -> None:
        """A short answer: the figures under it are words too."""
        chat.sampling.max_tokens.setValue(4)
        self.qtbot.keyClicks(chat.prompt, "Hi")
        self.qtbot.mouseClick(chat.send_button, Qt.MouseButton.LeftButton)
        self.qtbot.waitUntil(lambda: chat._history and not chat.streaming, timeout=WAIT_MS)
        self.take("chat/answered", chat)
        chat.clear()

    def launch_dialog(self) -> None:
        request = LaunchTarget(
            title="gemma-3-it 1B, Q4_K_M",
            body=LaunchRequest(model_name="gemma-3-it"),
            model_type=None,  # the dialog asks for the kind too
            max_context=32768,
            context_length=4096,
            gpu_available=False,
            cpu_threads=4,
            download_size=300_000_000,
        )
        dialog = LaunchDialog(self.app.ctx, request, self.window)
        dialog.advanced_toggle.setChecked(True)
        dialog.show()
        self.shown.append(Shown("launch dialog title", dialog.windowTitle()))
        self.take("launch dialog", dialog)
        dialog.reject()
        dialog.deleteLater()

    def tray(self) -> None:
        tray = self.app.tray or Tray(self.app.ctx, QIcon(), self.app)
        for action in tray.menu.actions():
            if action.text():
                self.shown.append(Shown("tray menu", action.text()))


@pytest.fixture
def local_app(make_app: Callable[..., DesktopApp]) -> DesktopApp:
    """A window whose own server is not started: the status bar and tray of a local server."""
    settings = Settings.model_validate(
        {"server": {"port": free_port()}, "ui": {"welcome_done": True}}
    )
    app = make_app(None, settings=settings, start_server=False)
    app.window.show()
    return app


def local_server_texts(app: DesktopApp) -> list[Shown]:
    shown = [Shown("status bar", s.text) for s in visible_texts(app.window.statusBar())]
    tray = app.tray or Tray(app.ctx, QIcon(), app)
    shown += [Shown("tray menu", a.text()) for a in tray.menu.actions() if a.text()]
    return shown


def test_every_string_in_the_code_has_a_chinese_translation_and_the_qm_is_fresh() -> None:
    assert translations_script().problems("zh_CN") == []


@pytest.mark.slow
def test_every_visible_text_goes_through_the_translation(
    desktop_app: DesktopApp,
    local_app: DesktopApp,
    gui_server: ServerProcess,
    client: XinDeskClient,
    gemma_gguf: Path,
    qtbot: QtBot,
) -> None:
    pseudo = PseudoTranslator()
    QCoreApplication.installTranslator(pseudo)
    try:
        walk = Walk(desktop_app, qtbot)
        qtbot.waitUntil(lambda: walk.window.windowTitle().startswith("⟦"), timeout=5_000)
        make_empty(client)
        walk.empty_pages()
        populate(gui_server, client, gemma_gguf)
        walk.every_page()
        shown = walk.shown + local_server_texts(local_app)
        assert len(shown) > 300, "the walk should have seen every page"
        missing = untranslated(shown)
        assert not missing, "not translated:\n" + "\n".join(missing)
    finally:
        QCoreApplication.removeTranslator(pseudo)
    qtbot.waitUntil(lambda: not desktop_app.window.windowTitle().startswith("⟦"), timeout=5_000)


@pytest.mark.slow
def test_chinese_everywhere_then_english_again_without_a_restart(
    desktop_app: DesktopApp,
    local_app: DesktopApp,
    gui_server: ServerProcess,
    client: XinDeskClient,
    gemma_gguf: Path,
    qtbot: QtBot,
) -> None:
    window = desktop_app.window
    assert desktop_app.ctx.translations.apply("zh_CN") == "zh_CN"
    try:
        walk = Walk(desktop_app, qtbot)
        make_empty(client)
        walk.empty_pages()
        populate(gui_server, client, gemma_gguf)
        walk.every_page()
        shown = walk.shown + local_server_texts(local_app)
        english = [
            str(item)
            for item in shown
            if not has_cjk(item.text)
            and item.text not in SAME_IN_CHINESE
            and not same_in_every_language(item.text)
            and not FIGURE.fullmatch(item.text)
        ]
        assert not english, "still in English:\n" + "\n".join(english)
        assert "模型" in [window.sidebar.item(row).text() for row in range(window.sidebar.count())]
    finally:
        desktop_app.ctx.translations.apply("en")
    # Qt posts LanguageChange to every widget; wait until the window has handled it.
    qtbot.waitUntil(
        lambda: window.windowTitle() == "XinDesk: your private AI server", timeout=5_000
    )
    titles = [window.sidebar.item(row).text() for row in range(window.sidebar.count())]
    assert titles == [
        "Welcome",
        "Models",
        "Downloads",
        "Running",
        "Chat",
        "Connect",
        "Settings",
        "Logs",
    ]
    pages = window.pages
    running, chat, logs = pages["running"], pages["chat"], pages["logs"]
    assert isinstance(running, RunningPage)
    assert isinstance(chat, ChatPage)
    assert isinstance(logs, LogsPage)
    assert running.heading.text() == "Running models"
    assert running.model.data(running.model.index(0, RunningColumn.STATE)) == "Ready"
    assert chat.send_button.text() == "Send"
    assert logs.server_model.headerData(0, Qt.Orientation.Horizontal) == "Time"
    assert window.server_label.text().startswith("Connected to a remote server")
