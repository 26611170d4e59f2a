"""The Settings page against a server of its own (the tests change its settings and tokens)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSystemTrayIcon,
)
from pytestqt.qtbot import QtBot

from desktop.api.settings import Settings
from desktop.client import XinDeskClient
from desktop.core.paths import AppPaths
from desktop.core.secrets import REMOTE_API_KEY, SecretStore
from desktop.core.settings import load_settings
from desktop.gui import autostart
from desktop.gui.app import DesktopApp
from desktop.gui.i18n import translations_dir
from desktop.gui.pages.connect import ConnectPage
from desktop.gui.pages.settings import SettingsPage
from desktop.gui.pages.settings.downloads import HF_MIRROR
from tests.fixtures.server import ServerProcess, free_port, run_server
from tests.gui.i18n_helpers import PseudoTranslator, untranslated, visible_texts


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with run_server(tmp_path_factory.mktemp("settings-server-home")) as process:
        yield process


@pytest.fixture
def server_client(own_server: ServerProcess) -> Iterator[XinDeskClient]:
    with XinDeskClient(own_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def login_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Start-at-login writes into a temporary autostart folder, never the real one."""
    folder = tmp_path / "autostart"
    monkeypatch.setattr(
        autostart,
        "for_this_system",
        lambda: autostart.XdgAutostart(folder, ["/opt/xindesk/xindesk"]),
    )
    return folder


@pytest.fixture
def desktop(
    make_app: Callable[..., DesktopApp], own_server: ServerProcess, login_folder: Path
) -> DesktopApp:
    # The "local" port is the test server's: switching back to this computer finds it running.
    port = int(own_server.url.rsplit(":", 1)[1])
    settings = Settings.model_validate({"server": {"port": port}, "ui": {"welcome_done": True}})
    app = make_app(own_server.url, settings=settings)
    app.window.show()
    return app


@pytest.fixture
def page(desktop: DesktopApp, qtbot: QtBot) -> Iterator[SettingsPage]:
    desktop.window.open_page("settings")
    settings = desktop.window.pages["settings"]
    assert isinstance(settings, SettingsPage)
    qtbot.waitUntil(lambda: settings._snapshot is not None, timeout=10_000)
    yield settings
    # Leave the application in English for the next test.
    desktop.ctx.translations.apply("en")


def answer_yes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *_args: QMessageBox.StandardButton.Yes)


