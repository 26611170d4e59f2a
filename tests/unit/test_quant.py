"""Quantization levels: file-name parsing, order, lookups."""

from __future__ import annotations

import pytest

from desktop.core.memory.quant import (
    DEFAULT_QUANT,
    QUANT_LEVELS,
    quant_from_file_type,
    quant_from_filename,
    quant_level,
    sort_key,
)

# File names as they appear in real Hugging Face / ModelScope repositories.
FILE_NAMES: list[tuple[str, str | None]] = [
    ("Qwen2.5-7B-Instruct-Q4_K_M-00001-of-00002.gguf", "Q4_K_M"),
    ("Qwen2.5-7B-Instruct-Q4_K_M-00002-of-00002.gguf", "Q4_K_M"),
    ("qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf", "Q4_K_M"),
    ("qwen2.5-0.5b-instruct-fp16.gguf", "F16"),
    ("model.q8_0.gguf", "Q8_0"),
    ("gemma-3-1b-it-UD-IQ2_XXS.gguf", "IQ2_XXS"),
    ("gemma-3-270m-q4_k_m.gguf", "Q4_K_M"),
    ("gemma-3-4b-it-UD-Q4_K_XL.gguf", "Q4_K_XL"),
    ("phi-3-mini-4k-instruct-fp16.gguf", "F16"),
    ("Phi-3-mini-4k-instruct-q4.gguf", None),
    ("mmproj-model-f16.gguf", "F16"),
    ("mmproj-F32.gguf", "F32"),
    ("mmproj-BF16.gguf", "BF16"),
    ("Meta-Llama-3.1-8B-Instruct-Q5_K_S.gguf", "Q5_K_S"),
    ("Meta-Llama-3-8B-Instruct.Q6_K.gguf", "Q6_K"),
    (
        "Meta-Llama-3.1-70B-Instruct-Q8_0/Meta-Llama-3.1-70B-Instruct-Q8_0-00001-of-00002.gguf",
        "Q8_0",
    ),
    ("Llama-3.2-3B-Instruct-IQ3_M.gguf", "IQ3_M"),
    ("Llama-3.2-3B-Instruct-IQ3_XS.gguf", "IQ3_XS"),
    ("Llama-3.2-1B-Instruct-IQ3_XXS.gguf", "IQ3_XXS"),
    ("Mistral-7B-Instruct-v0.3.IQ4_XS.gguf", "IQ4_XS"),
    ("Mistral-Nemo-Instruct-2407-IQ4_NL.gguf", "IQ4_NL"),
    ("mistral-7b-instruct-v0.2.Q3_K_L.gguf", "Q3_K_L"),
    ("mistral-7b-instruct-v0.2.Q3_K_S.gguf", "Q3_K_S"),
    ("mistral-7b-instruct-v0.2.Q2_K.gguf", "Q2_K"),
    ("DeepSeek-R1-UD-IQ1_S-00001-of-00003.gguf", "IQ1_S"),
    ("DeepSeek-R1-Distill-Qwen-7B-IQ2_M.gguf", "IQ2_M"),
    ("Qwen3-30B-A3B-UD-Q2_K_XL.gguf", "Q2_K_XL"),
    ("Qwen3-30B-A3B-Q2_K_S.gguf", "Q2_K_S"),
    ("gpt-oss-20b-mxfp4.gguf", "MXFP4"),
    ("gpt-oss-120b-MXFP4_MOE-00001-of-00002.gguf", "MXFP4"),
    ("ggml-model-q4_0.gguf", "Q4_0"),
    ("ggml-model-Q4_1.gguf", "Q4_1"),
    ("tinyllama-1.1b-chat-v1.0.Q5_0.gguf", "Q5_0"),
    ("tinyllama-1.1b-chat-v1.0.Q5_1.gguf", "Q5_1"),
    ("codellama-7b.Q5_K_M.gguf", "Q5_K_M"),
    ("Meta-Llama-3-8B-Instruct-Q4_0_4_4.gguf", "Q4_0_4_4"),
    ("Meta-Llama-3-8B-Instruct-Q4_0_8_8.gguf", "Q4_0_8_8"),
    ("bitnet_b1_58-large-TQ1_0.gguf", "TQ1_0"),
    ("bitnet_b1_58-large-TQ2_0.gguf", "TQ2_0"),
    ("Qwen2.5-Coder-32B-Instruct-Q4_K_L.gguf", "Q4_K_L"),
    ("Qwen2.5-Coder-32B-Instruct-Q6_K_L.gguf", "Q6_K_L"),
    ("bge-m3-Q4_K.gguf", "Q4_K_M"),
    ("nomic-embed-text-v1.5.f32.gguf", "F32"),
    ("Llama-3.2-1B-Instruct-bf16.gguf", "BF16"),
    ("model_IQ2_XS_imat.gguf", "IQ2_XS"),
    ("Qwen3-Embedding-0.6B-IQ2_S.gguf", "IQ2_S"),
    ("Qwen3-0.6B-IQ1_M.gguf", "IQ1_M"),
    ("llama.gguf", None),
    ("Qwen2-VL-7B-Instruct.gguf", None),
    ("model-00001-of-00002.gguf", None),
]


