"""Launch options with named values (KV cache types, flash attention, speculative decoding)
and the draft model a launch names, checked when the launch is planned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.api.settings import Settings
from desktop.core.catalog import Catalog
from desktop.core.errors import InvalidRequest, ModelFileMissing
from desktop.core.memory.estimate import KV_TYPES
from desktop.core.paths import resources_dir
from desktop.core.running.engine_options import KV_CACHE_TYPES
from desktop.core.running.launch import LaunchPlan, plan_launch
from desktop.core.store import ModelStore


def _catalog(tmp_path: Path) -> Catalog:
    return Catalog(resources_dir() / "catalog", tmp_path / "registrations")


def _plan(path: Path, tmp_path: Path, name: str = "gemma-3-it", **extra: Any) -> LaunchPlan:
    request = {"model_name": name, "model_path": str(path), "n_ctx": 1024, **extra}
    store = ModelStore(tmp_path / "models", tmp_path / "data", hf_cache_dir=tmp_path / "no-hf")
    return plan_launch(request, _catalog(tmp_path), Settings(), store)


def test_kv_cache_types_by_name_and_by_ggml_number(gemma_gguf: Path, tmp_path: Path) -> None:
    plan = _plan(gemma_gguf, tmp_path, type_k="q8_0", cache_type_v="Q8_0")
    assert plan.worker.llama_kwargs["type_k"] == "q8_0"
    assert plan.worker.llama_kwargs["type_v"] == "q8_0"
    # llama-cpp-python's numbers (ggml_type) still work.
    plan = _plan(gemma_gguf, tmp_path, type_k=8, type_v="1")
    assert plan.worker.llama_kwargs["type_k"] == "q8_0"
    assert plan.worker.llama_kwargs["type_v"] == "f16"


@pytest.mark.parametrize("value", [999, "q3_k", "fp8", True, "", "8bit"])
def test_an_unknown_kv_cache_type_is_refused_with_the_names_that_work(
    gemma_gguf: Path, tmp_path: Path, value: object
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        _plan(gemma_gguf, tmp_path, type_k=value)
    message = str(caught.value)
    assert "type_k" in message
    for name in ("f16", "q8_0", "q4_0"):
        assert name in message


def test_the_named_types_are_the_ones_the_memory_estimate_knows() -> None:
    from desktop.core.engine.textmodel import GGML_TYPE_IDS

    assert set(KV_CACHE_TYPES) == set(KV_TYPES) == set(GGML_TYPE_IDS)


def test_the_ggml_numbers_are_llama_cpps() -> None:
    import llama_cpp

    from desktop.core.engine.textmodel import GGML_TYPE_IDS

    for name, number in GGML_TYPE_IDS.items():
        constant = getattr(llama_cpp, f"GGML_TYPE_{name.upper()}", None)
        if constant is not None:
            assert int(constant) == number, name


def test_flash_attention_is_auto_unless_asked(gemma_gguf: Path, tmp_path: Path) -> None:
    assert _plan(gemma_gguf, tmp_path).worker.llama_kwargs["flash_attn"] == "auto"
    assert _plan(gemma_gguf, tmp_path, flash_attn=True).worker.llama_kwargs["flash_attn"] == "on"
    assert _plan(gemma_gguf, tmp_path, flash_attn="false").worker.llama_kwargs["flash_attn"] == (
        "off"
    )
    with pytest.raises(InvalidRequest, match="auto, on, off"):
        _plan(gemma_gguf, tmp_path, flash_attn="sometimes")


def test_a_quantized_v_cache_needs_flash_attention(gemma_gguf: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="flash attention"):
        _plan(gemma_gguf, tmp_path, type_v="q4_0", flash_attn=False)
    plan = _plan(gemma_gguf, tmp_path, type_v="q4_0")
    assert plan.worker.llama_kwargs["flash_attn"] == "auto"


def test_a_quantized_cache_lets_more_sequences_share_the_memory(
    gemma_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psutil

    from desktop.core.running import launch

    class Memory:
        available = 64 * 1024**3

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory())
    monkeypatch.setattr(launch, "DEFAULT_PARALLEL", 64)
    f16 = _plan(gemma_gguf, tmp_path, n_ctx=32768).worker.parallel
    q4 = _plan(gemma_gguf, tmp_path, n_ctx=32768, type_k="q4_0", type_v="q4_0").worker.parallel
    assert f16 is not None
    assert q4 is not None
    assert q4 > f16


def test_speculative_decoding_options(gemma_gguf: Path, tmp_path: Path) -> None:
    plan = _plan(gemma_gguf, tmp_path)
    assert plan.worker.speculative == "ngram"
    assert plan.worker.draft_max == 16
    assert plan.worker.draft_model_path is None
    plan = _plan(gemma_gguf, tmp_path, speculative="off", draft_max="4")
    assert plan.worker.speculative == "off"
    assert plan.worker.draft_max == 4
    # They are XinDesk's, not llama.cpp's: not passed on as engine arguments.
    assert "speculative" not in plan.worker.llama_kwargs
    assert "speculative" not in plan.ignored_kwargs
    with pytest.raises(InvalidRequest, match="ngram, off"):
        _plan(gemma_gguf, tmp_path, speculative="eagle")
    with pytest.raises(InvalidRequest, match="draft_max"):
        _plan(gemma_gguf, tmp_path, draft_max=1000)


def test_a_draft_model_by_path_must_share_the_vocabulary(
    gemma_gguf: Path, tiny_llama_gguf: Path, tmp_path: Path
) -> None:
    plan = _plan(gemma_gguf, tmp_path, draft_model_path=str(gemma_gguf))
    assert plan.worker.draft_model_path == str(gemma_gguf)
    with pytest.raises(InvalidRequest, match="vocabulary"):
        _plan(gemma_gguf, tmp_path, draft_model_path=str(tiny_llama_gguf))


def test_draft_model_auto_takes_the_smallest_downloaded_member_of_the_family(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    catalog = _catalog(tmp_path)
    models = tmp_path / "models"
    # Qwen3 8B launched from a file; its family's 0.6B and 1.7B are "downloaded" (the Gemma
    # file under their names: the header is what the launch reads).
    target = tmp_path / "Qwen3-8B-Q4_K_M.gguf"
    target.symlink_to(gemma_gguf)
    for size in ("0_6", "1_7"):
        _, spec = catalog.match("LLM", "qwen3", size=size, quantization="Q4_K_M")
        assert spec.model_id is not None
        where = models / spec.model_id / spec.file_names()[0]
        where.parent.mkdir(parents=True)
        where.symlink_to(gemma_gguf)
    request = {
        "model_name": "qwen3",
        "model_size_in_billions": 8,
        "model_path": str(target),
        "n_ctx": 1024,
    }
    store = ModelStore(models, tmp_path / "data", hf_cache_dir=tmp_path / "no-hf")
    plan = plan_launch({**request, "draft_model": "auto"}, catalog, Settings(), store)
    assert plan.worker.draft_model_path is not None
    assert "0.6B" in Path(plan.worker.draft_model_path).name
    plan = plan_launch({**request, "draft_model": "1.7"}, catalog, Settings(), store)
    assert plan.worker.draft_model_path is not None
    assert "1.7B" in Path(plan.worker.draft_model_path).name
    with pytest.raises(ModelFileMissing, match="xindesk download qwen3"):
        plan_launch({**request, "draft_model": "4"}, catalog, Settings(), store)
    with pytest.raises(InvalidRequest, match="neither"):
        plan_launch({**request, "draft_model": "tiny please"}, catalog, Settings(), store)
