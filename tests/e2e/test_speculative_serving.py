"""Speculative decoding and the named engine options through a real server: drafting figures
in the answer's usage (with the OpenAI client, streamed and not), KV cache types by name,
and a 400 that lists the names for one that does not exist."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

PASSAGE = (
    "Ferns were growing on the north wall of the old granary at Lowick by 1902, when the "
    "parish paid a mason eleven shillings to clear them. The granary itself had been built "
    "in 1788 of local sandstone, with a slate roof and a loft for seed corn above the "
    "threshing floor."
)
PROMPT = f"Passage: {PASSAGE}\n\nRepeat the passage exactly.\n\nRepeat: Ferns were growing"


@pytest.fixture(scope="module")
def gemma(server: ServerProcess, gemma_gguf: Path) -> Iterator[str]:
    uid = server.launch_gguf(
        gemma_gguf, "gemma-spec", n_ctx=1024, parallel=2, cache_type_k="q8_0", type_v="q8_0"
    )
    yield uid
    httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60)


def _launch_body(gemma_gguf: Path, uid: str, **extra: Any) -> dict[str, Any]:
    return {
        "model_uid": uid,
        "model_name": "gemma-3-it",
        "model_engine": "llama.cpp",
        "model_format": "ggufv2",
        "model_path": str(gemma_gguf),
        "n_ctx": 512,
        **extra,
    }


@pytest.mark.parametrize("value", [999, "q7_0"])
def test_an_unknown_kv_cache_type_is_a_400_that_lists_the_names(
    server: ServerProcess, gemma_gguf: Path, value: object
) -> None:
    response = httpx.post(
        f"{server.url}/v1/models",
        json=_launch_body(gemma_gguf, "bad-kv", type_k=value),
        timeout=60,
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    for name in ("f16", "q8_0", "q4_0"):
        assert name in detail
    listed = httpx.get(f"{server.url}/v1/models", timeout=30).json()["data"]
    assert "bad-kv" not in {m["id"] for m in listed}


def test_the_launch_reports_its_engine_settings(server: ServerProcess, gemma: str) -> None:
    desc = httpx.get(f"{server.url}/v1/models/{gemma}", timeout=30).json()
    assert desc["cache_type_k"] == "q8_0"
    assert desc["cache_type_v"] == "q8_0"
    assert desc["flash_attn"] == "auto"
    assert desc["speculative"] == "ngram"


def test_a_quoting_answer_reports_its_drafts(server: ServerProcess, gemma: str) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="not-needed", max_retries=0)
    reply = client.completions.create(model=gemma, prompt=PROMPT, max_tokens=48, temperature=0)
    assert reply.usage is not None
    timings = (reply.usage.model_extra or {}).get("timings")
    assert isinstance(timings, dict), reply.usage
    assert timings["predicted_n"] == reply.usage.completion_tokens
    assert timings["draft_n_accepted"] > 0
    assert timings["tokens_per_step"] > 1.0
    assert "granary" in (reply.choices[0].text or "")

    # Streamed, with the usage chunk: the same figures come along.
    body = {
        "model": gemma,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 32,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    usage: dict[str, Any] | None = None
    with httpx.stream(
        "POST", f"{server.url}/v1/chat/completions", json=body, timeout=300
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                event = json.loads(line[5:])
                usage = event.get("usage") or usage
    assert usage is not None
    assert usage["timings"]["decode_steps"] >= 1
    assert usage["timings"]["predicted_n"] == usage["completion_tokens"]


def test_speculation_off_drafts_nothing(server: ServerProcess, gemma_gguf: Path) -> None:
    uid = server.launch_gguf(gemma_gguf, "gemma-nospec", n_ctx=1024, speculative="off")
    try:
        response = httpx.post(
            f"{server.url}/v1/completions",
            json={"model": uid, "prompt": PROMPT, "max_tokens": 24, "temperature": 0},
            timeout=300,
        )
        assert response.status_code == 200
        timings = response.json()["usage"]["timings"]
        assert timings["draft_n"] == 0
        assert timings["decode_steps"] == timings["predicted_n"]
    finally:
        httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60)
