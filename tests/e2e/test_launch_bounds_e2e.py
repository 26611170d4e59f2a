"""Bounds before work at launch, through the real server: launch options out of range are a 400
that names the option before any worker starts, and a launch the free memory cannot hold is
refused unless forced (the app given a machine with little RAM free)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from desktop.api.settings import Settings
from desktop.core.memory.hardware import Hardware
from desktop.core.paths import AppPaths
from desktop.core.units import GiB, MiB
from desktop.server.app import create_app
from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _body(gemma_gguf: Path, uid: str, **extra: Any) -> dict[str, Any]:
    return {
        "model_uid": uid,
        "model_name": "gemma-3-it",
        "model_engine": "llama.cpp",
        "model_format": "ggufv2",
        "model_path": str(gemma_gguf),
        **extra,
    }


def _workers(server: ServerProcess) -> list[psutil.Process]:
    """The server's model worker processes (`python -m desktop --model-worker FD`)."""
    found = []
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if "--model-worker" in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"n_ctx": 10**9}, "n_ctx=1000000000 is out of range: use 16 to 32768 tokens"),
        ({"n_ctx": 2**40}, "n_ctx=1099511627776 is out of range"),
        ({"n_ctx": 65536}, "longer than this model's trained context"),
        ({"n_batch": 0}, "n_batch=0 is out of range: use a whole number from 1 to"),
        ({"n_ubatch": 2**40}, "n_ubatch=1099511627776 is out of range"),
        ({"n_threads": 0}, "n_threads=0 is out of range"),
        ({"n_gpu_layers": -7}, "n_gpu_layers=-7 is out of range: use -1 (every layer)"),
        ({"use_mlock": "perhaps"}, "use_mlock='perhaps' must be true or false"),
        ({"parallel": 10**9}, "parallel=1000000000 is out of range: use a whole number from 1"),
        ({"force": [1]}, "force=[1] must be true or false"),
    ],
)
def test_a_launch_option_out_of_range_is_a_400_before_any_worker_starts(
    server: ServerProcess, gemma_gguf: Path, options: dict[str, Any], words: str
) -> None:
    response = httpx.post(
        f"{server.url}/v1/models", json=_body(gemma_gguf, "bounded", **options), timeout=30
    )
    assert response.status_code == 400, response.text
    assert words in response.json()["detail"]
    assert _workers(server) == []
    assert httpx.get(f"{server.url}/v1/models").json()["data"] == []


def test_a_context_past_the_trained_one_launches_with_a_rope_setting(
    server: ServerProcess, gemma_gguf: Path
) -> None:
    response = httpx.post(
        f"{server.url}/v1/models",
        json=_body(gemma_gguf, "stretched", n_ctx=40960, rope_scaling_type="linear", parallel=1),
        timeout=180,
    )
    assert response.status_code == 200, response.text
    described = httpx.get(f"{server.url}/v1/models/stretched").json()
    assert described["context_length"] == 40960
    httpx.delete(f"{server.url}/v1/models/stretched", timeout=60)


class _Machine:
    """This machine as the server sees it, with the RAM figure a test sets."""

    def __init__(self, ram_free: int) -> None:
        self.ram_free = ram_free

    def __call__(self) -> Hardware:
        return Hardware(
            os="Linux",
            os_version="test",
            machine="x86_64",
            cpu_name="test CPU",
            cpu_physical_cores=2,
            cpu_logical_cores=2,
            ram_total_bytes=16 * GiB,
            ram_available_bytes=self.ram_free,
            backend="CPU",
            gpu_offload=False,
        )


@pytest.fixture
def low_memory_app(tmp_path: Path) -> Iterator[tuple[TestClient, _Machine]]:
    """An app whose machine has 200 MiB of RAM free (less than Gemma 270M needs)."""
    machine = _Machine(200 * MiB)
    settings = Settings()
    settings.downloads.hf_endpoint = "http://127.0.0.1:9"
    settings.downloads.modelscope_endpoint = "http://127.0.0.1:9"
    app = create_app(
        settings, AppPaths.under(tmp_path / "home"), address="127.0.0.1:9997", hardware=machine
    )
    with TestClient(app, base_url="http://127.0.0.1:9997") as client:
        yield client, machine


def test_a_launch_that_does_not_fit_is_refused_unless_forced(
    low_memory_app: tuple[TestClient, _Machine], gemma_gguf: Path
) -> None:
    client, machine = low_memory_app
    body = _body(gemma_gguf, "too-big", n_ctx=4096, parallel=2)
    refused = client.post("/v1/models", json=body)
    # 503: memory is short now, not the request wrong (force=true loads it anyway).
    assert refused.status_code == 503, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("Not enough memory to launch too-big: it needs ")
    assert "200.0 MB free" in detail
    assert "2 sequences of 4096 tokens" in detail
    assert "launch with force=true" in detail
    assert client.get("/v1/models").json()["data"] == []

    # More memory free: the same launch goes through.
    machine.ram_free = 64 * GiB
    assert client.post("/v1/models", json={**body, "model_uid": "fits"}).status_code == 200
    client.delete("/v1/models/fits")

    machine.ram_free = 200 * MiB
    forced = client.post("/v1/models", json={**body, "force": True})
    assert forced.status_code == 200, forced.text
    reply = client.post(
        "/v1/chat/completions",
        json={"model": "too-big", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4},
    )
    assert reply.status_code == 200, reply.text
    client.delete("/v1/models/too-big")
