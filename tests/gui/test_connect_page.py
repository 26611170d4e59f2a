"""The Connect page: base URLs, the API key and LAN access, against a server of its own.

These tests change the server's key and LAN setting, so the module runs its own server (not
the shared `gui_server`), and each test leaves it as it found it: no key, LAN access off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.api.settings import Settings
from desktop.client import XinDeskClient
from desktop.gui.app import DesktopApp
from desktop.gui.pages.connect import ConnectPage
from desktop.gui.widgets.common import COPIED_MS, Banner, CopyField
from tests.fixtures.server import ServerProcess, free_port, run_server
from tests.gui.conftest import write_settings


@dataclass
class OwnServer:
    """The module's server and the key it requires now (None: no key)."""

    process: ServerProcess
    key: str | None = None

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def client(self) -> XinDeskClient:
        return XinDeskClient(self.url, self.key, timeout=30)


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    with run_server(tmp_path_factory.mktemp("connect-server-home")) as process:
        yield OwnServer(process)


@pytest.fixture
def page(
    make_app: Callable[..., DesktopApp], own_server: OwnServer, qtbot: QtBot
) -> Iterator[ConnectPage]:
    """The Connect page shown in a window talking to the module's server."""
    desktop = make_app(
        own_server.url, settings=Settings.model_validate({"ui": {"welcome_done": True}})
    )
    if own_server.key:
        desktop.ctx.session.connect_to(own_server.url, own_server.key)
    desktop.window.show()
    desktop.window.open_page("connect")
    connect = desktop.window.pages["connect"]
    assert isinstance(connect, ConnectPage)
    qtbot.waitUntil(lambda: connect._view is not None, timeout=10_000)
    yield connect
    # Put the server back: LAN off, then no key (refused while LAN is on).
    own_server.key = desktop.ctx.session.api_key
    with own_server.client() as client:
        client.update_settings({"server": {"lan_access": False}})
        if client.api_key_info().enabled:
            client.delete_api_key()
    own_server.key = None


