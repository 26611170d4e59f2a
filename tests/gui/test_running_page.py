"""The Running page against a real server: a launched Gemma (UID, type, quantization, memory,
ready), Open in chat, Stop with its question, a model that fails to load (the reason, Relaunch),
a catalog model downloading before it loads, and the table model."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop.api.xinference import InstanceInfo, LaunchProgress, LaunchRequest, ListedModel
from desktop.client import XinDeskClient
from desktop.gui.app import DesktopApp
from desktop.gui.dialogs.keep import KeepDialog
from desktop.gui.models.record_table import PROGRESS_ROLE
from desktop.gui.models.running_model import (
    RunningColumn,
    RunningModelsModel,
    RunningRow,
)
from desktop.gui.pages.running import RunningPage
from tests.fixtures.hub_server import TestHub
from tests.fixtures.server import ServerProcess
from tests.fixtures.tiny_gguf import write_unknown_architecture_gguf
from tests.gui.conftest import CATALOG_FILE
from tests.gui.helpers import (
    answer_next_dialog,
    assert_model_clean,
    cell,
    check_model,
    click,
    leave_by_empty_state,
    open_page,
)

# -- helpers ----------------------------------------------------------------------------------


def described(uid: str, status: str, **fields: Any) -> ListedModel:
    return TypeAdapter(ListedModel).validate_python(
        {
            "id": uid,
            "model_type": "LLM",
            "model_name": "gemma-3-it",
            "quantization": "Q4_K_M",
            "model_ability": ["chat", "generate"],
            "context_length": 2048,
            "model_path": f"/models/{uid}.gguf",
            "status": status,
            "error": None,
            "memory_bytes": 300 * 2**20,
            **fields,
        }
    )


def running_uids(client: XinDeskClient) -> list[str]:
    return [m.id for m in client.list_models()]


# -- the model alone --------------------------------------------------------------------------


def test_running_model_passes_the_model_testers_with_synthetic_rows(
    qtmodeltester: ModelTester, qtlog: Any
) -> None:
    model = RunningModelsModel()
    tester = check_model(qtmodeltester, model)
    model.set_models([])
    pending = RunningRow.from_api(
        InstanceInfo(
            model_uid="dl",
            model_name="gemma-3-1b-it",
            model_ability=["chat"],
            status="CREATING",
            instance_created_ts=0,
        )
    ).with_progress(
        LaunchProgress.model_validate(
            {
                "progress": 0.4,
                "stage": "downloading",
                "download_files": [],
                "replicas": [],
                "download": {
                    "job_id": "job",
                    "state": "downloading",
                    "downloaded_bytes": 420,
                    "total_bytes": 1000,
                    "progress": 0.42,
                    "speed_bytes_per_second": 2048,
                    "eta_seconds": None,
                    "current_file": None,
                    "attempt": 0,
                },
            }
        )
    )
    model.set_models([RunningRow.from_api(described("chat", "ready")), pending])
    assert model.keys() == ["chat", "dl"]
    assert model.data(model.index(0, RunningColumn.TYPE)) == "Chat (LLM)"
    assert model.data(model.index(0, RunningColumn.QUANTIZATION)) == "Q4_K_M"
    assert model.data(model.index(0, RunningColumn.MEMORY)) == "300.0 MB"
    assert model.data(model.index(0, RunningColumn.STATE)) == "Ready"
    assert model.data(model.index(0, RunningColumn.STATE), PROGRESS_ROLE) is None
    assert model.data(model.index(1, RunningColumn.STATE)) == "Downloading 42% · 2.0 KB/s"
    assert model.data(model.index(1, RunningColumn.STATE), PROGRESS_ROLE) == 0.42
    assert model.data(model.index(1, RunningColumn.MEMORY)) == "–"
    assert model.summary() == "1 ready · 1 starting · 300.0 MB of memory"

    inserted: list[int] = []
    removed: list[int] = []
    model.rowsInserted.connect(lambda _parent, first, _last: inserted.append(first))
    model.rowsRemoved.connect(lambda _parent, first, _last: removed.append(first))
    loading = replace(RunningRow.from_api(described("dl", "loading", memory_bytes=None)), waited=3)
    model.set_models([RunningRow.from_api(described("chat", "ready")), loading])
    assert model.data(model.index(1, RunningColumn.STATE)) == "Loading into memory… 3 s"
    embed = described("embed", "ready", model_type="embedding", quantization="unknown")
    failed = described("dl", "error", error="llama.cpp could not load it", memory_bytes=None)
    model.set_models([RunningRow.from_api(embed), RunningRow.from_api(failed)])
    # "chat" went, "embed" came first, "dl" changed in place.
    assert model.keys() == ["embed", "dl"]
    assert removed == [0]
    assert inserted == [0]
    assert model.data(model.index(0, RunningColumn.TYPE)) == "Embedding"
    assert model.data(model.index(0, RunningColumn.QUANTIZATION)) == "Unknown"
    assert not model.can_chat(model.record(0))
    assert model.data(model.index(1, RunningColumn.STATE)) == "Error: llama.cpp could not load it"
    assert model.data(model.index(1, RunningColumn.STATE), Qt.ItemDataRole.ToolTipRole) == (
        "llama.cpp could not load it"
    )
    model.retranslate()
    model.set_models([])
    assert model.summary() == ""
    assert_model_clean(qtlog, model)
    del tester


# -- the page against the real server ---------------------------------------------------------


def test_no_running_model_points_to_the_models_page(desktop_app: DesktopApp, qtbot: QtBot) -> None:
    page = open_page(desktop_app, RunningPage)
    assert page.empty_page.button is page.models_button
    assert "No model is running" in leave_by_empty_state(desktop_app, qtbot, page)


@pytest.mark.slow
def test_a_launched_model_is_listed_then_stopped(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    gui_server: ServerProcess,
    client: XinDeskClient,
    gemma_gguf: Path,
    qtmodeltester: ModelTester,
    qtlog: Any,
) -> None:
    uid = gui_server.launch_gguf(gemma_gguf, "gemma-gui")
    page = open_page(desktop_app, RunningPage)
    qtbot.waitUntil(lambda: cell(page, uid, RunningColumn.STATE) == "Ready", timeout=15_000)
    desc = client.describe(uid)
    assert cell(page, uid, RunningColumn.UID) == "gemma-gui"
    assert cell(page, uid, RunningColumn.NAME) == "gemma-3-it"
    assert cell(page, uid, RunningColumn.TYPE) == "Chat (LLM)"
    assert cell(page, uid, RunningColumn.QUANTIZATION) == desc.quantization
    assert desc.memory_bytes > 0
    memory = cell(page, uid, RunningColumn.MEMORY)
    assert memory.endswith(("MB", "GB")), memory
    assert page.summary.text().startswith("1 ready · ")
    assert page.details.uid.value() == uid
    assert page.details.address.value() == f"{gui_server.url}/v1"
    actions = page.actions_for(uid)
    assert actions is not None
    assert actions.visible_actions() == ["chat", "unload", "keep", "stop"]
    tester = check_model(qtmodeltester, page.model)

    with qtbot.waitSignal(desktop_app.ctx.navigator.open_page, timeout=5_000) as opened:
        click(qtbot, page, uid, "chat")
    assert opened.args == ["chat", uid]
    current = desktop_app.window.current_page()
    assert current is not None
    assert current.key == "chat"
    assert not page.polling

    desktop_app.window.open_page("running")
    qtbot.waitUntil(lambda: page.model.row_of(uid) >= 0, timeout=10_000)
    # Answering No keeps the model running.
    seen = answer_next_dialog(lambda box: box.button(QMessageBox.StandardButton.No))
    click(qtbot, page, uid, "stop")
    assert seen == [
        "Stop gemma-gui? Apps that use it (FastGPT, the chat) get errors until you launch it again."
    ]
    assert uid in running_uids(client)

    seen = answer_next_dialog(lambda box: box.button(QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(desktop_app.ctx.navigator.running_changed, timeout=30_000):
        click(qtbot, page, uid, "stop")
    assert len(seen) == 1
    assert uid not in running_uids(client)
    qtbot.waitUntil(lambda: page.model.row_of(uid) < 0, timeout=10_000)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty_page, timeout=10_000)
    assert_model_clean(qtlog, page.model)
    del tester


@pytest.mark.slow
def test_a_model_that_fails_to_load_shows_why_and_relaunches(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    client: XinDeskClient,
    gemma_gguf: Path,
    tmp_path: Path,
) -> None:
    # A whole GGUF that names an architecture llama.cpp does not know: it passes the server's
    # checks (a cut-off file would not) and llama.cpp refuses to load it.
    damaged = write_unknown_architecture_gguf(gemma_gguf, tmp_path / "damaged-gemma.gguf")
    uid = client.launch(
        LaunchRequest(
            model_uid="damaged",
            model_name="damaged",
            model_engine="llama.cpp",
            model_format="ggufv2",
            model_path=str(damaged),
        ),
        wait_ready=False,
    )
    page = open_page(desktop_app, RunningPage)
    qtbot.waitUntil(
        lambda: cell(page, uid, RunningColumn.STATE).startswith("Error: "), timeout=30_000
    )
    reason = str(client.describe(uid).error)
    assert "could not load" in reason
    assert cell(page, uid, RunningColumn.STATE) == f"Error: {reason}"
    assert "1 stopped with an error" in page.summary.text()
    assert cell(page, uid, RunningColumn.MEMORY) == "–"
    page.select(uid)
    assert page.details.error.isVisible()
    assert reason in page.details.error.text()
    actions = page.actions_for(uid)
    assert actions is not None
    assert actions.visible_actions() == ["relaunch", "remove"]

    # The person replaces the damaged file, then relaunches with the same settings.
    shutil.copyfile(gemma_gguf, damaged)
    click(qtbot, page, uid, "relaunch")
    qtbot.waitUntil(lambda: cell(page, uid, RunningColumn.STATE) == "Ready", timeout=60_000)
    assert client.describe(uid).status == "ready"
    # The row may have been rebuilt while the model restarted: ask for its buttons again.
    relaunched = page.actions_for(uid)
    assert relaunched is not None
    assert relaunched.visible_actions() == ["chat", "unload", "keep", "stop"]
    client.terminate(uid)
    qtbot.waitUntil(lambda: page.model.row_of(uid) < 0, timeout=10_000)


@pytest.mark.slow
def test_a_catalog_model_downloading_before_it_loads_shows_its_progress(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    client: XinDeskClient,
    gui_hub: TestHub,
    gemma_gguf: Path,
) -> None:
    gui_hub.stall(5, after_bytes=gemma_gguf.stat().st_size // 3, path=CATALOG_FILE)
    page = open_page(desktop_app, RunningPage)
    uid = client.launch(
        LaunchRequest(
            model_uid="gemma-dl",
            model_name="gemma-3-1b-it",
            model_engine="llama.cpp",
            model_format="ggufv2",
            model_size_in_billions=1,
            quantization="Q4_K_M",
            n_ctx=512,
        ),
        wait_ready=False,
    )
    desktop_app.ctx.navigator.running_changed.emit()

    def downloading() -> bool:
        row = page.model.row_of(uid)
        if row < 0:
            return False
        value = page.model.data(page.model.index(row, RunningColumn.STATE), PROGRESS_ROLE)
        return isinstance(value, float) and 0 < value < 1

    qtbot.waitUntil(downloading, timeout=30_000)
    assert cell(page, uid, RunningColumn.STATE).startswith("Downloading ")
    assert cell(page, uid, RunningColumn.TYPE) == "Chat (LLM)"
    actions = page.actions_for(uid)
    assert actions is not None
    assert actions.visible_actions() == ["cancel"]
    qtbot.waitUntil(lambda: cell(page, uid, RunningColumn.STATE) == "Ready", timeout=90_000)
    assert cell(page, uid, RunningColumn.QUANTIZATION) == "Q4_K_M"
    assert page.actions_for(uid) is not None
    client.terminate(uid)
    qtbot.waitUntil(lambda: page.model.row_of(uid) < 0, timeout=10_000)


@pytest.mark.slow
def test_unload_load_and_keep_a_served_model(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    gui_server: ServerProcess,
    client: XinDeskClient,
    gemma_gguf: Path,
) -> None:
    uid = gui_server.launch_gguf(gemma_gguf, "gemma-kept", n_ctx=512)
    page = open_page(desktop_app, RunningPage)
    qtbot.waitUntil(lambda: cell(page, uid, RunningColumn.STATE) == "Ready", timeout=15_000)
    page.select(uid)
    assert page.details.keeping.text() == "Unloads after 30 min idle"

    click(qtbot, page, uid, "unload")
    qtbot.waitUntil(
        lambda: cell(page, uid, RunningColumn.STATE) == "Unloaded · loads on the next request",
        timeout=30_000,
    )
    assert client.describe(uid).status == "unloaded"
    actions = page.actions_for(uid)
    assert actions is not None
    assert actions.visible_actions() == ["chat", "load", "keep", "stop"]
    assert "1 unloaded" in page.summary.text()

    click(qtbot, page, uid, "load")
    qtbot.waitUntil(lambda: cell(page, uid, RunningColumn.STATE) == "Ready", timeout=60_000)
    assert client.describe(uid).status == "ready"

    def pin(dialog: KeepDialog) -> None:
        assert dialog.idle.value() == 30
        dialog.pinned.setChecked(True)
        assert not dialog.idle.isEnabled()
        dialog.load_at_start.setChecked(True)
        dialog.accept()

    QTimer.singleShot(50, lambda: _with_keep_dialog(pin))
    click(qtbot, page, uid, "keep")
    qtbot.waitUntil(lambda: client.describe(uid).pinned, timeout=15_000)
    assert client.describe(uid).load_at_start
    qtbot.waitUntil(
        lambda: (
            page.details.keeping.text() == "Pinned: never unloaded · loads when the server starts"
        ),
        timeout=15_000,
    )
    client.terminate(uid)


def _with_keep_dialog(act: Callable[[KeepDialog], None], tries: int = 100) -> None:
    dialog = QApplication.activeModalWidget()
    if isinstance(dialog, KeepDialog):
        act(dialog)
    elif tries:
        QTimer.singleShot(20, lambda: _with_keep_dialog(act, tries - 1))
