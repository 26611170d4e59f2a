"""Launch options checked by name, type and range, and the memory check, before a worker starts
(`running.option_bounds`, `running.memory_check`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.api.settings import Settings
from desktop.core.catalog import Catalog
from desktop.core.errors import InvalidRequest, NotEnoughMemory
from desktop.core.memory.gpus import GPU
from desktop.core.memory.hardware import Hardware
from desktop.core.paths import resources_dir
from desktop.core.running.launch import LaunchPlan, plan_launch
from desktop.core.running.memory_check import check_launch_memory, launch_memory_need
from desktop.core.running.option_bounds import MAX_N_CTX, max_threads
from desktop.core.store import ModelStore
from desktop.core.units import GiB, MiB
from desktop.server.errors import status_for

GEMMA_TRAINED_CONTEXT = 32768


def _plan(path: Path, tmp_path: Path, **extra: Any) -> LaunchPlan:
    catalog = Catalog(resources_dir() / "catalog", tmp_path / "registrations")
    store = ModelStore(tmp_path / "models", tmp_path / "data", hf_cache_dir=tmp_path / "no-hf")
    request = {"model_name": "gemma-3-it", "model_path": str(path), **extra}
    return plan_launch(request, catalog, Settings(), store)


def _machine(ram_free: int, *, gpu_free: int | None = None, unified: bool = False) -> Hardware:
    gpus = ()
    if gpu_free is not None:
        gpus = (
            GPU(
                index=0,
                name="Test GPU",
                backend="Metal" if unified else "CUDA",
                total_bytes=max(gpu_free, GiB),
                free_bytes=gpu_free,
                unified_memory=unified,
            ),
        )
    return Hardware(
        os="Linux",
        os_version="test",
        machine="x86_64",
        cpu_name="test CPU",
        cpu_physical_cores=2,
        cpu_logical_cores=2,
        ram_total_bytes=max(ram_free, 16 * GiB),
        ram_available_bytes=ram_free,
        backend="CUDA" if gpus else "CPU",
        gpu_offload=bool(gpus),
        gpus=gpus,
        unified_memory=unified,
    )


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"n_ctx": 10**9}, f"n_ctx=1000000000 is out of range: use 16 to {GEMMA_TRAINED_CONTEXT}"),
        ({"n_ctx": 2**40}, "n_ctx=1099511627776 is out of range"),
        ({"n_ctx": 2**32 + 1024}, "n_ctx=4294968320 is out of range"),
        ({"n_ctx": 8}, "n_ctx=8 is too small"),
        ({"n_ctx": -1}, "n_ctx=-1 is out of range"),
        ({"n_ctx": 65536}, "longer than this model's trained context: use 16 to 32768"),
        ({"n_ctx": MAX_N_CTX + 1, "rope_freq_scale": 0.25}, f"use 16 to {MAX_N_CTX} tokens"),
        ({"n_ctx": True}, "n_ctx=True must be a whole number"),
        ({"n_ctx": 1024.5}, "n_ctx=1024.5 must be a whole number"),
        ({"n_ctx": "lots"}, "n_ctx='lots' must be a whole number"),
        ({"n_ctx": [1024]}, "n_ctx=[1024] must be a whole number"),
        ({"n_batch": 0}, "n_batch=0 is out of range: use a whole number from 1 to"),
        ({"n_ubatch": -5}, "n_ubatch=-5 is out of range"),
        ({"n_batch": 2**40}, "n_batch=1099511627776 is out of range"),
        ({"n_threads": 0}, "n_threads=0 is out of range: use a whole number from 1 to"),
        ({"n_threads_batch": 10**6}, f"from 1 to {max_threads()}"),
        ({"n_gpu_layers": -2}, "n_gpu_layers=-2 is out of range: use -1 (every layer)"),
        ({"n_gpu_layers": 2**40}, "n_gpu_layers=1099511627776 is out of range"),
        ({"use_mmap": "maybe"}, "use_mmap='maybe' must be true or false"),
        ({"use_mlock": 2}, "use_mlock=2 must be true or false"),
        ({"offload_kqv": {}}, "offload_kqv={} must be true or false"),
        ({"seed": 2**33}, "seed=8589934592 is out of range"),
        ({"rope_freq_scale": float("nan")}, "rope_freq_scale=nan must be"),
        ({"rope_freq_base": -1}, "rope_freq_base=-1 is out of range"),
        ({"rope_scaling_type": "stretchy"}, "rope_scaling_type='stretchy' must be one of"),
        ({"parallel": 0}, "parallel=0 is out of range: use a whole number from 1 to 64"),
        ({"parallel": 2.5}, "parallel=2.5 must be a whole number"),
        ({"draft_max": 10**9}, "draft_max=1000000000 is out of range"),
        ({"force": "please"}, "force='please' must be true or false"),
        ({"n_ctx": "x" * 1000}, "n_ctx='xxxxxxxx"),
    ],
)
def test_launch_options_out_of_type_or_range_are_refused_by_name(
    gemma_gguf: Path, tmp_path: Path, options: dict[str, Any], words: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        _plan(gemma_gguf, tmp_path, **options)
    message = str(caught.value)
    assert words in message
    # A hostile value is quoted short, never whole.
    assert len(message) < 400


def test_launch_options_are_parsed_into_llama_cpps_types(gemma_gguf: Path, tmp_path: Path) -> None:
    plan = _plan(
        gemma_gguf,
        tmp_path,
        n_ctx="2048",
        n_batch=256.0,
        n_ubatch=128,
        n_threads=1,
        use_mmap="false",
        offload_kqv=1,
        n_gpu_layers=-1,
        seed=-1,
        parallel="2",
    )
    options = plan.worker.llama_kwargs
    assert (options["n_ctx"], options["n_batch"], options["n_ubatch"]) == (2048, 256, 128)
    assert options["use_mmap"] is False
    assert options["offload_kqv"] is True
    assert options["n_threads"] == 1
    assert options["n_threads_batch"] == 1
    assert plan.worker.parallel == 2
    # 0 asks for the default context, as in llama-cpp-python.
    assert _plan(gemma_gguf, tmp_path, n_ctx=0).n_ctx == min(
        Settings().models.default_context_length, GEMMA_TRAINED_CONTEXT
    )


def test_a_rope_scaling_option_allows_a_context_past_the_trained_one(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    plan = _plan(gemma_gguf, tmp_path, n_ctx=65536, rope_scaling_type="yarn", yarn_orig_ctx=32768)
    assert plan.n_ctx == 65536
    assert plan.worker.llama_kwargs["rope_scaling_type"] == 2
    assert plan.worker.llama_kwargs["yarn_orig_ctx"] == 32768
    plan = _plan(gemma_gguf, tmp_path, n_ctx=65536, rope_freq_scale="0.5")
    assert plan.worker.llama_kwargs["rope_freq_scale"] == 0.5


def test_the_memory_need_counts_every_sequence_kv_cache(gemma_gguf: Path, tmp_path: Path) -> None:
    machine = _machine(64 * GiB)
    one = launch_memory_need(_plan(gemma_gguf, tmp_path, n_ctx=8192, parallel=1), machine)
    four = launch_memory_need(_plan(gemma_gguf, tmp_path, n_ctx=8192, parallel=4), machine)
    assert one.weights > 200 * MiB
    assert one.gpu == 0
    assert four.kv_cache == 4 * one.kv_cache
    assert four.ram - one.ram == 3 * one.kv_cache
    longer = launch_memory_need(_plan(gemma_gguf, tmp_path, n_ctx=32768, parallel=1), machine)
    assert longer.kv_cache > one.kv_cache


def test_a_launch_that_does_not_fit_is_refused_with_both_figures(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    plan = _plan(gemma_gguf, tmp_path, n_ctx=4096, parallel=2)
    need = check_launch_memory(plan, _machine(64 * GiB))
    assert need is not None
    assert need.fits
    with pytest.raises(NotEnoughMemory) as caught:
        check_launch_memory(plan, _machine(need.ram - 1))
    message = str(caught.value)
    assert message.startswith("Not enough memory to launch gemma-3-it: it needs ")
    assert "MB free" in message
    assert "2 sequences of 4096 tokens" in message
    assert "force=true" in message
    # Memory is short now, which the request did not get wrong: not an InvalidRequest (400)
    # but NotEnoughMemory, which the server answers with 503.
    assert not isinstance(caught.value, InvalidRequest)
    assert status_for(caught.value, "/v1/models") == 503


def test_an_offloaded_launch_is_judged_against_the_gpus_free_memory(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    plan = _plan(gemma_gguf, tmp_path, n_ctx=4096, n_gpu_layers=-1)
    roomy = launch_memory_need(plan, _machine(64 * GiB, gpu_free=8 * GiB))
    assert roomy.gpu > roomy.weights // 2
    assert roomy.fits
    with pytest.raises(NotEnoughMemory, match=r"GPU memory: .* needed, 100\.0 MB free"):
        check_launch_memory(plan, _machine(64 * GiB, gpu_free=100 * MiB))
    # On unified memory the GPU's share comes out of RAM.
    unified = launch_memory_need(plan, _machine(64 * GiB, gpu_free=8 * GiB, unified=True))
    assert unified.gpu_free is None
    assert unified.ram >= unified.gpu > 0
    with pytest.raises(NotEnoughMemory):
        check_launch_memory(plan, _machine(unified.ram - 1, gpu_free=8 * GiB, unified=True))
    # With no GPU this build can use, everything is counted in RAM.
    cpu = launch_memory_need(plan, _machine(64 * GiB))
    assert cpu.gpu == 0