def answer_yes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Confirm every question the page asks; returns the questions' texts."""
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str, *_: object) -> object:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def models_status(url: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{url}/v1/models", headers=headers, timeout=10).status_code


def test_base_urls_use_the_servers_port_and_copy_to_the_clipboard(
    page: ConnectPage, own_server: OwnServer, qtbot: QtBot
) -> None:
    local = f"http://127.0.0.1:{own_server.port}/v1"
    assert page.local_field.value() == local
    assert page.docker_field.value() == f"http://host.docker.internal:{own_server.port}/v1"
    assert "host-gateway" in page.docker_hint.text()
    # LAN access is off: no LAN address, a hint pointing at the switch instead.
    assert page.lan_hint.isVisible()
    assert "Allow other computers" in page.lan_hint.text()
    assert not any(field.isVisible() for field in page.lan_address_fields)
    assert page.curl_field.value().startswith(f"curl {local}/chat/completions")
    assert "Authorization" not in page.curl_field.value()

    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(page.local_field.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == local
    assert page.local_field.copy_button.text() == "Copied"
    qtbot.mouseClick(page.docker_field.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == page.docker_field.value()


def test_creating_a_key_makes_the_server_require_it_and_replacing_it_refuses_the_old(
    page: ConnectPage, own_server: OwnServer, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = answer_yes(monkeypatch)
    assert models_status(own_server.url, None) == 200
    assert not page.key_row.isVisible()
    assert page.create_button.text() == "Create key"

    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.key_field.value() != "", timeout=10_000)
    key = page.key_field.value()
    assert key == page.ctx.session.api_key
    assert asked == [], "creating the first key needs no confirmation"
    assert models_status(own_server.url, None) == 401
    assert models_status(own_server.url, key) == 200
    # The window switched to the new key: its own calls still work.
    qtbot.waitUntil(lambda: page._view is not None and page._view.auth, timeout=10_000)
    assert "stored in the keychain" in page.banner.label.text()

    # Masked until Show; the test command carries the key only when shown.
    assert page.key_field.edit.echoMode() == QLineEdit.EchoMode.Password
    assert key not in page.curl_field.value()
    qtbot.mouseClick(page.show_key, Qt.MouseButton.LeftButton)
    assert page.key_field.edit.echoMode() == QLineEdit.EchoMode.Normal
    assert page.key_field.edit.displayText() == key
    assert f"Authorization: Bearer {key}" in page.curl_field.value()
    qtbot.mouseClick(page.show_key, Qt.MouseButton.LeftButton)
    assert page.key_field.edit.echoMode() == QLineEdit.EchoMode.Password

    assert page.create_button.text() == "Replace key…"
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.key_field.value() not in ("", key), timeout=10_000)
    assert len(asked) == 1
    assert "old key will stop working" in asked[0]
    new_key = page.key_field.value()
    assert models_status(own_server.url, key) == 401
    assert models_status(own_server.url, new_key) == 200


def test_lan_access_is_refused_without_a_key_then_saved_with_one(
    page: ConnectPage, own_server: OwnServer, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_yes(monkeypatch)
    assert not page.lan_switch.isChecked()
    page.lan_switch.click()
    qtbot.waitUntil(page.banner.isVisible, timeout=10_000)
    assert "LAN access needs an API key" in page.banner.label.text()
    assert not page.lan_switch.isChecked()
    with own_server.client() as client:
        assert client.get_settings().server.lan_access is False

    # The refusal offers to create the key right there.
    assert page.banner.action.isVisible()
    qtbot.mouseClick(page.banner.action, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page._view is not None and page._view.auth, timeout=10_000)
    key = page.ctx.session.api_key
    assert key

    page.lan_switch.click()
    qtbot.waitUntil(page.lan_switch.isChecked, timeout=10_000)
    own_server.key = key
    with own_server.client() as client:
        assert client.get_settings().server.lan_access is True
    # This window did not start the server: it says a restart is needed instead of doing it.
    assert "Restart the server" in page.banner.label.text()
    qtbot.waitUntil(page.lan_pending.isVisible, timeout=10_000)
    assert "restart" in page.lan_pending.text()

    # While LAN access is on, the key cannot be turned off: the server's reason is shown.
    qtbot.mouseClick(page.off_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "cannot be removed while LAN access is on" in page.banner.label.text(),
        timeout=10_000,
    )
    assert models_status(own_server.url, None) == 401


def test_export_widget_takes_the_last_section(page: ConnectPage) -> None:
    from PySide6.QtWidgets import QLabel

    from desktop.gui.widgets.export_panel import ExportPanel

    # The page comes with the FastGPT export panel in its last section, hint hidden.
    panel = page.findChild(ExportPanel)
    assert panel is not None
    assert panel.isVisible()
    assert not page.export_hint.isVisible()
    export = QLabel("export goes here")
    page.set_export_widget(export)
    assert not page.export_hint.isVisible()
    assert export.isVisible()
    assert export.parentWidget() is page.export_hint.parentWidget()
    page.retranslate()
    assert not page.export_hint.isVisible()


def test_a_server_listening_on_the_network_shows_an_address_per_interface(
    make_app: Callable[..., DesktopApp], qtbot: QtBot, tmp_path_factory: pytest.TempPathFactory
) -> None:
    key = "sk-lan-test-key-4e7a"
    home = tmp_path_factory.mktemp("lan-server-home")
    with run_server(home, "--host", "0.0.0.0", env={"XINDESK_API_KEY": key}) as process:
        desktop = make_app(
            process.url, settings=Settings.model_validate({"ui": {"welcome_done": True}})
        )
        desktop.ctx.session.connect_to(process.url, key)
        desktop.window.show()
        desktop.window.open_page("connect")
        page = desktop.window.pages["connect"]
        assert isinstance(page, ConnectPage)
        qtbot.waitUntil(lambda: page._view is not None, timeout=10_000)
        with XinDeskClient(process.url, key) as client:
            addresses = client.server_info().lan_addresses
        port = process.url.rsplit(":", 1)[1]
        shown = [field.value() for field in page.lan_address_fields if field.isVisible()]
        assert shown == [f"http://{address}:{port}/v1" for address in addresses]
        assert page.lan_hint.isVisible() is (not addresses)
        # Listening on the network already, without the setting saved: it says a restart
        # would turn it off again.
        assert page.lan_pending.isVisible()
        assert "can still connect" in page.lan_pending.text()
        assert page.key_field.value() == key
        desktop.close()


@pytest.mark.slow
def test_turning_lan_on_restarts_the_server_this_window_started(
    make_app: Callable[..., DesktopApp], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from desktop.gui.local_server import LocalServerStatus

    key = "sk-owned-server-key"
    # The window and the server child it starts both take the key from the environment.
    monkeypatch.setenv("XINDESK_API_KEY", key)
    asked = answer_yes(monkeypatch)
    write_settings(
        Path(os.environ["XINDESK_HOME"]),
        {"server": {"port": free_port()}, "ui": {"welcome_done": True}},
    )
    desktop = make_app()
    server = desktop.ctx.server
    assert server is not None
    qtbot.waitUntil(lambda: server.state is LocalServerStatus.RUNNING, timeout=60_000)
    assert server.owned
    desktop.window.open_page("connect")
    page = desktop.window.pages["connect"]
    assert isinstance(page, ConnectPage)
    qtbot.waitUntil(lambda: page._view is not None and page._view.auth, timeout=10_000)
    assert not page._view.lan_access

    page.lan_switch.click()
    qtbot.waitUntil(lambda: asked == ["Restart the server now? Running models will stop."])
    qtbot.waitUntil(lambda: server.state is LocalServerStatus.RUNNING, timeout=60_000)
    qtbot.waitUntil(lambda: page._view is not None and page._view.lan_access, timeout=10_000)
    assert page.lan_switch.isChecked()
    assert not page.lan_pending.isVisible()
    assert any("0.0.0.0" in line for line in server.lines())


def test_a_copy_button_says_copied_then_reads_as_before(qtbot: QtBot) -> None:
    field = CopyField("sk-value")
    qtbot.addWidget(field)
    field.copy()
    assert QGuiApplication.clipboard().text() == "sk-value"
    assert field.copy_button.text() == "Copied"
    qtbot.waitUntil(lambda: field.copy_button.text() == "Copy", timeout=COPIED_MS * 3)


def test_a_banner_can_be_dismissed(qtbot: QtBot) -> None:
    banner = Banner()
    qtbot.addWidget(banner)
    banner.show_error("The server could not be reached.")
    assert banner.isVisible()
    assert banner.dismiss_button.text() == "Dismiss"
    qtbot.mouseClick(banner.dismiss_button, Qt.MouseButton.LeftButton)
    assert not banner.isVisible()
    assert banner.label.text() == ""
