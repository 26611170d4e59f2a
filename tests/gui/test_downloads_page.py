"""The Downloads page against a real server and the local test hub: progress, pause and resume,
a failure with Retry, cancel with its question, clearing finished jobs, and the table model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop.api.downloads import DownloadJobView, StartDownload
from desktop.client import XinDeskClient
from desktop.core.hub.transfer import PART_SUFFIX
from desktop.gui.app import DesktopApp
from desktop.gui.models.downloads_model import DownloadColumn, DownloadsModel
from desktop.gui.models.record_table import KEY_ROLE, PROGRESS_ROLE
from desktop.gui.pages.downloads import DownloadsPage
from tests.fixtures.hub_server import TestHub
from tests.gui.conftest import CATALOG_FILE
from tests.gui.helpers import (
    answer_next_dialog,
    assert_model_clean,
    button_named,
    cell,
    check_model,
    click,
    leave_by_empty_state,
    open_page,
)

GEMMA_DOWNLOAD = StartDownload(
    model_name="gemma-3-1b-it", model_size_in_billions=1, quantization="Q4_K_M"
)


# -- helpers ----------------------------------------------------------------------------------


def server_state(client: XinDeskClient, job_id: str) -> str:
    return str(client.download(job_id).state)


def job(job_id: str, state: str, **fields: Any) -> DownloadJobView:
    return DownloadJobView.model_validate(
        {
            "id": job_id,
            "state": state,
            "label": f"model {job_id}",
            "hub": "huggingface",
            "repo_id": f"acme/{job_id}",
            "revision": None,
            "folder": f"/models/acme/{job_id}",
            "files": [{"path": f"{job_id}.gguf", "size": 1000}],
            "error": None,
            "model": None,
            "created_at": 0.0,
            "finished_at": None,
            "downloaded_bytes": 0,
            "total_bytes": 1000,
            "progress": 0.0,
            "speed_bytes_per_second": 0.0,
            "eta_seconds": None,
            "current_file": None,
            "attempt": 0,
            **fields,
        }
    )


# -- the model alone --------------------------------------------------------------------------


def test_downloads_model_passes_the_model_testers_with_synthetic_jobs(
    qtmodeltester: ModelTester, qtlog: Any
) -> None:
    model = DownloadsModel()
    tester = check_model(qtmodeltester, model)
    model.set_jobs([])
    model.set_jobs([job("a", "queued")])
    running = job(
        "a",
        "downloading",
        downloaded_bytes=250,
        progress=0.25,
        speed_bytes_per_second=2048.0,
        eta_seconds=90.0,
    )
    model.set_jobs([running, job("b", "paused", progress=0.5, downloaded_bytes=500)])
    # Newest first: the server lists oldest first.
    assert model.keys() == ["b", "a"]
    row = model.row_of("a")
    assert model.data(model.index(row, DownloadColumn.PROGRESS)) == "25%"
    assert model.data(model.index(row, DownloadColumn.PROGRESS), PROGRESS_ROLE) == 0.25
    assert model.data(model.index(row, DownloadColumn.SPEED)) == "2.0 KB/s"
    assert model.data(model.index(row, DownloadColumn.TIME_LEFT)) == "1 min 30 s"
    assert model.data(model.index(row, DownloadColumn.SIZE)) == "250 B of 1000 B"
    assert model.data(model.index(row, DownloadColumn.NAME), KEY_ROLE) == "a"
    assert model.summary() == "1 downloading · 2.0 KB/s · 1 paused"

    changes: list[int] = []
    model.dataChanged.connect(lambda top, *_: changes.append(top.row()))
    inserted: list[int] = []
    model.rowsInserted.connect(lambda _parent, first, _last: inserted.append(first))
    failed = job("a", "failed", error="Client error '404 Not Found' (HTTP 404)")
    model.set_jobs([failed, job("b", "paused", progress=0.5, downloaded_bytes=500)])
    # Only the changed row is repainted; no row is inserted or removed for a changed figure.
    assert changes == [model.row_of("a")]
    assert inserted == []
    assert model.data(model.index(model.row_of("a"), DownloadColumn.STATE)) == (
        "Failed: Client error '404 Not Found' (HTTP 404)"
    )
    assert model.data(model.index(model.row_of("a"), DownloadColumn.SPEED)) == "–"

    model.set_jobs([failed, job("b", "completed", progress=1.0), job("c", "downloading")])
    assert model.keys() == ["c", "b", "a"]
    assert inserted == [0]
    model.set_jobs([job("c", "downloading", attempt=2)])
    assert model.keys() == ["c"]
    assert model.data(model.index(0, DownloadColumn.STATE)) == "Downloading (retry 2)"
    # Rows in another order than shown: the model starts over rather than mis-place them.
    model.set_jobs([job("x", "queued"), job("y", "queued")])
    model.set_jobs([job("y", "queued"), job("x", "queued")])
    assert model.keys() == ["x", "y"]
    model.retranslate()
    assert_model_clean(qtlog, model)
    del tester


# -- the page against the real server ---------------------------------------------------------


def test_no_downloads_points_to_the_models_page(desktop_app: DesktopApp, qtbot: QtBot) -> None:
    page = open_page(desktop_app, DownloadsPage)
    assert page.polling
    assert page.empty_page.button is page.browse_button
    assert "No downloads yet" in leave_by_empty_state(desktop_app, qtbot, page)
    assert page.summary.text() == ""


@pytest.mark.slow
def test_pause_and_resume_a_catalog_download(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    client: XinDeskClient,
    gui_hub: TestHub,
    gemma_gguf: Path,
    qtmodeltester: ModelTester,
    qtlog: Any,
) -> None:
    size = gemma_gguf.stat().st_size
    # Hold the transfer a quarter of the way in, long enough to see it and pause it.
    gui_hub.stall(8, after_bytes=size // 4, path=CATALOG_FILE)
    page = open_page(desktop_app, DownloadsPage)
    started = client.start_download(GEMMA_DOWNLOAD)
    job_id = started.id
    desktop_app.ctx.navigator.downloads_changed.emit()

    qtbot.waitUntil(
        lambda: cell(page, job_id, DownloadColumn.SPEED) not in ("", "–"), timeout=30_000
    )
    assert cell(page, job_id, DownloadColumn.SPEED).endswith("/s")
    assert cell(page, job_id, DownloadColumn.STATE) == "Downloading"
    row = page.model.row_of(job_id)
    progress = page.model.data(page.model.index(row, DownloadColumn.PROGRESS), PROGRESS_ROLE)
    assert 0 < progress < 1
    assert cell(page, job_id, DownloadColumn.PROGRESS) == f"{int(progress * 100)}%"
    assert cell(page, job_id, DownloadColumn.SIZE).endswith("of 241.4 MB")
    assert cell(page, job_id, DownloadColumn.NAME) == "gemma-3-1b-it 1B Q4_K_M"
    assert page.summary.text().startswith("1 downloading · ")
    actions = page.actions_for(job_id)
    assert actions is not None
    assert actions.visible_actions() == ["pause", "cancel"]
    assert page.stack.currentWidget() is page.list_page
    tester = check_model(qtmodeltester, page.model)

    click(qtbot, page, job_id, "pause")
    qtbot.waitUntil(lambda: cell(page, job_id, DownloadColumn.STATE) == "Paused", timeout=10_000)
    assert server_state(client, job_id) == "paused"
    assert actions.visible_actions() == ["resume", "cancel"]
    assert cell(page, job_id, DownloadColumn.SPEED) == "–"
    assert "1 paused" in page.summary.text()

    click(qtbot, page, job_id, "resume")
    qtbot.waitUntil(lambda: cell(page, job_id, DownloadColumn.STATE) == "Completed", timeout=60_000)
    assert server_state(client, job_id) == "completed"
    assert cell(page, job_id, DownloadColumn.PROGRESS) == "100%"
    assert cell(page, job_id, DownloadColumn.SIZE) == "241.4 MB of 241.4 MB"
    assert actions.visible_actions() in (["remove"], ["open", "remove"])
    assert_model_clean(qtlog, page.model)
    del tester

    # Finished jobs leave the list (the files stay).
    assert page.clear_button.isEnabled()
    qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.model.row_of(job_id) < 0, timeout=10_000)
    assert job_id not in [j.id for j in client.downloads()]
    assert (Path(started.folder) / CATALOG_FILE).is_file()


def test_a_failed_download_shows_why_and_retries(
    desktop_app: DesktopApp, qtbot: QtBot, client: XinDeskClient, gui_hub: TestHub
) -> None:
    gui_hub.add_repo("acme/Flaky-GGUF", {"flaky-Q4_K_M.gguf": b"GGUF" + bytes(8192)})
    gui_hub.fail_status(404, path="flaky-Q4_K_M.gguf")
    page = open_page(desktop_app, DownloadsPage)
    job_id = str(
        client.start_download(
            StartDownload(repo_id="acme/Flaky-GGUF", files=["flaky-Q4_K_M.gguf"])
        ).id
    )
    qtbot.waitUntil(
        lambda: cell(page, job_id, DownloadColumn.STATE).startswith("Failed:"), timeout=30_000
    )
    assert "404" in cell(page, job_id, DownloadColumn.STATE)
    assert server_state(client, job_id) == "failed"
    actions = page.actions_for(job_id)
    assert actions is not None
    assert actions.visible_actions() == ["retry", "remove"]
    assert "1 failed" in page.summary.text()
    # Another page may open this one on a job: that job is then the one shown in detail.
    desktop_app.window.open_page("downloads", job_id)
    qtbot.waitUntil(lambda: page.selected_job() is not None, timeout=5_000)
    selected = page.selected_job()
    assert selected is not None
    assert selected.id == job_id
    assert "What went wrong" in page.details.text()
    assert "404" in page.details.text()

    click(qtbot, page, job_id, "retry")
    qtbot.waitUntil(lambda: cell(page, job_id, DownloadColumn.STATE) == "Completed", timeout=30_000)
    assert server_state(client, job_id) == "completed"
    assert "What went wrong" not in page.details.text()


@pytest.mark.slow
def test_cancel_asks_first_and_can_delete_the_partial_file(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    client: XinDeskClient,
    gui_hub: TestHub,
    gemma_gguf: Path,
) -> None:
    gui_hub.add_repo("acme/Big-GGUF", {"big-Q4_K_M.gguf": gemma_gguf})
    gui_hub.stall(6, after_bytes=gemma_gguf.stat().st_size // 4, path="big-Q4_K_M.gguf")
    page = open_page(desktop_app, DownloadsPage)
    started = client.start_download(
        StartDownload(repo_id="acme/Big-GGUF", files=["big-Q4_K_M.gguf"])
    )
    job_id = started.id
    part = Path(started.folder) / ("big-Q4_K_M.gguf" + PART_SUFFIX)
    qtbot.waitUntil(
        lambda: cell(page, job_id, DownloadColumn.SPEED) not in ("", "–"), timeout=30_000
    )

    seen = answer_next_dialog(button_named("Keep downloading"))
    click(qtbot, page, job_id, "cancel")
    assert seen == ["Cancel the download of acme/Big-GGUF/big-Q4_K_M.gguf?"]
    assert server_state(client, job_id) == "downloading"
    assert part.exists()

    seen = answer_next_dialog(button_named("Cancel and delete the partial file"))
    click(qtbot, page, job_id, "cancel")
    assert len(seen) == 1
    qtbot.waitUntil(lambda: cell(page, job_id, DownloadColumn.STATE) == "Cancelled", timeout=30_000)
    assert server_state(client, job_id) == "cancelled"
    qtbot.waitUntil(lambda: not part.exists(), timeout=10_000)
    assert not (part.parent / "big-Q4_K_M.gguf").exists()
    actions = page.actions_for(job_id)
    assert actions is not None
    assert actions.visible_actions() == ["remove"]
    # The cancel call returns once the transfer let go of the file; until then the row waits.
    qtbot.waitUntil(lambda: actions.buttons["remove"].isEnabled(), timeout=30_000)
    click(qtbot, page, job_id, "remove")
    qtbot.waitUntil(lambda: page.model.row_of(job_id) < 0, timeout=10_000)
    assert job_id not in [j.id for j in client.downloads()]