def click_option(qtbot: QtBot, button: QAbstractButton) -> None:
    """Click a radio button on its circle (the middle of a wide one is empty space)."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))


def test_every_string_of_both_pages_is_set_again_on_a_language_switch(
    desktop: DesktopApp, page: SettingsPage, qtbot: QtBot
) -> None:
    connect = desktop.window.pages["connect"]
    assert isinstance(connect, ConnectPage)
    desktop.window.open_page("connect")
    qtbot.waitUntil(lambda: connect._view is not None, timeout=10_000)
    desktop.window.open_page("settings")
    pseudo = PseudoTranslator()
    QCoreApplication.installTranslator(pseudo)
    try:
        sidebar = desktop.window.sidebar
        # Qt posts LanguageChange to every widget; wait until the window has handled it.
        qtbot.waitUntil(lambda: page.heading.text() == "⟦Settings⟧", timeout=5_000)
        titles = [sidebar.item(row).text() for row in range(sidebar.count())]
        assert "⟦Settings⟧" in titles
        assert "⟦Connect⟧" in titles
        # The models folder's path is the server's data (marked so), not a text of ours.
        assert page.folder.path.property("xindesk_data")
        assert untranslated(visible_texts(page)) == []
        assert untranslated(visible_texts(connect)) == []
        names = [
            page.language.combo.itemText(index) for index in range(page.language.combo.count())
        ]
        assert names == ["English", "简体中文", "⟦Follow the system⟧"]
    finally:
        QCoreApplication.removeTranslator(pseudo)
    qtbot.waitUntil(lambda: page.heading.text() == "Settings", timeout=5_000)


def test_choosing_chinese_applies_at_once_and_is_saved_then_english_again(
    desktop: DesktopApp, page: SettingsPage, server_client: XinDeskClient, qtbot: QtBot
) -> None:
    settings_row = list(desktop.window.pages).index("settings")
    page.language.combo.setCurrentIndex(page.language.combo.findData("zh_CN"))
    assert desktop.ctx.translations.language == "zh_CN"
    assert desktop.ctx.settings.ui.language == "zh_CN"
    qtbot.waitUntil(lambda: server_client.get_settings().ui.language == "zh_CN", timeout=10_000)
    assert (translations_dir() / "xindesk_zh_CN.qm").exists()
    # Qt posts LanguageChange to the widgets: the texts change once the event loop runs.
    qtbot.waitUntil(lambda: page.heading.text() == "设置", timeout=5_000)
    assert desktop.window.sidebar.item(settings_row).text() == "设置"

    page.language.combo.setCurrentIndex(page.language.combo.findData("en"))
    assert desktop.ctx.translations.language == "en"
    qtbot.waitUntil(lambda: page.heading.text() == "Settings", timeout=5_000)
    assert desktop.window.sidebar.item(settings_row).text() == "Settings"
    assert page.heading.text() == "Settings"
    qtbot.waitUntil(lambda: server_client.get_settings().ui.language == "en", timeout=10_000)


def test_download_settings_are_saved_on_the_server(
    page: SettingsPage, server_client: XinDeskClient, qtbot: QtBot
) -> None:
    page.downloads.source.setCurrentIndex(page.downloads.source.findData("modelscope"))
    qtbot.mouseClick(page.downloads.mirror_button, Qt.MouseButton.LeftButton)
    assert page.downloads.hf_endpoint.text() == HF_MIRROR
    page.downloads.modelscope_endpoint.clear()
    qtbot.keyClicks(page.downloads.modelscope_endpoint, "https://modelscope.example.org/")
    page.downloads.proxy.clear()
    qtbot.keyClicks(page.downloads.proxy, "http://127.0.0.1:7890")
    page.downloads.max_parallel.setValue(3)
    qtbot.mouseClick(page.downloads.save_button, Qt.MouseButton.LeftButton)

    def saved() -> bool:
        downloads = server_client.get_settings().downloads
        return bool(
            downloads.source == "modelscope"
            and downloads.hf_endpoint == HF_MIRROR
            and downloads.modelscope_endpoint == "https://modelscope.example.org"
            and downloads.proxy == "http://127.0.0.1:7890"
            and downloads.max_parallel == 3
        )

    qtbot.waitUntil(saved, timeout=10_000)
    qtbot.waitUntil(lambda: "saved" in page.banner.label.text(), timeout=10_000)


def test_an_invalid_mirror_address_is_explained_and_nothing_is_saved(
    page: SettingsPage, server_client: XinDeskClient, qtbot: QtBot
) -> None:
    before = server_client.get_settings().downloads
    page.downloads.hf_endpoint.clear()
    qtbot.keyClicks(page.downloads.hf_endpoint, "hf-mirror.com")
    page.downloads.max_parallel.setValue(1 if before.max_parallel != 1 else 2)
    qtbot.mouseClick(page.downloads.save_button, Qt.MouseButton.LeftButton)
    assert page.banner.isVisible()
    assert "must be a web address starting with http://" in page.banner.label.text()
    qtbot.wait(200)
    assert page.ctx.tasks.running == 0
    assert server_client.get_settings().downloads == before


def test_a_hub_token_is_saved_and_never_shown_again(
    desktop: DesktopApp, page: SettingsPage, server_client: XinDeskClient, qtbot: QtBot
) -> None:
    token = "hf_TestTokenThatMustNeverShow42"
    assert page.tokens.states["huggingface"].text() == "Not set"
    qtbot.keyClicks(page.tokens.fields["huggingface"], token)
    qtbot.mouseClick(page.tokens.save_buttons["huggingface"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.tokens.states["huggingface"].text() == "Saved", timeout=10_000)
    assert server_client.hub_tokens().huggingface.set is True
    assert server_client.hub_tokens().modelscope.set is False
    shown = [edit.text() for edit in desktop.window.findChildren(QLineEdit)]
    shown += [label.text() for label in desktop.window.findChildren(QLabel)]
    assert not any(token in text for text in shown)

    qtbot.mouseClick(page.tokens.remove_buttons["huggingface"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.tokens.states["huggingface"].text() == "Not set", timeout=10_000)
    assert server_client.hub_tokens().huggingface.set is False


def test_connecting_to_another_server_tests_it_first_and_back_to_this_computer(
    desktop: DesktopApp,
    page: SettingsPage,
    own_server: ServerProcess,
    server_client: XinDeskClient,
    qtbot: QtBot,
) -> None:
    click_option(qtbot, page.server_choice.use_remote)
    assert page.server_choice.use_remote.isChecked()
    assert page.server_choice.test_button.isVisible()

    # Nothing listens there: the test says so and switching refuses.
    nowhere = f"http://127.0.0.1:{free_port()}"
    qtbot.keyClicks(page.server_choice.remote_url, nowhere)
    qtbot.mouseClick(page.server_choice.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Cannot reach" in page.banner.label.text(), timeout=15_000)
    qtbot.waitUntil(page.server_choice.switch_button.isEnabled, timeout=5_000)
    qtbot.mouseClick(page.server_choice.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.server_choice.switch_button.isEnabled, timeout=15_000)
    assert "Cannot reach" in page.banner.label.text()
    assert desktop.ctx.session.endpoint == own_server.url
    assert desktop.ctx.settings.ui.connection == "local"

    # A server that answers (the test server, by another name) with a key.
    remote = own_server.url.replace("127.0.0.1", "localhost")
    page.server_choice.remote_url.clear()
    qtbot.keyClicks(page.server_choice.remote_url, remote + "/v1")
    qtbot.keyClicks(page.server_choice.remote_key, "sk-remote-test-key")
    qtbot.mouseClick(page.server_choice.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "answers at" in page.banner.label.text(), timeout=15_000)
    assert "XinDesk" in page.banner.label.text()
    assert desktop.ctx.session.endpoint == own_server.url, "testing does not switch"

    qtbot.mouseClick(page.server_choice.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: desktop.ctx.session.endpoint == remote, timeout=15_000)
    assert desktop.ctx.session.api_key == "sk-remote-test-key"
    assert desktop.ctx.settings.ui.connection == "remote"
    assert SecretStore().get(REMOTE_API_KEY) == "sk-remote-test-key"
    # Saved through the server this window used until then (the one on "this computer").
    saved = server_client.get_settings().ui
    assert (saved.connection, saved.remote_url) == ("remote", remote)
    assert remote in page.remote_hint.text()

    # Back to this computer: a server answers on the local port, so the window uses it.
    click_option(qtbot, page.server_choice.use_local)
    assert page.server_choice.switch_button.text() == "Use this computer"
    qtbot.mouseClick(page.server_choice.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: desktop.ctx.session.endpoint == own_server.url, timeout=15_000)
    assert desktop.ctx.settings.ui.connection == "local"
    # While on the other server, the window's own choice went into this computer's file.
    assert load_settings(AppPaths.from_environment()).ui.connection == "local"
    assert "this computer" in page.banner.label.text()


def test_moving_the_models_folder_asks_then_moves(
    page: SettingsPage,
    server_client: XinDeskClient,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answer_yes(monkeypatch)
    old = Path(server_client.server_info().models_dir)
    assert page.folder.path.text() == str(old)
    (old / "someone").mkdir(parents=True, exist_ok=True)
    (old / "someone" / "model-Q4_K_M.gguf").write_bytes(b"GGUF" + b"\0" * 64)
    new = tmp_path / "new-models"
    new.mkdir()
    page.folder.change(str(new))
    assert page.folder.busy.isVisible()
    qtbot.waitUntil(lambda: page.folder.path.text() == str(new), timeout=30_000)
    assert not page.folder.busy.isVisible()
    assert server_client.server_info().models_dir == str(new)
    assert (new / "someone" / "model-Q4_K_M.gguf").is_file()
    assert not (old / "someone" / "model-Q4_K_M.gguf").exists()

    # A folder inside the current one is refused with the server's reason.
    page.folder.change(str(new / "inside"))
    qtbot.waitUntil(lambda: "inside the current models folder" in page.banner.label.text())
    qtbot.waitUntil(lambda: page.folder.path.text() == str(new), timeout=10_000)


def test_window_options_are_saved_and_start_at_login_writes_the_entry(
    desktop: DesktopApp,
    page: SettingsPage,
    server_client: XinDeskClient,
    login_folder: Path,
    qtbot: QtBot,
) -> None:
    entry = login_folder / autostart.DESKTOP_FILE
    assert not page.window_options.start_at_login.isChecked()
    page.window_options.start_at_login.click()
    assert entry.is_file()
    assert "Exec=/opt/xindesk/xindesk" in entry.read_text(encoding="utf-8")
    qtbot.waitUntil(lambda: server_client.get_settings().ui.start_at_login is True, timeout=10_000)
    page.window_options.start_at_login.click()
    assert not entry.exists()
    qtbot.waitUntil(lambda: server_client.get_settings().ui.start_at_login is False, timeout=10_000)

    # Offscreen there is no tray area, so the box is disabled; the saving behind it is the same.
    assert page.window_options.keep_in_tray.isEnabled() is QSystemTrayIcon.isSystemTrayAvailable()
    keep = page.window_options.keep_in_tray.isChecked()
    page.window_options.keep_in_tray.setChecked(not keep)
    assert desktop.ctx.settings.ui.keep_running_in_tray is (not keep)
    qtbot.waitUntil(
        lambda: server_client.get_settings().ui.keep_running_in_tray is (not keep),
        timeout=10_000,
    )
