"""The Models page against a real server and the local test hub: the catalog lists, the filter,
online search, the catalog Gemma's model page with its quantization table and fit, Download, and
Launch through the launch options dialog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from desktop.api.common import MODEL_TYPES
from desktop.client import XinDeskClient
from desktop.core.units import human_bytes
from desktop.gui.app import DesktopApp
from desktop.gui.models.quant_model import QuantColumn, verdict_text
from desktop.gui.models.record_table import RECORD_ROLE
from desktop.gui.pages.models import ONLINE_TAB, ModelsPage
from tests.fixtures.hub_server import TestHub
from tests.fixtures.server import ServerProcess
from tests.gui.conftest import CATALOG_FILE, CATALOG_REPO

GEMMA = "gemma-3-1b-it"
TINY_REPO = "acme/Tiny-Gemma-7B-GGUF"


@pytest.fixture
def client(gui_server: ServerProcess) -> Iterator[XinDeskClient]:
    with XinDeskClient(gui_server.url, timeout=60) as api:
        yield api


def _open_models(desktop_app: DesktopApp, qtbot: QtBot) -> ModelsPage:
    desktop_app.window.open_page("models")
    page = desktop_app.window.pages["models"]
    assert isinstance(page, ModelsPage)
    qtbot.waitUntil(
        lambda: not page.loading and page.catalogs["LLM"].rowCount() > 0, timeout=30_000
    )
    return page


def _names(view: QTableView) -> list[str]:
    model = view.model()
    return [model.index(row, 0).data(RECORD_ROLE).name for row in range(model.rowCount())]


def _click_row(qtbot: QtBot, view: QTableView, index: QModelIndex) -> None:
    view.scrollTo(index)
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center()
    )


def _open_gemma(page: ModelsPage, qtbot: QtBot) -> None:
    page.show_tab("LLM")
    view = page.catalog_views["LLM"]
    row = _names(view).index(GEMMA)
    _click_row(qtbot, view, view.model().index(row, 0))
    assert page.showing_detail()
    detail = page.detail
    qtbot.waitUntil(lambda: not detail.loading and detail.quants.rowCount() > 0, timeout=60_000)


def test_the_catalog_is_listed_by_type(
    desktop_app: DesktopApp, qtbot: QtBot, client: XinDeskClient, qtmodeltester: object
) -> None:
    page = _open_models(desktop_app, qtbot)
    for index, model_type in enumerate(MODEL_TYPES):
        registrations = client.registrations(model_type, detailed=True)
        downloadable = sorted((r.model_name for r in registrations if r.model_specs), key=str.lower)
        assert _names(page.catalog_views[model_type]) == downloadable
        assert page.tabs.tabText(index).endswith(f"({len(downloadable)})")
    # A family without files (it only lends its chat template) is not offered for download.
    all_chat = [r.model_name for r in client.registrations("LLM")]
    assert "gpt-oss" in all_chat
    assert "gpt-oss" not in _names(page.catalog_views["LLM"])
    gemma = page.catalogs["LLM"].entry(GEMMA)
    assert gemma is not None
    assert gemma.sizes == ("1",)
    row = page.catalogs["LLM"].row_of(GEMMA)
    cells = [page.catalogs["LLM"].index(row, column).data() for column in range(6)]
    assert cells[0] == GEMMA
    assert cells[1].startswith("Gemma is a family")
    assert cells[2:5] == ["1B", "32K", "English"]
    qtmodeltester.check(page.catalogs["LLM"])  # type: ignore[attr-defined]
    qtmodeltester.check(page.filters["LLM"])  # type: ignore[attr-defined]
    qtmodeltester.check(page.installed)  # type: ignore[attr-defined]


def test_typing_narrows_the_lists_at_once(desktop_app: DesktopApp, qtbot: QtBot) -> None:
    page = _open_models(desktop_app, qtbot)
    everything = len(_names(page.catalog_views["LLM"]))
    qtbot.keyClicks(page.search_edit, "gemma")
    assert _names(page.catalog_views["LLM"]) == ["gemma-3-1b-it", "gemma-3-it"]
    assert _names(page.catalog_views["embedding"]) == []
    assert page.tabs.tabText(0).endswith("(2)")
    page.search_edit.clear()
    qtbot.keyClicks(page.search_edit, "chinese tool")
    shown = [page.catalogs["LLM"].entry(name) for name in _names(page.catalog_views["LLM"])]
    assert shown
    assert all(e is not None and "zh" in e.languages and "tools" in e.abilities for e in shown)
    page.search_edit.clear()
    assert len(_names(page.catalog_views["LLM"])) == everything


def test_online_search_finds_the_hub_repositories_and_adds_one(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    gui_hub: TestHub,
    client: XinDeskClient,
    qtmodeltester: object,
) -> None:
    gui_hub.add_repo(
        TINY_REPO,
        {"tiny-7b-Q4_K_M.gguf": b"x" * 4096, "tiny-7b-Q8_0.gguf": b"y" * 8192},
        downloads=3,
    )
    page = _open_models(desktop_app, qtbot)
    qtbot.keyClick(page.search_edit, Qt.Key.Key_Return)
    assert page.banner.isVisible()  # nothing typed: it says what to do
    assert "Type a model name" in page.banner.label.text()

    qtbot.keyClicks(page.search_edit, "gemma")
    qtbot.keyClick(page.search_edit, Qt.Key.Key_Return)
    assert page.current_tab() == ONLINE_TAB
    qtbot.waitUntil(lambda: not page.searching, timeout=60_000)
    found = [page.results.record(row).repo_id for row in range(page.results.rowCount())]
    assert found == [CATALOG_REPO, TINY_REPO]  # most downloaded first
    assert page.results.index(0, 1).data() == "Hugging Face"
    qtmodeltester.check(page.results)  # type: ignore[attr-defined]

    _click_row(qtbot, page.online_view, page.results.index(1, 0))
    detail = page.detail
    qtbot.waitUntil(lambda: not detail.loading and detail.quants.rowCount() == 2, timeout=60_000)
    rows = detail.quants.records()
    assert [(r.quantization, r.size) for r in rows] == [("Q8_0", 8192), ("Q4_K_M", 4096)]
    assert detail.quants.index(0, QuantColumn.SIZE).data() == human_bytes(8192)
    # No header to read in these fake files: no fit, and the server's suggestion (from the
    # file sizes alone) is preselected.
    assert detail.quants.index(0, QuantColumn.FIT).data() == verdict_text(None)
    suggested = client.repo_files(TINY_REPO, context_length=detail.context_length())
    selected = detail.selected_row()
    assert selected is not None
    assert selected.quantization == suggested.recommended

    detail.register_row.name.clear()
    qtbot.keyClicks(detail.register_row.name, "tiny-gemma")
    qtbot.mouseClick(detail.register_row.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "tiny-gemma" in detail.banner.label.text(), timeout=30_000)
    assert "tiny-gemma" in [r.model_name for r in client.registrations("LLM")]
    qtbot.mouseClick(detail.back_button, Qt.MouseButton.LeftButton)
    assert not page.showing_detail()
    qtbot.waitUntil(lambda: page.catalogs["LLM"].entry("tiny-gemma") is not None, timeout=30_000)
    row = page.catalogs["LLM"].row_of("tiny-gemma")
    assert page.catalogs["LLM"].index(row, 0).data() == "tiny-gemma (added by you)"


def test_the_catalog_gemma_page_has_a_quantization_table_with_a_recommendation(
    desktop_app: DesktopApp, qtbot: QtBot, gemma_gguf: Path, qtmodeltester: object
) -> None:
    page = _open_models(desktop_app, qtbot)
    _open_gemma(page, qtbot)
    detail = page.detail
    assert detail.summary.title.text() == GEMMA
    assert detail.context_length() == desktop_app.ctx.settings.models.default_context_length
    assert not detail.size_combo.isVisible()  # one size only
    model = detail.quants
    rows = model.records()
    q4 = next(r for r in rows if r.quantization == "Q4_K_M")
    assert q4.size == gemma_gguf.stat().st_size
    assert q4.available
    assert q4.recommended
    assert q4.verdict in ("fits_gpu", "partial_offload", "cpu_only")
    # The test hub has only that file: every other level is listed, greyed out, last.
    assert rows[0] is q4
    assert not any(r.available for r in rows[1:])
    assert model.index(0, QuantColumn.SIZE).data() == human_bytes(q4.size)
    assert model.index(0, QuantColumn.FIT).data() == verdict_text(q4.verdict)
    assert "Recommended" in model.index(0, QuantColumn.STATUS).data()
    assert "RAM" in model.index(0, QuantColumn.FIT).data(Qt.ItemDataRole.ToolTipRole)
    assert not model.flags(model.index(1, 0)) & Qt.ItemFlag.ItemIsEnabled
    selected = detail.selected_row()
    assert selected is not None
    assert selected.quantization == "Q4_K_M"
    assert detail.launch_button.isEnabled()
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    # A language switch sets every text again, from what is loaded.
    page.retranslate()
    detail.retranslate()
    assert detail.summary.title.text() == GEMMA
    assert model.index(0, QuantColumn.FIT).data() == verdict_text(q4.verdict)

    # Another context length asks the server again for the fit at that context; the rows
    # are updated in place, so the selection stays.
    detail.select_context(2048)
    assert detail.loading
    assert model.rowCount() == len(rows)
    qtbot.waitUntil(lambda: not detail.loading, timeout=60_000)
    assert "2,048 tokens" in detail.fit_note.text()
    assert model.record(0).recommended
    assert model.record(0).fit != q4.fit  # a smaller context needs less memory
    selected = detail.selected_row()
    assert selected is not None
    assert selected.quantization == "Q4_K_M"


@pytest.mark.slow
def test_download_starts_a_job(
    desktop_app: DesktopApp, qtbot: QtBot, client: XinDeskClient
) -> None:
    page = _open_models(desktop_app, qtbot)
    _open_gemma(page, qtbot)
    detail = page.detail
    assert detail.download_button.isEnabled()
    with qtbot.waitSignal(desktop_app.ctx.navigator.downloads_changed, timeout=30_000):
        qtbot.mouseClick(detail.download_button, Qt.MouseButton.LeftButton)
    assert "Downloading" in detail.banner.label.text()
    assert detail.banner.action.isVisible()
    jobs = [job for job in client.downloads() if job.repo_id == CATALOG_REPO]
    assert [job.files[0].path for job in jobs] == [CATALOG_FILE]

    def completed() -> bool:
        return client.download(jobs[0].id).state == "completed"

    qtbot.waitUntil(completed, timeout=120_000)
    detail.reload()
    qtbot.waitUntil(lambda: not detail.loading and detail.quants.rowCount() > 0, timeout=60_000)
    assert detail.quants.record(0).downloaded
    assert "Downloaded" in detail.quants.index(0, QuantColumn.STATUS).data()
    assert not detail.download_button.isEnabled()
    qtbot.mouseClick(detail.banner.action, Qt.MouseButton.LeftButton)


@pytest.mark.slow
def test_launch_through_the_dialog(
    desktop_app: DesktopApp, qtbot: QtBot, client: XinDeskClient
) -> None:
    page = _open_models(desktop_app, qtbot)
    _open_gemma(page, qtbot)
    detail = page.detail
    qtbot.mouseClick(detail.launch_button, Qt.MouseButton.LeftButton)
    dialog = detail.launch_dialog
    assert dialog is not None
    assert dialog.uid_edit.text() == GEMMA  # the model's name, as Xinference does
    dialog.uid_edit.clear()
    qtbot.keyClicks(dialog.uid_edit, "gemma-gui")
    dialog.context_combo.setCurrentIndex(dialog.context_combo.findData(2048))
    qtbot.mouseClick(dialog.threads_set, Qt.MouseButton.LeftButton)
    dialog.threads_spin.setValue(1)
    full_hint = dialog.kv_hint.text()
    dialog.kv_combo.setCurrentIndex(dialog.kv_combo.findData("q8_0"))
    # The hint follows the choice: a q8_0 cache takes 53% of an f16 one's memory.
    assert dialog.kv_hint.text() != full_hint
    assert "53%" in dialog.kv_hint.text()
    body = dialog.body().model_dump()
    assert body["n_ctx"] == 2048
    assert body["n_threads"] == 1
    assert body["cache_type_k"] == body["cache_type_v"] == "q8_0"
    assert "flash_attn" not in body  # automatic: the server's default
    assert body["model_name"] == GEMMA
    assert body["quantization"] == "Q4_K_M"
    try:
        with qtbot.waitSignal(desktop_app.ctx.navigator.running_changed, timeout=60_000):
            qtbot.mouseClick(dialog.launch_button, Qt.MouseButton.LeftButton)
        assert desktop_app.window.current_page() is desktop_app.window.pages["running"]

        def ready() -> bool:
            found = client.instances("gemma-gui")
            return bool(found) and found[0].status == "READY"

        qtbot.waitUntil(ready, timeout=180_000)
        assert client.describe("gemma-gui").context_length == 2048
        assert client.describe("gemma-gui").cache_type_k == "q8_0"

        # The same name again: the dialog stays open and says what to do.
        desktop_app.window.open_page("models")
        qtbot.mouseClick(detail.launch_button, Qt.MouseButton.LeftButton)
        again = detail.launch_dialog
        assert again is not None
        again.uid_edit.clear()
        qtbot.keyClicks(again.uid_edit, "gemma-gui")
        qtbot.mouseClick(again.launch_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: again.banner.isVisible(), timeout=30_000)
        assert "already running" in again.banner.label.text()
        assert again.isVisible()
        again.reject()
    finally:
        if client.instances("gemma-gui"):
            client.terminate("gemma-gui")


def test_a_file_on_this_computer_opens_the_launch_options(
    desktop_app: DesktopApp, qtbot: QtBot, client: XinDeskClient, gemma_gguf: Path
) -> None:
    client.import_model(str(gemma_gguf))
    page = _open_models(desktop_app, qtbot)
    page.show_tab("installed")
    paths = [page.installed.record(row).path for row in range(page.installed.rowCount())]
    row = paths.index(str(gemma_gguf))
    assert page.installed.index(row, 1).data() == "Imported file"
    assert not page.installed_launch.isEnabled()
    _click_row(qtbot, page.installed_view, page.installed_filter.index(row, 0))
    assert page.installed_launch.isEnabled()
    qtbot.mouseClick(page.installed_launch, Qt.MouseButton.LeftButton)
    dialog = page.launch_dialog
    assert dialog is not None
    # Not from the catalog: it is named after the file and the dialog asks what kind it is.
    assert dialog.uid_edit.text() == gemma_gguf.stem
    assert dialog.type_combo.isVisible()
    body = dialog.body().model_dump()
    assert body["model_path"] == str(gemma_gguf)
    assert body["model_type"] == "LLM"
    assert body["n_ctx"] == desktop_app.ctx.settings.models.default_context_length
    dialog.reject()
    assert not dialog.isVisible()


@pytest.mark.slow
def test_a_searched_repository_launches_by_name(
    desktop_app: DesktopApp, qtbot: QtBot, client: XinDeskClient
) -> None:
    page = _open_models(desktop_app, qtbot)
    page.open_repo(CATALOG_REPO, "huggingface")
    detail = page.detail
    qtbot.waitUntil(lambda: not detail.loading and detail.quants.rowCount() > 0, timeout=60_000)
    detail.register_row.name.clear()
    qtbot.keyClicks(detail.register_row.name, "my-gemma")
    qtbot.mouseClick(detail.launch_button, Qt.MouseButton.LeftButton)
    dialog = detail.launch_dialog
    assert dialog is not None
    assert dialog.uid_edit.text() == "my-gemma"
    assert dialog.type_combo.isVisible()  # a hub repository does not say what kind it is
    assert dialog.model_type() == "LLM"
    dialog.context_combo.setCurrentIndex(dialog.context_combo.findData(2048))
    try:
        with qtbot.waitSignal(desktop_app.ctx.navigator.running_changed, timeout=60_000):
            qtbot.mouseClick(dialog.launch_button, Qt.MouseButton.LeftButton)
        assert "my-gemma" in [r.model_name for r in client.registrations("LLM")]

        def ready() -> bool:
            found = client.instances("my-gemma")
            return bool(found) and found[0].status == "READY"

        qtbot.waitUntil(ready, timeout=180_000)
        assert client.describe("my-gemma").model_name == "my-gemma"
    finally:
        if client.instances("my-gemma"):
            client.terminate("my-gemma")
