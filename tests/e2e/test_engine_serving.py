"""Concurrent streams, the `parallel` launch option and prompt reuse, through a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

QUESTIONS = [
    "Write a short poem about the sea.",
    "List three facts about the Moon.",
    "Explain what a compiler does.",
    "Describe your favourite breakfast.",
]


@pytest.fixture(scope="module")
def gemma(server: ServerProcess, gemma_gguf: Path) -> Iterator[str]:
    server.launch_gguf(gemma_gguf, "gemma-par", n_ctx=1024, parallel=4)
    yield "gemma-par"
    httpx.delete(f"{server.url}/v1/models/gemma-par", timeout=60)


def _stream(url: str, model: str, question: str, max_tokens: int) -> dict[str, Any]:
    """One streamed chat request; what arrived, and whether the stream ended properly."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": question}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    parts: list[str] = []
    finish: str | None = None
    usage: dict[str, Any] | None = None
    ended = False
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=300) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                ended = True
                continue
            event = json.loads(data)
            assert "error" not in event, event
            if event.get("usage"):
                usage = event["usage"]
            for choice in event.get("choices") or []:
                parts.append((choice.get("delta") or {}).get("content") or "")
                finish = choice.get("finish_reason") or finish
    return {"text": "".join(parts), "finish": finish, "usage": usage, "ended": ended}


def test_description_reports_the_parallel_sequences(server: ServerProcess, gemma: str) -> None:
    desc = httpx.get(f"{server.url}/v1/models/{gemma}", timeout=30).json()
    assert desc["parallel"] == 4
    assert desc["parallel_reason"] == "asked for at launch"
    assert desc["context_length"] == 1024


def test_a_default_launch_says_how_many_sequences_it_chose(
    server: ServerProcess, gemma_gguf: Path
) -> None:
    uid = server.launch_gguf(gemma_gguf, "gemma-default", n_ctx=1024)
    try:
        desc = httpx.get(f"{server.url}/v1/models/{uid}", timeout=30).json()
        assert 1 <= desc["parallel"] <= 4
        assert "sequences of 1024 tokens" in desc["parallel_reason"]
    finally:
        httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60)


def test_a_bad_parallel_value_is_a_400(server: ServerProcess, gemma_gguf: Path) -> None:
    response = httpx.post(
        f"{server.url}/v1/models",
        json={
            "model_uid": "bad-parallel",
            "model_name": "gemma-3-it",
            "model_engine": "llama.cpp",
            "model_format": "ggufv2",
            "model_path": str(gemma_gguf),
            "parallel": 0,
        },
        timeout=60,
    )
    assert response.status_code == 400
    assert "parallel" in response.json()["detail"]


def test_four_concurrent_streams_are_whole(server: ServerProcess, gemma: str) -> None:
    # Whether each answer is its own prompt's greedy answer is checked token by token in
    # tests/unit/test_engine_loop.py; here: four streams at once through HTTP, none cut short.
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda q: _stream(server.url, gemma, q, 48), QUESTIONS))
    for question, mine in zip(QUESTIONS, together, strict=True):
        assert mine["ended"], question
        assert mine["finish"] in ("stop", "length"), question
        assert mine["usage"] is not None
        if mine["finish"] == "length":
            assert mine["usage"]["completion_tokens"] == 48
        assert mine["text"], question


def test_the_next_turn_reads_only_the_new_part(server: ServerProcess, gemma: str) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="not-needed", max_retries=0)
    messages: list[dict[str, str]] = [
        {"role": "system", "content": "You are a terse assistant. Answer in a few words."}
    ]
    cached: list[int] = []
    prompt: list[int] = []
    for question in ["Name a river.", "Name a mountain.", "Name a desert.", "Name a sea."]:
        messages.append({"role": "user", "content": question})
        reply = client.chat.completions.create(
            model=gemma,
            messages=messages,  # type: ignore[arg-type]
            max_tokens=12,
            temperature=0,
        )
        usage = reply.usage
        assert usage is not None
        assert usage.prompt_tokens_details is not None
        cached.append(usage.prompt_tokens_details.cached_tokens or 0)
        prompt.append(usage.prompt_tokens)
        messages.append({"role": "assistant", "content": reply.choices[0].message.content or ""})
    # From the second turn on, the conversation so far comes from the slot's cache.
    for turn in range(1, len(prompt)):
        assert cached[turn] >= prompt[turn - 1], (cached, prompt)
        assert prompt[turn] - cached[turn] < 40, (cached, prompt)