@pytest.mark.parametrize(("filename", "expected"), FILE_NAMES)
def test_quant_from_filename(filename: str, expected: str | None) -> None:
    assert quant_from_filename(filename) == expected


def test_table_has_enough_real_names() -> None:
    assert len(FILE_NAMES) >= 30


def test_longest_match_wins_over_shorter_names_inside_it() -> None:
    assert quant_from_filename("x-Q4_K_M.gguf") == "Q4_K_M"
    assert quant_from_filename("x-IQ3_XXS.gguf") == "IQ3_XXS"
    assert quant_from_filename("x-Q2_K_S.gguf") == "Q2_K_S"
    # "bf16" is not "F16", "IQ4_NL" is not "Q4_..." and "fp16" is "F16".
    assert quant_from_filename("x-bf16.gguf") == "BF16"
    assert quant_from_filename("x-fp16.gguf") == "F16"


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Q4_K_M", "Q4_K_M"),
        ("q4_k_m", "Q4_K_M"),
        (" q8_0 ", "Q8_0"),
        ("Q4_K", "Q4_K_M"),
        ("fp16", "F16"),
        ("MXFP4_MOE", "MXFP4"),
        ("iq2-xxs", "IQ2_XXS"),
    ],
)
def test_quant_level_lookup(name: str, canonical: str) -> None:
    level = quant_level(name)
    assert level is not None
    assert level.name == canonical


def test_unknown_names() -> None:
    assert quant_level("Q9_K") is None
    assert quant_level("") is None
    assert quant_from_file_type(1024) is None  # LLAMA_FTYPE_GUESSED


@pytest.mark.parametrize(
    ("file_type", "name"),
    [
        (0, "F32"),
        (1, "F16"),
        (2, "Q4_0"),
        (7, "Q8_0"),
        (10, "Q2_K"),
        (15, "Q4_K_M"),
        (17, "Q5_K_M"),
        (18, "Q6_K"),
        (19, "IQ2_XXS"),
        (23, "IQ3_XXS"),
        (30, "IQ4_XS"),
        (32, "BF16"),
        (36, "TQ1_0"),
        (38, "MXFP4"),
    ],
)
def test_file_types_match_llama_h(file_type: int, name: str) -> None:
    assert quant_from_file_type(file_type) == name
    level = quant_level(name)
    assert level is not None
    assert level.file_type == file_type


def test_file_types_agree_with_the_gguf_package() -> None:
    from gguf import LlamaFileType

    for level in QUANT_LEVELS.values():
        if level.file_type is None or level.file_type in (33, 34, 35):
            continue  # the ARM repacks are commented out of llama.h now
        member = LlamaFileType(level.file_type)
        expected = member.name.removeprefix("MOSTLY_").removeprefix("ALL_").removesuffix("_MOE")
        assert expected == level.name


def test_default_is_a_level() -> None:
    assert quant_level(DEFAULT_QUANT) is not None


def test_sort_best_quality_first() -> None:
    names = ["Q4_K_M", "IQ2_XXS", "F16", "q8_0", "Q2_K", "Q6_K", "BF16", "Q4_0", "weird", "F32"]
    ordered = sorted(names, key=sort_key)
    best_first = ["F32", "BF16", "F16", "q8_0", "Q6_K", "Q4_K_M", "Q4_0", "Q2_K", "IQ2_XXS"]
    assert ordered == [*best_first, "weird"]


def test_ranks_are_unique_and_follow_quality() -> None:
    ranks = [level.rank for level in QUANT_LEVELS.values()]
    assert len(set(ranks)) == len(ranks)

    def rank(name: str) -> int:
        level = quant_level(name)
        assert level is not None
        return level.rank

    # llama.cpp's perplexity order for Llama-3-8B.
    chain = ["Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_1"]
    chain += ["Q4_0", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K"]
    assert [rank(n) for n in chain] == sorted((rank(n) for n in chain), reverse=True)


def test_bits_per_weight_are_plausible() -> None:
    for level in QUANT_LEVELS.values():
        assert 1.0 < level.bits_per_weight <= 32.0
    q4 = quant_level("Q4_K_M")
    q8 = quant_level("Q8_0")
    assert q4 is not None
    assert q8 is not None
    assert q4.bits_per_weight < q8.bits_per_weight
