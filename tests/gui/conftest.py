"""GUI fixtures: the real window against a real server and the local test hub.

`desktop_app` builds the whole app (window, pages, tray) talking to `gui_server`, a real
`xindesk serve` shared by a test module whose hubs are the local test hub. After each test the
app is closed and the test fails if a background call, thread or timer is still running.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.api.settings import Settings
from desktop.client import XinDeskClient
from desktop.core.paths import AppPaths
from desktop.core.settings import load_settings
from desktop.gui.app import DesktopApp
from tests.fixtures.hub_server import CATALOG_FILE, CATALOG_REPO, TestHub
from tests.fixtures.server import ServerProcess, run_server


def hub_settings(hub: TestHub, **extra: object) -> dict[str, object]:
    """Settings that send every download and search to the local test hub."""
    return {
        "downloads": {
            "source": "huggingface",
            "hf_endpoint": hub.url,
            "modelscope_endpoint": hub.url,
            "retries": 3,
        },
        **extra,
    }


def write_settings(home: Path, settings: dict[str, object]) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")


@pytest.fixture(scope="module")
def gui_hub(gemma_gguf: Path) -> Iterator[TestHub]:
    """The local test hub, serving the catalog's Gemma repository (with the 270M file)."""
    with TestHub() as hub:
        hub.add_repo(CATALOG_REPO, {CATALOG_FILE: gemma_gguf, "README.md": b"gemma"}, downloads=9)
        yield hub


@pytest.fixture(scope="module")
def gui_server(
    tmp_path_factory: pytest.TempPathFactory, gui_hub: TestHub
) -> Iterator[ServerProcess]:
    """A real server for one test module, downloading from the test hub."""
    home = tmp_path_factory.mktemp("gui-server-home")
    write_settings(home, hub_settings(gui_hub))
    with run_server(home, env=gui_hub.hf_env()) as server:
        yield server


def _active_timers(app: DesktopApp) -> list[str]:
    timers = [*app.window.findChildren(QTimer), *app.findChildren(QTimer)]
    return [f"{t.parent()!r}.{t.objectName() or 'timer'}" for t in timers if t.isActive()]


@pytest.fixture
def make_app(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[..., DesktopApp]]:
    """Build DesktopApps; each is closed after the test, which checks nothing is left running."""
    made: list[DesktopApp] = []

    def make(
        endpoint: str | None = None,
        *,
        settings: Settings | None = None,
        start_server: bool = True,
        server_environment: dict[str, str] | None = None,
    ) -> DesktopApp:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        paths = AppPaths.from_environment()
        paths.ensure()
        desktop = DesktopApp(
            app,
            paths,
            settings or load_settings(paths),
            endpoint=endpoint,
            start_server=start_server,
            server_environment=server_environment,
        )
        qtbot.addWidget(desktop.window)
        made.append(desktop)
        return desktop

    yield make
    for desktop in made:
        desktop.close()
        left = _active_timers(desktop)
        assert not left, f"timers still running after the window closed: {left}"
        assert desktop.ctx.tasks.running == 0, "background calls still running after close"
    assert QThreadPool.globalInstance().waitForDone(10_000), "worker threads still running"


@pytest.fixture
def desktop_app(make_app: Callable[..., DesktopApp], gui_server: ServerProcess) -> DesktopApp:
    """The app with its window shown, talking to the module's real server."""
    desktop = make_app(
        gui_server.url, settings=Settings.model_validate({"ui": {"welcome_done": True}})
    )
    desktop.window.show()
    return desktop


@pytest.fixture
def client(gui_server: ServerProcess) -> Iterator[XinDeskClient]:
    """A plain client of the module's server, to check what the page made it do (a test module
    that needs a longer timeout or another start defines its own)."""
    with XinDeskClient(gui_server.url) as api:
        yield api
