"""The first-run welcome against a real server and the local test hub: this computer's hardware,
the three starter suggestions, "Get it" on the chat one (download, then load), and Skip."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.api.common import MODEL_TYPES
from desktop.api.library import GPUView, HardwareView
from desktop.api.settings import Settings
from desktop.client import XinDeskClient
from desktop.core.paths import AppPaths
from desktop.core.units import GiB, human_bytes
from desktop.gui.app import DesktopApp
from desktop.gui.local_server import LocalServerStatus
from desktop.gui.models.catalog_model import CatalogEntry
from desktop.gui.models.starters import Machine, StarterPick, rough_pick
from desktop.gui.pages.models import ModelsPage
from desktop.gui.pages.welcome import WelcomePage
from desktop.gui.widgets.starter_card import DOWNLOADING, READY
from tests.fixtures.hub_server import TestHub
from tests.fixtures.server import ServerProcess, free_port
from tests.gui.conftest import CATALOG_REPO, hub_settings, write_settings


@pytest.fixture
def client(gui_server: ServerProcess) -> Iterator[XinDeskClient]:
    with XinDeskClient(gui_server.url, timeout=60) as api:
        api.update_settings({"ui": {"welcome_done": False}})
        yield api


def _chat_pick(client: XinDeskClient) -> StarterPick:
    """The chat model the page will suggest first on this machine (by the rough check)."""
    catalog = {
        entry.name: entry
        for entry in (
            CatalogEntry.from_api("LLM", item)
            for item in client.registrations("LLM", detailed=True)
        )
    }
    found = rough_pick("LLM", catalog, Machine.from_api(client.hardware()))
    assert found is not None
    return found[1]


@dataclass(frozen=True)
class ChatOnHub:
    pick: StarterPick
    repo_id: str
    path: str


@pytest.fixture
def chat_on_hub(client: XinDeskClient, gui_hub: TestHub, gemma_gguf: Path) -> ChatOnHub:
    """Whatever chat model suits this machine, the test hub serves it (with Gemma 270M's
    bytes), so "Get it" downloads and loads for real on any machine the tests run on."""
    pick = _chat_pick(client)
    specs = [
        spec
        for item in client.registrations("LLM", detailed=True)
        if item.model_name == pick.candidate.name
        for spec in item.model_specs
        if spec.model_hub == "huggingface"
        and str(spec.model_size_in_billions) == pick.candidate.size
        and spec.quantization == pick.quantization
    ]
    (spec,) = specs
    if spec.model_id != CATALOG_REPO:
        gui_hub.add_repo(spec.model_id, {spec.model_file_name_template: gemma_gguf})
    return ChatOnHub(pick, spec.model_id, spec.model_file_name_template)


def _welcome(
    make_app: Callable[..., DesktopApp], server: ServerProcess, qtbot: QtBot
) -> DesktopApp:
    desktop = make_app(server.url, settings=Settings())
    desktop.window.show()
    page = desktop.window.current_page()
    assert isinstance(page, WelcomePage)  # welcome not done yet: the app opens here
    qtbot.waitUntil(
        lambda: not page.loading and all(not c.checking for c in page.cards.values()),
        timeout=60_000,
    )
    return desktop


def test_the_welcome_shows_this_computer_and_three_suggestions(
    make_app: Callable[..., DesktopApp],
    gui_server: ServerProcess,
    qtbot: QtBot,
    client: XinDeskClient,
    chat_on_hub: ChatOnHub,
) -> None:
    desktop = _welcome(make_app, gui_server, qtbot)
    page = desktop.window.pages["welcome"]
    assert isinstance(page, WelcomePage)
    hardware = client.hardware()
    # The window talks to a server by address: the figures are that machine's.
    assert gui_server.url in page.machine_title.text()
    assert page.ram_value.text().endswith(human_bytes(hardware.ram_total_bytes))
    assert str(hardware.cpu_name) in page.cpu_value.text()
    if hardware.backend == "CPU":
        assert "CPU" in page.backend_value.text()
        assert page.gpu_value.text() == "None that XinDesk can use"
    for model_type in MODEL_TYPES:
        card = page.cards[model_type]
        names = [r.model_name for r in client.registrations(model_type)]
        assert card.pick is not None
        assert card.pick.candidate.name in names
        assert card.pick.candidate.name in card.model_label.text()
        assert card.get_button.isEnabled()
        assert card.badge.text()
    chat = page.cards["LLM"]
    assert chat.pick is not None
    assert chat.pick.candidate.name == chat_on_hub.pick.candidate.name
    # The hub has the chat model's file: its size and fit were checked, not estimated.
    assert not chat.pick.estimated
    assert chat.pick.verdict in ("fits_gpu", "partial_offload", "cpu_only")
    assert "estimate" not in chat.badge.text()
    # The embedding models are not on the test hub: an estimate, and the card says so.
    embedding = page.cards["embedding"]
    assert embedding.pick is not None
    assert embedding.pick.estimated
    assert embedding.pick.problem
    assert "estimate" in embedding.badge.toolTip()
    assert page.get_all_button.isEnabled()


@pytest.mark.slow
def test_get_it_on_the_chat_suggestion_downloads_and_starts_it(
    make_app: Callable[..., DesktopApp],
    gui_server: ServerProcess,
    qtbot: QtBot,
    client: XinDeskClient,
    gui_hub: TestHub,
    chat_on_hub: ChatOnHub,
) -> None:
    # Hold the file back a moment, so the card's download stage can be seen.
    gui_hub.stall(1.5, after_bytes=16 * 2**20, path=chat_on_hub.path)
    desktop = _welcome(make_app, gui_server, qtbot)
    page = desktop.window.pages["welcome"]
    assert isinstance(page, WelcomePage)
    card = page.cards["LLM"]
    assert card.pick is not None
    uid = card.pick.candidate.name
    try:
        with qtbot.waitSignal(desktop.ctx.navigator.running_changed, timeout=60_000):
            qtbot.mouseClick(card.get_button, Qt.MouseButton.LeftButton)
        assert not card.get_button.isEnabled()
        assert client.instances(uid), "the launch did not reach the server"
        assert chat_on_hub.repo_id in [job.repo_id for job in client.downloads()]
        qtbot.waitUntil(lambda: card.state == DOWNLOADING, timeout=30_000)
        assert card.progress.isVisible()
        assert "Downloading" in card.status.text()
        qtbot.waitUntil(lambda: card.state == READY, timeout=180_000)
        assert uid in card.status.text()
        assert client.instances(uid)[0].status == "READY"
        assert client.get_settings().ui.welcome_done is True
        assert desktop.ctx.settings.ui.welcome_done
        assert not page.poller.active  # nothing left to follow
        qtbot.mouseClick(card.get_button, Qt.MouseButton.LeftButton)  # now "Open in Chat"
        assert desktop.window.current_page() is desktop.window.pages["chat"]
    finally:
        if client.instances(uid):
            client.terminate(uid)


def test_skip_marks_the_welcome_done(
    make_app: Callable[..., DesktopApp],
    gui_server: ServerProcess,
    qtbot: QtBot,
    client: XinDeskClient,
) -> None:
    desktop = _welcome(make_app, gui_server, qtbot)
    page = desktop.window.pages["welcome"]
    assert isinstance(page, WelcomePage)
    assert client.get_settings().ui.welcome_done is False
    qtbot.mouseClick(page.skip_button, Qt.MouseButton.LeftButton)
    assert isinstance(desktop.window.current_page(), ModelsPage)
    assert desktop.ctx.settings.ui.welcome_done
    qtbot.waitUntil(lambda: client.get_settings().ui.welcome_done is True, timeout=30_000)


def _catalog(model_type: str) -> dict[str, CatalogEntry]:
    """The built-in catalog as the registrations route shows it, without a server."""
    import json

    from desktop.core.catalog.families import Family
    from desktop.core.paths import resources_dir
    from desktop.server.presenters.registry import registration

    file = {"LLM": "llm", "embedding": "embedding", "rerank": "rerank"}[model_type]
    raw = json.loads((resources_dir() / "catalog" / f"{file}.json").read_text(encoding="utf-8"))
    families = [Family.model_validate({**item, "model_type": model_type}) for item in raw]
    return {f.model_name: CatalogEntry.from_api(model_type, registration(f)) for f in families}


def _hardware(
    *, ram: int, cores: int, vram: int | None = None, metal: bool = False
) -> HardwareView:
    backend = "Metal" if metal else "CUDA"
    gpu = GPUView(
        index=0,
        name="GPU",
        backend=backend,
        total_bytes=vram,
        free_bytes=vram,
        unified_memory=metal,
        source="test",
    )
    gpus = [] if vram is None else [gpu]
    return HardwareView(
        os="test",
        os_version="1",
        machine="x86_64",
        cpu_name="CPU",
        cpu_physical_cores=cores,
        cpu_logical_cores=cores * 2,
        ram_total_bytes=ram * GiB,
        ram_available_bytes=ram * GiB * 8 // 10,
        backend="CPU" if vram is None else backend,
        gpu_offload=vram is not None,
        gpus=gpus,
        cpu_features=[],
        unified_memory=metal,
        ram_source="test",
        cpu_source="test",
        backend_source="test",
        notes=[],
        gpu_total_bytes=None if vram is None else vram * GiB,
        gpu_free_bytes=None if vram is None else vram * GiB,
    )


@pytest.mark.parametrize(
    ("hardware", "expected"),
    [
        # A small CPU: a 4B model would answer at a crawl.
        (_hardware(ram=16, cores=2), ("gemma-3-1b-it", "1")),
        (_hardware(ram=32, cores=8), ("Qwen3-Instruct", "4")),
        (_hardware(ram=32, cores=8, vram=8), ("Qwen3-Instruct", "4")),
        # A big GPU holds the 30B mixture of experts whole.
        (_hardware(ram=64, cores=8, vram=48), ("Qwen3-Instruct", "30")),
        # A 16 GiB Mac: Metal's share of the unified memory holds a 4B model.
        (_hardware(ram=16, cores=8, vram=10, metal=True), ("Qwen3-Instruct", "4")),
        # Almost no memory: the smallest chat model, still something to try.
        (_hardware(ram=2, cores=4), ("qwen2.5-instruct", "0_5")),
    ],
)
def test_the_chat_suggestion_suits_the_machine(
    hardware: HardwareView, expected: tuple[str, str]
) -> None:
    found = rough_pick("LLM", _catalog("LLM"), Machine.from_api(hardware))
    assert found is not None
    pick = found[1]
    assert (pick.candidate.name, pick.candidate.size) == expected
    assert pick.quantization.upper() == "Q4_K_M"
    assert pick.estimated


def test_embedding_and_rerank_suggestions_prefer_near_original_quality() -> None:
    machine = Machine.from_api(_hardware(ram=16, cores=4))
    for model_type, name in (("embedding", "bge-m3"), ("rerank", "bge-reranker-v2-m3")):
        found = rough_pick(model_type, _catalog(model_type), machine)
        assert found is not None
        assert (found[1].candidate.name, found[1].quantization) == (name, "Q8_0")
        assert found[1].launch_body().model_uid == name


@pytest.mark.slow
def test_a_cold_start_fills_the_welcome_once_the_windows_own_server_is_up(
    make_app: Callable[..., DesktopApp], qtbot: QtBot, gui_hub: TestHub, tmp_path: Path
) -> None:
    # A fresh home, nothing on the port: the window starts its own server and its Welcome
    # page first asks while that server is still starting.
    port = free_port()
    settings = hub_settings(gui_hub, server={"port": port})
    write_settings(AppPaths.from_environment().config_dir.parent, settings)
    desktop = make_app(None, settings=Settings.model_validate(settings))
    desktop.window.show()
    page = desktop.window.current_page()
    assert isinstance(page, WelcomePage)
    server = desktop.ctx.server
    assert server is not None
    qtbot.waitUntil(lambda: server.state is LocalServerStatus.RUNNING, timeout=120_000)
    qtbot.waitUntil(
        lambda: (
            page._loaded
            and not page.loading
            and all(card.pick is not None and not card.checking for card in page.cards.values())
        ),
        timeout=60_000,
    )
    assert not page.banner.isVisible()
    assert "GB" in page.ram_value.text() or "MB" in page.ram_value.text()
    assert page.cpu_value.text()
    for card in page.cards.values():
        assert card.get_button.isEnabled()
    assert page.get_all_button.isEnabled()
