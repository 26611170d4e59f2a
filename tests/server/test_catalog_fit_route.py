"""The catalog route's memory fit: with a context length, each quantization row of a catalog
model gets a verdict for this machine and the recommended row is marked (in-process app, local
test hub, a fixed machine so the verdicts do not depend on where the tests run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from desktop.api.settings import Settings
from desktop.core.memory.gpus import GPU
from desktop.core.memory.hardware import Hardware
from desktop.core.paths import AppPaths
from desktop.core.units import GiB
from desktop.server.app import create_app
from tests.fixtures.hub_server import CATALOG_FILE, CATALOG_REPO, TestHub


def _machine() -> Hardware:
    """A desktop with an 8 GiB CUDA GPU: the 270M test model fits in it with room to spare."""
    return Hardware(
        os="Linux",
        os_version="6",
        machine="x86_64",
        cpu_name="Test CPU",
        cpu_physical_cores=8,
        cpu_logical_cores=16,
        ram_total_bytes=32 * GiB,
        ram_available_bytes=24 * GiB,
        backend="CUDA",
        gpu_offload=True,
        gpus=(GPU(0, "Test GPU", "CUDA", 8 * GiB, 7 * GiB, source="test"),),
    )


@pytest.fixture
def api(
    tmp_path: Path, gemma_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, TestHub]]:
    monkeypatch.setattr("desktop.server.routers.library.probe_hardware", _machine)
    with TestHub() as hub:
        hub.add_repo(CATALOG_REPO, {CATALOG_FILE: gemma_gguf, "README.md": b"gemma"})
        for name, value in hub.hf_env().items():
            monkeypatch.setenv(name, value)
        settings = Settings()
        settings.downloads.source = "huggingface"
        settings.downloads.hf_endpoint = hub.url
        settings.downloads.modelscope_endpoint = hub.url
        app = create_app(settings, AppPaths.under(tmp_path / "home"), address="127.0.0.1:9997")
        with TestClient(app, base_url="http://127.0.0.1:9997") as client:
            yield client, hub


def test_rows_get_a_fit_and_the_recommended_row_is_marked(
    api: tuple[TestClient, TestHub], gemma_gguf: Path
) -> None:
    client, hub = api
    reply = client.get(
        "/v1/xindesk/catalog/LLM/gemma-3-1b-it", params={"size": "1", "context_length": 4096}
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["context_length"] == 4096
    rows = {row["quantization"]: row for row in body["specs"]}
    q4 = rows["Q4_K_M"]
    assert q4["size"] == gemma_gguf.stat().st_size
    assert q4["fit"]["verdict"] == "fits_gpu"
    assert q4["fit"]["vram_needed"] > 0
    assert q4["fit"]["ram_needed"] > 0
    assert q4["recommended"] is True
    # The other levels are not in the test repository: no fit, never recommended.
    assert rows["Q8_0"]["fit"] is None
    assert [row["quantization"] for row in body["specs"] if row["recommended"]] == ["Q4_K_M"]
    (summary,) = body["sizes"]
    assert summary["model_size_in_billions"] == "1"
    assert summary["recommended"] == "Q4_K_M"
    assert any("4096" in line for line in summary["assumptions"])
    # Only the header was read for the estimate, not the 250 MB file.
    assert 0 < hub.bytes_served(CATALOG_REPO, CATALOG_FILE) < 16 * 2**20


def test_the_context_is_capped_at_the_model_own(api: tuple[TestClient, TestHub]) -> None:
    client, _hub = api
    body = client.get(
        "/v1/xindesk/catalog/LLM/gemma-3-1b-it", params={"context_length": 1_000_000}
    ).json()
    assert body["context_length"] == 32768


def test_without_a_context_length_the_table_is_as_before(api: tuple[TestClient, TestHub]) -> None:
    client, hub = api
    body = client.get("/v1/xindesk/catalog/LLM/gemma-3-1b-it").json()
    assert "sizes" not in body
    assert "context_length" not in body
    assert all("fit" not in row and "recommended" not in row for row in body["specs"])
    assert hub.bytes_served(CATALOG_REPO, CATALOG_FILE) == 0
