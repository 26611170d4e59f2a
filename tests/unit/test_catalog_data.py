"""Structural checks on the built-in catalog data in resources/catalog/.

The catalog is Xinference's stored (v2, per-hub) registry format, cut down to ggufv2 specs.
These tests guard the invariants the loader and the download code rely on.
"""

import json
from pathlib import Path
from typing import Any

import pytest

CATALOG_DIR = Path(__file__).resolve().parents[2] / "resources" / "catalog"

LLM_NAMES = [
    "qwen-chat",
    "qwen2.5-instruct",
    "qwen3",
    "Qwen3-Instruct",
    "qwen2.5-coder-instruct",
    "llama-3.1-instruct",
    "gemma-3-it",
    "gemma-3-1b-it",
    "deepseek-r1-distill-qwen",
    "glm4-chat",
    "mistral-instruct-v0.3",
    "phi-3-mini-4k-instruct",
    "gpt-oss",
]
HUBS = {"huggingface", "modelscope"}
CATALOG_FILES = ["llm.json", "embedding.json", "rerank.json"]

Family = dict[str, Any]


def _load(name: str) -> list[Family]:
    data = json.loads((CATALOG_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def _all_families() -> list[tuple[str, Family]]:
    return [(name, fam) for name in CATALOG_FILES for fam in _load(name)]


def _hub_entries() -> list[tuple[str, Any, str, dict[str, Any]]]:
    """(family name, size, hub, hub entry) for every hub entry of every spec."""
    out: list[tuple[str, Any, str, dict[str, Any]]] = []
    for _, fam in _all_families():
        for spec in fam["model_specs"]:
            for hub, entry in spec["model_src"].items():
                out.append((fam["model_name"], spec.get("model_size_in_billions"), hub, entry))
    return out


def test_every_family_has_name_version_and_source() -> None:
    for file_name, fam in _all_families():
        assert isinstance(fam.get("model_name"), str), file_name
        assert fam["model_name"], file_name
        assert fam.get("version") == 2, fam["model_name"]
        assert isinstance(fam.get("xindesk_source"), str), fam["model_name"]


def test_model_names_are_unique_per_file() -> None:
    for file_name in CATALOG_FILES:
        names = [fam["model_name"] for fam in _load(file_name)]
        assert len(names) == len(set(names)), file_name


def test_specs_are_non_empty_unless_explicitly_noted() -> None:
    for _, fam in _all_families():
        if fam["model_specs"]:
            continue
        note = fam.get("xindesk_note")
        assert isinstance(note, str), f"{fam['model_name']} has no specs and no xindesk_note"
        assert note


def test_only_gpt_oss_lacks_gguf_specs() -> None:
    empty = [fam["model_name"] for _, fam in _all_families() if not fam["model_specs"]]
    assert empty == ["gpt-oss"]


def test_every_spec_is_ggufv2_with_known_hubs() -> None:
    for _, fam in _all_families():
        for spec in fam["model_specs"]:
            assert spec["model_format"] == "ggufv2", fam["model_name"]
            hubs = set(spec["model_src"])
            assert "huggingface" in hubs, fam["model_name"]
            assert hubs <= HUBS, fam["model_name"]


def test_every_hub_entry_has_id_quantizations_and_template() -> None:
    for name, size, hub, entry in _hub_entries():
        where = f"{name} {size} {hub}"
        assert isinstance(entry.get("model_id"), str), where
        assert entry["model_id"], where
        quants = entry.get("quantizations")
        assert isinstance(quants, list), where
        assert quants, where
        assert len(quants) == len(set(quants)), where
        assert all(isinstance(q, str) and q for q in quants), where
        template = entry.get("model_file_name_template")
        assert isinstance(template, str), where
        assert template.endswith(".gguf"), where


def test_file_templates_format_with_every_quantization() -> None:
    for name, size, hub, entry in _hub_entries():
        template: str = entry["model_file_name_template"]
        for quant in entry["quantizations"]:
            file_name = template.format(quantization=quant)
            assert file_name.endswith(".gguf"), f"{name} {size} {hub} {quant}"
            assert "{" not in file_name, f"{name} {size} {hub} {quant}"
            if "{quantization}" in template:
                assert quant in file_name, f"{name} {size} {hub} {quant}"


def test_split_templates_and_parts_are_consistent() -> None:
    for name, size, hub, entry in _hub_entries():
        where = f"{name} {size} {hub}"
        parts = entry.get("quantization_parts")
        split = entry.get("model_file_name_split_template")
        assert (parts is None) == (split is None), where
        if parts is None or split is None:
            continue
        assert isinstance(parts, dict), where
        for quant, pieces in parts.items():
            assert quant in entry["quantizations"], f"{where} {quant}"
            assert pieces, f"{where} {quant}"
            for part in pieces:
                file_name = split.format(quantization=quant, part=part)
                assert file_name.endswith(".gguf"), f"{where} {quant} {part}"
                assert part in file_name, f"{where} {quant} {part}"


def test_multimodal_projectors_are_gguf_files() -> None:
    for name, size, hub, entry in _hub_entries():
        projectors = entry.get("multimodal_projectors")
        if projectors is None:
            continue
        assert projectors, f"{name} {size} {hub}"
        assert all(p.endswith(".gguf") for p in projectors), f"{name} {size} {hub}"


def test_llm_names_are_exactly_the_catalog_list() -> None:
    assert [fam["model_name"] for fam in _load("llm.json")] == LLM_NAMES


@pytest.mark.parametrize("fam", _load("llm.json"), ids=lambda f: f["model_name"])
def test_llm_family_fields(fam: Family) -> None:
    assert isinstance(fam["context_length"], int)
    assert fam["context_length"] > 0
    abilities = fam["model_ability"]
    assert "chat" in abilities or "generate" in abilities
    assert isinstance(fam.get("model_lang"), list)
    assert isinstance(fam.get("model_description"), str)
    if "chat" in abilities:
        assert isinstance(fam.get("chat_template"), str)
        assert fam["chat_template"]
    assert isinstance(fam.get("stop_token_ids"), list)
    assert all(isinstance(t, int) for t in fam["stop_token_ids"])
    assert isinstance(fam.get("stop"), list)
    assert all(isinstance(s, str) and s for s in fam["stop"])
    if "tools" in abilities:
        assert isinstance(fam.get("tool_parser"), str)
        assert fam["tool_parser"]
    if "reasoning" in abilities:
        assert isinstance(fam.get("reasoning_start_tag"), str)
        assert isinstance(fam.get("reasoning_end_tag"), str)


@pytest.mark.parametrize("fam", _load("llm.json"), ids=lambda f: f["model_name"])
def test_llm_sizes_follow_xinference_convention(fam: Family) -> None:
    # Xinference writes fractional sizes as strings with "_" ("0_5") and whole sizes as ints.
    for spec in fam["model_specs"]:
        size = spec["model_size_in_billions"]
        if isinstance(size, str):
            assert "_" in size, fam["model_name"]
            whole, frac = size.split("_")
            assert whole.isdigit(), fam["model_name"]
            assert frac.isdigit(), fam["model_name"]
        else:
            assert isinstance(size, int), fam["model_name"]
            assert not isinstance(size, bool), fam["model_name"]
            assert size > 0, fam["model_name"]


def test_llm_sizes_unique_within_family() -> None:
    for fam in _load("llm.json"):
        sizes = [spec["model_size_in_billions"] for spec in fam["model_specs"]]
        assert len(sizes) == len(set(sizes)), fam["model_name"]


def test_embedding_families() -> None:
    families = _load("embedding.json")
    assert [fam["model_name"] for fam in families] == ["bge-m3", "Qwen3-Embedding-0.6B"]
    for fam in families:
        assert isinstance(fam["dimensions"], int)
        assert fam["dimensions"] > 0
        assert isinstance(fam["max_tokens"], int)
        assert fam["max_tokens"] > 0
        assert isinstance(fam["language"], list)
        assert fam["language"]


def test_rerank_families() -> None:
    families = _load("rerank.json")
    assert [fam["model_name"] for fam in families] == ["bge-reranker-v2-m3", "Qwen3-Reranker-0.6B"]
    for fam in families:
        assert fam["type"] in {"normal", "LLM-based", "LLM-based layerwise", "unknown"}
        assert isinstance(fam["max_tokens"], int)
        assert fam["max_tokens"] > 0
        assert isinstance(fam["language"], list)
        assert fam["language"]
