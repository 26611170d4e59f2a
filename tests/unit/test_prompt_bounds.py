"""The byte bound on prompts (`running.prompt_bounds`): it refuses only prompts that surely
cannot fit, which the real Gemma tokenizer confirms, and cut embedding inputs keep the tokens
the truncation keeps."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.engine.textmodel import longest_token_bytes
from desktop.core.errors import InvalidRequest
from desktop.core.running.prompt_bounds import (
    NORMALIZING_MARGIN,
    bytes_per_token,
    check_prompt,
    cut_inputs,
    prompt_bytes,
)


@pytest.fixture(scope="module")
def gemma_vocab(gemma_gguf: Path) -> Iterator[Any]:
    from llama_cpp import Llama

    llm = Llama(str(gemma_gguf), vocab_only=True, verbose=False)
    yield llm
    llm.close()


def _texts() -> list[str]:
    """Texts of every kind a tokenizer packs densely or loosely."""
    rng = random.Random(7)
    alphabet = "abc xyz\n\t…—日本語😀<>/_" + "".join(chr(c) for c in range(0x20, 0x7F))
    texts = [
        " " * 5000,
        "\n" * 3000,
        "…" * 3000,
        "a" * 5000,
        "the " * 2000,
        "<start_of_turn>user\n" * 300,
        "<end_of_turn>" * 400,
        "😀" * 1000,
        "日本語のテキスト" * 400,
        "-" * 4000,
        "=" * 4000,
    ]
    texts += ["".join(rng.choice(alphabet) for _ in range(3000)) for _ in range(5)]
    return texts


def test_no_text_has_fewer_tokens_than_its_bytes_allow(gemma_vocab: Any) -> None:
    longest = longest_token_bytes(gemma_vocab._model.vocab, gemma_vocab.n_vocab())
    assert 8 <= longest <= 256
    for text in _texts():
        data = text.encode("utf-8")
        tokens = gemma_vocab.tokenize(data, add_bos=False, special=True)
        assert len(tokens) >= len(data) / longest, (text[:20], len(tokens), len(data))


def test_a_prompt_is_refused_only_when_its_bytes_cannot_fit(gemma_vocab: Any) -> None:
    longest = longest_token_bytes(gemma_vocab._model.vocab, gemma_vocab.n_vocab())
    refused = 0
    for n_ctx in (32, 64, 100):
        info = {"n_ctx": n_ctx, "max_token_bytes": longest, "tokenizer": "llama"}
        for text in _texts():
            params = {"messages": [{"role": "user", "content": text}]}
            data = text.strip().encode()
            tokens = len(gemma_vocab.tokenize(data, add_bos=False, special=True))
            try:
                check_prompt("chat", params, info)
            except InvalidRequest:
                # Refused: the real count agrees it cannot fit.
                refused += 1
                assert tokens >= n_ctx, (text[:20], tokens, n_ctx)
    assert refused > 10
    info = {"n_ctx": 1024, "max_token_bytes": longest, "tokenizer": "llama"}
    huge = {"messages": [{"role": "user", "content": "x" * 10_000_000}]}
    with pytest.raises(InvalidRequest, match="context of 1024 tokens"):
        check_prompt("chat", huge, info)
    with pytest.raises(InvalidRequest, match="The prompt is 10000000 bytes"):
        check_prompt("complete", {"prompt": "x" * 10_000_000}, info)


def test_only_the_text_every_template_keeps_is_counted() -> None:
    params = {
        "messages": [
            {"role": "system", "content": "s" * 100},
            {"role": "user", "content": "   u" + " " * 50},
            {"role": "assistant", "content": "a" * 100},
            {"role": "tool", "content": "t" * 10},
        ]
    }
    assert prompt_bytes("chat", params) == 1 + 10
    assert prompt_bytes("complete", {"prompt": "日本"}) == 6


def test_normalizing_tokenizers_get_a_margin() -> None:
    assert bytes_per_token({"max_token_bytes": 20, "tokenizer": "gpt2"}) == 20
    assert bytes_per_token({"max_token_bytes": 20, "tokenizer": "bert"}) == 20 * NORMALIZING_MARGIN
    assert bytes_per_token({"tokenizer": "llama"}) is None
    # Without the worker's figures nothing is refused.
    check_prompt("chat", {"messages": [{"role": "user", "content": "x" * 10**6}]}, {})


def test_embedding_inputs_are_cut_past_what_the_truncation_keeps() -> None:
    info = {"n_ctx": 512, "max_token_bytes": 10, "tokenizer": "gpt2"}
    keep = (512 + 16) * 10
    cut = cut_inputs("embed", {"input": ["é" * 10**6, "short"]}, info)
    assert cut["input"][1] == "short"
    first = cut["input"][0]
    assert isinstance(first, str)
    assert keep - 1 <= len(first.encode()) <= keep
    assert first == "é" * (keep // 2)
    assert cut_inputs("embed", {"input": "y" * 10**6}, info)["input"] == "y" * keep
    assert len(cut_inputs("embed", {"input": list(range(10**5))}, info)["input"]) == keep
    reranked = cut_inputs("rerank", {"query": "q" * 10**6, "documents": ["d" * 10**6]}, info)
    assert reranked["query"] == "q" * keep
    assert reranked["documents"] == ["d" * keep]
