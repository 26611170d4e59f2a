"""Catalog matching: sizes, quantizations, formats, hubs, and the messages for a miss."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.catalog import Catalog, normalize_size
from desktop.core.catalog.families import size_for_display
from desktop.core.errors import InvalidRequest, ModelNotFound, UnsupportedModelFormat
from desktop.core.paths import resources_dir


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog(resources_dir() / "catalog", tmp_path / "registrations")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0_5", "0.5"),
        (0.5, "0.5"),
        ("0.5", "0.5"),
        (7, "7"),
        ("7", "7"),
        (7.0, "7"),
        ("1_8", "1.8"),
        ("14b", "14"),
        (None, None),
    ],
)
def test_normalize_size(raw: object, expected: str | None) -> None:
    assert normalize_size(raw) == expected


def test_size_display_follows_xinference() -> None:
    assert size_for_display(0.5) == "0_5"
    assert size_for_display("7") == 7
    with pytest.raises(ValueError, match="Invalid model size"):
        normalize_size("big")


@pytest.mark.parametrize("size", ["0_5", 0.5, "0.5"])
@pytest.mark.parametrize("quant", ["q4_k_m", "Q4_K_M", "Q4_k_m"])
def test_match_size_and_quantization_spellings(catalog: Catalog, size: object, quant: str) -> None:
    family, spec = catalog.match(
        "LLM", "qwen2.5-instruct", model_format="ggufv2", size=size, quantization=quant
    )
    assert family.model_name == "qwen2.5-instruct"
    assert spec.size_key == "0.5"
    assert spec.quantization == "q4_k_m"
    assert spec.file_names() == ["qwen2.5-0.5b-instruct-q4_k_m.gguf"]


def test_hub_preference(catalog: Catalog) -> None:
    _, hf = catalog.match("LLM", "qwen2.5-instruct", size="0_5", quantization="q4_0")
    _, ms = catalog.match(
        "LLM",
        "qwen2.5-instruct",
        size="0_5",
        quantization="q4_0",
        hubs=("modelscope", "huggingface"),
    )
    assert hf.model_hub == "huggingface"
    assert ms.model_hub == "modelscope"


def test_omitted_fields_take_the_first_spec(catalog: Catalog) -> None:
    _, spec = catalog.match("LLM", "qwen2.5-instruct")
    assert spec.model_format == "ggufv2"
    assert spec.size_key == "0.5"


def test_split_files_are_listed_in_order(catalog: Catalog) -> None:
    _, spec = catalog.match("LLM", "qwen2.5-instruct", size=7, quantization="q4_k_m")
    names = spec.file_names()
    assert len(names) >= 2
    assert names[0].endswith("00001-of-00002.gguf")
    assert names == sorted(names)


def test_pytorch_request_gets_the_gguf_alternative(catalog: Catalog) -> None:
    with pytest.raises(UnsupportedModelFormat) as caught:
        catalog.match("LLM", "qwen-chat", model_format="pytorch", size=14)
    message = str(caught.value)
    assert "xindesk launch -n qwen-chat -s 14 -f ggufv2 -q Q4_K_M" in message


def test_misses_list_what_exists(catalog: Catalog) -> None:
    with pytest.raises(ModelNotFound, match="sizes available: 0_5, 1_5, 3"):
        catalog.match("LLM", "qwen2.5-instruct", size=9)
    with pytest.raises(ModelNotFound, match=r"available: .*q4_k_m"):
        catalog.match("LLM", "qwen2.5-instruct", size="0_5", quantization="Q9_X")
    with pytest.raises(ModelNotFound, match=r"Did you mean: qwen2\.5-instruct"):
        catalog.match("LLM", "qwen2.5-instruc")
    with pytest.raises(InvalidRequest, match="is an embedding model"):
        catalog.match("LLM", "bge-m3")


def test_register_persists_and_reloads(catalog: Catalog, tmp_path: Path) -> None:
    payload = {
        "model_name": "mine",
        "model_ability": ["chat"],
        "model_specs": [
            {"model_format": "ggufv2", "quantization": "Q4_K_M", "model_uri": "/x/y.gguf"}
        ],
    }
    catalog.register("LLM", payload, persist=True)
    again = Catalog(resources_dir() / "catalog", tmp_path / "registrations")
    family = again.get("LLM", "mine")
    assert family.is_builtin is False
    assert family.model_specs[0].model_uri == "/x/y.gguf"
    again.unregister("LLM", "mine")
    reloaded = Catalog(resources_dir() / "catalog", tmp_path / "registrations")
    assert reloaded.find("LLM", "mine") is None


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"model_name": "bad name", "model_ability": ["chat"]}, "Invalid model name"),
        ({"model_name": "qwen3", "model_ability": ["chat"]}, "conflicts"),
        ({"model_name": "x", "model_ability": ["vision"]}, "'chat' or 'generate'"),
        (
            {
                "model_name": "x",
                "model_ability": ["chat"],
                "model_specs": [{"model_format": "pytorch", "quantization": "none"}],
            },
            "GGUF only",
        ),
        (
            {
                "model_name": "x",
                "model_ability": ["chat"],
                "model_specs": [
                    {
                        "model_format": "ggufv2",
                        "quantization": "Q4_K_M",
                        "model_id": "acme/x",
                        "model_file_name_template": "../../../../x-{quantization}.gguf",
                    }
                ],
            },
            "not a plain relative path",
        ),
        (
            {
                "model_name": "x",
                "model_ability": ["chat"],
                "model_specs": [
                    {"model_format": "ggufv2", "quantization": "Q4_K_M", "model_id": "../../x"}
                ],
            },
            "model_id",
        ),
        (
            {
                "model_name": "x",
                "model_ability": ["chat"],
                "model_specs": [
                    {"model_format": "ggufv2", "quantization": "Q4_K_M", "model_uri": "/x\x00y"}
                ],
            },
            "control character",
        ),
        (
            {
                "model_name": "x",
                "model_ability": ["chat"],
                "model_specs": [
                    {
                        "model_format": "ggufv2",
                        "quantization": "Q4_K_M",
                        "model_id": "acme/x",
                        "model_file_name_template": "x-{nope}.gguf",
                    }
                ],
            },
            "template does not fit",
        ),
    ],
)
def test_register_rejects(catalog: Catalog, payload: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidRequest, match=words):
        catalog.register("LLM", payload, persist=False)


def test_broken_custom_file_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "registrations" / "llm"
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("{not json")
    catalog = Catalog(resources_dir() / "catalog", tmp_path / "registrations")
    assert catalog.find("LLM", "qwen3") is not None
