"""What the window says about the backend: the Running page's "Runs on" (CPU, or layers on a
GPU), the Settings page's "This build" card with "Copy support info", and a GPU build whose
driver is missing, against real servers."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from desktop.api.xinference import LaunchRequest, ListedModel
from desktop.client import XinDeskClient
from desktop.gui.app import DesktopApp
from desktop.gui.local_server import LocalServerStatus
from desktop.gui.models.running_model import RunningColumn, RunningModelsModel, RunningRow
from desktop.gui.pages.running import RunningPage
from desktop.gui.pages.settings import SettingsPage
from tests.fixtures.broken_lib import MISSING, make_driverless_cuda_lib
from tests.fixtures.server import ServerProcess, free_port
from tests.gui.conftest import write_settings
from tests.gui.helpers import cell, open_page

# Representative (no GPU here): what the server describes for a model on one H100.
H100_ROW = {
    "name": "CUDA0",
    "description": "NVIDIA H100 80GB HBM3",
    "backend": "CUDA",
    "layers": 19,
    "bytes": 760 * 2**20,
}
CUDA_OFFLOAD = {
    "backend": "CUDA",
    "gpu_layers": 19,
    "total_layers": 19,
    "requested_gpu_layers": -1,
    "devices": [H100_ROW],
    "gpu_bytes": 760 * 2**20,
    "cpu_bytes": 27 * 2**20,
    "source": "llama.cpp load log (layer placement)",
    "summary": "19/19 layers on CUDA0 (NVIDIA H100 80GB HBM3)",
    "note": None,
}


def described(uid: str, offload: dict[str, Any] | None) -> ListedModel:
    return TypeAdapter(ListedModel).validate_python(
        {
            "id": uid,
            "model_type": "LLM",
            "model_name": "gemma-3-it",
            "model_ability": ["chat"],
            "status": "ready" if offload else "loading",
            "offload": offload,
        }
    )


def test_runs_on_column_words_each_placement() -> None:
    partial = {**CUDA_OFFLOAD, "gpu_layers": 10, "devices": [{**H100_ROW, "layers": 10}]}
    cpu = {**CUDA_OFFLOAD, "gpu_layers": 0, "devices": [], "backend": "CPU", "gpu_bytes": 0}
    model = RunningModelsModel()
    model.set_models(
        [
            RunningRow.from_api(described("gpu", CUDA_OFFLOAD)),
            RunningRow.from_api(described("partial", partial)),
            RunningRow.from_api(described("cpu", cpu)),
            RunningRow.from_api(described("cpu-asked", {**cpu, "requested_gpu_layers": 0})),
            RunningRow.from_api(described("loading", None)),
        ]
    )

    def text(row: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return model.data(model.index(row, RunningColumn.DEVICE), role)

    assert text(0) == "19/19 layers on CUDA0 (NVIDIA H100 80GB HBM3)"
    assert text(0, Qt.ItemDataRole.ToolTipRole) == (
        "All 19 layers run on the graphics card, which holds 760.0 MB of it"
    )
    assert text(1) == "10/19 layers on CUDA0 (NVIDIA H100 80GB HBM3)"
    assert "the rest run on the processor" in text(1, Qt.ItemDataRole.ToolTipRole)
    assert text(2) == "CPU"
    assert "no graphics card it can use" in text(2, Qt.ItemDataRole.ToolTipRole)
    assert "processor only" in text(3, Qt.ItemDataRole.ToolTipRole)
    assert text(4) == "–"
    assert model.headerData(RunningColumn.DEVICE, Qt.Orientation.Horizontal) == "Runs on"


@pytest.mark.slow
def test_running_page_shows_the_model_on_the_cpu(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    gui_server: ServerProcess,
    client: XinDeskClient,
    gemma_gguf: Path,
) -> None:
    uid = gui_server.launch_gguf(gemma_gguf, "gemma-runs-on")
    page = open_page(desktop_app, RunningPage)
    qtbot.waitUntil(lambda: cell(page, uid, RunningColumn.DEVICE) == "CPU", timeout=15_000)
    assert client.describe(uid).offload.gpu_layers == 0
    page.select(uid)
    assert page.details.runs_on.text() == "CPU"
    assert "no graphics card it can use" in page.details.runs_on.toolTip()
    client.terminate(uid)
    qtbot.waitUntil(lambda: page.model.row_of(uid) < 0, timeout=10_000)


def open_settings(app: DesktopApp) -> SettingsPage:
    app.window.open_page("settings")
    page = app.window.pages["settings"]
    assert isinstance(page, SettingsPage)
    return page


def test_this_build_card_and_copy_support_info(
    desktop_app: DesktopApp, qtbot: QtBot, client: XinDeskClient
) -> None:
    page = open_settings(desktop_app)
    card = page.build_card
    qtbot.waitUntil(lambda: card.variant_value.text() != "–", timeout=15_000)
    build = client.build_info()
    assert card.variant_value.text() == (
        f"Run from source (llama-cpp-python {build.build.llama_cpp_python})"
    )
    assert card.backend_value.text() == "Built for the processor (CPU): models run on the CPU"
    assert card.version_value.text() == build.build.version
    cpu = next(d for d in build.devices.ggml if d.name == "CPU")
    assert card.devices_value.text().splitlines()[0] == f"CPU: {cpu.description}"

    qtbot.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.copy_status.text() == "Copied", timeout=30_000)
    text = QGuiApplication.clipboard().text()
    assert text.startswith("XinDesk diagnostics")
    server_part = json.loads(text.split("------------------\n", 1)[1].split("\n\n", 1)[0])
    doctor = server_part["doctor"]
    assert doctor["backend"]["summary"] == "Built for CPU: models run on the CPU."
    assert doctor["build"]["frozen"] is False
    assert {"keyring", "models_folder", "hubs", "memory"} <= doctor.keys()


@pytest.mark.slow
def test_a_gpu_build_without_its_driver_says_what_is_missing(
    make_app: Callable[..., DesktopApp],
    qtbot: QtBot,
    gemma_gguf: Path,
    tmp_path: Path,
) -> None:
    broken = make_driverless_cuda_lib(tmp_path / "driverless")
    home = Path(os.environ["XINDESK_HOME"])
    write_settings(home, {"server": {"port": free_port()}, "ui": {"welcome_done": True}})
    app = make_app(server_environment={"LLAMA_CPP_LIB_PATH": str(broken)})
    server = app.ctx.server
    assert server is not None
    qtbot.waitUntil(lambda: server.state is LocalServerStatus.RUNNING, timeout=60_000)

    card = open_settings(app).build_card
    qtbot.waitUntil(lambda: MISSING in card.backend_value.text(), timeout=15_000)
    assert card.backend_value.text().startswith("llama.cpp cannot be loaded, so no model can run.")
    assert "NVIDIA driver" in card.backend_value.text()

    # Launching shows the same reason on the model's row, not a crash.
    client = app.ctx.session.client
    uid = client.launch(
        LaunchRequest(
            model_uid="gemma-no-driver",
            model_name="gemma-3-it",
            model_engine="llama.cpp",
            model_format="ggufv2",
            model_path=str(gemma_gguf),
        ),
        wait_ready=False,
    )
    page = open_page(app, RunningPage)
    qtbot.waitUntil(
        lambda: cell(page, uid, RunningColumn.STATE).startswith("Error: "), timeout=30_000
    )
    assert f"because {MISSING} is missing" in cell(page, uid, RunningColumn.STATE)
    page.select(uid)
    assert "the NVIDIA driver" in page.details.error.text()
    assert cell(page, uid, RunningColumn.DEVICE) == "–"
