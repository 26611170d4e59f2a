"""Where a launched model runs, as the real server reports it: Gemma 3 270M on this CPU-only
machine is 0 of its real layer count on the GPU, read from llama.cpp's own load log."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from desktop.core.memory.gguf_info import read_gguf_info
from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_gemma_runs_with_none_of_its_layers_on_a_gpu(
    server: ServerProcess, gemma_gguf: Path
) -> None:
    blocks = read_gguf_info(gemma_gguf).block_count
    assert blocks == 18
    uid = server.launch_gguf(gemma_gguf, "gemma-offload", n_gpu_layers=-1)
    described = httpx.get(f"{server.url}/v1/models/{uid}").json()
    offload = described["offload"]
    # llama.cpp counts the output layer too: 18 blocks are 19 layers.
    assert offload["total_layers"] == blocks + 1
    assert offload["gpu_layers"] == 0
    assert offload["requested_gpu_layers"] == -1
    assert offload["backend"] == "CPU"
    assert offload["devices"] == []
    assert offload["gpu_bytes"] == 0
    # The weights (about 240 MiB mapped from the file) at least are in RAM.
    assert offload["cpu_bytes"] > gemma_gguf.stat().st_size // 2
    assert offload["source"] == "llama.cpp load log (layer placement)"
    assert offload["summary"] == "CPU"
    assert "cannot offload to a GPU" in offload["note"]
    assert described["accelerators"] == []

    listed = httpx.get(f"{server.url}/v1/models").json()["data"]
    assert next(m for m in listed if m["id"] == uid)["offload"] == offload
    # A model launched with no GPU layers says that is why.
    uid_cpu = server.launch_gguf(gemma_gguf, "gemma-no-gpu", n_gpu_layers=0)
    no_gpu = httpx.get(f"{server.url}/v1/models/{uid_cpu}").json()["offload"]
    assert no_gpu["requested_gpu_layers"] == 0
    assert no_gpu["note"] == "The launch asked for no GPU layers (n_gpu_layers=0)."
    for model in (uid, uid_cpu):
        httpx.delete(f"{server.url}/v1/models/{model}", timeout=60)
