"""Prompts bounded by their bytes before tokenizing, through the real server: a 10 MB prompt is
a 400 from the server's byte bound (its worker never reads it) while a stream on the same model
runs on to its end, and a huge embedding input gets the embedding of its truncated start."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

TEN_MB = 10 * 1000 * 1000


@pytest.fixture(scope="module")
def gemma(server: ServerProcess, gemma_gguf: Path) -> Iterator[str]:
    uid = server.launch_gguf(gemma_gguf, "gemma-bounds", n_ctx=1024, parallel=2)
    yield uid
    httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60)


def _stream(url: str, body: dict[str, Any], events: list[Any]) -> None:
    with httpx.stream("POST", url, json=body, timeout=300) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data:"):
                payload = line[5:].strip()
                events.append(payload if payload == "[DONE]" else json.loads(payload))


def test_a_10_mb_prompt_is_refused_by_its_bytes_while_a_stream_runs_on(
    server: ServerProcess, gemma: str
) -> None:
    url = f"{server.url}/v1/chat/completions"
    events: list[Any] = []
    streaming = threading.Thread(
        target=_stream,
        args=(
            url,
            {
                "model": gemma,
                "messages": [{"role": "user", "content": "Count from one to fifty in words."}],
                "max_tokens": 200,
                "temperature": 0,
                "stream": True,
            },
            events,
        ),
    )
    streaming.start()
    try:
        chat = httpx.post(
            url,
            json={"model": gemma, "messages": [{"role": "user", "content": "a" * TEN_MB}]},
            timeout=120,
        )
        completion = httpx.post(
            f"{server.url}/v1/completions",
            json={"model": gemma, "prompt": "word " * (TEN_MB // 5)},
            timeout=120,
        )
    finally:
        streaming.join(timeout=300)
    for refused in (chat, completion):
        assert refused.status_code == 400, refused.text[:300]
        detail = refused.json()["detail"]
        # The server's byte bound, not the worker's token count.
        assert "bytes, at least" in detail
        assert "context of 1024 tokens" in detail
    assert not streaming.is_alive()
    assert events[-1] == "[DONE]"
    finishes = [e["choices"][0].get("finish_reason") for e in events[:-1] if e.get("choices")]
    assert finishes[-1] in ("stop", "length")


def test_a_prompt_that_may_fit_reaches_the_worker(server: ServerProcess, gemma: str) -> None:
    # 7,500 bytes could be as few as 160 tokens: the worker counts them (1,500+) and refuses.
    response = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": gemma, "messages": [{"role": "user", "content": "word " * 1500}]},
        timeout=60,
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The prompt has ")
    fits = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={
            "model": gemma,
            "messages": [{"role": "user", "content": "word " * 150}],
            "max_tokens": 2,
        },
        timeout=60,
    )
    assert fits.status_code == 200, fits.text


def test_a_huge_embedding_input_is_embedded_as_its_truncated_start(
    server: ServerProcess, tiny_models: dict[str, Path]
) -> None:
    server.launch_gguf(
        tiny_models["embedding"], "tiny-bounds", model_name="tiny-bounds", model_type="embedding"
    )
    try:
        text = "the quick brown fox jumps over the lazy dog. "

        def embed(value: str) -> list[float]:
            response = httpx.post(
                f"{server.url}/v1/embeddings",
                json={"model": "tiny-bounds", "input": value},
                timeout=120,
            )
            assert response.status_code == 200, response.text[:300]
            vector: list[float] = response.json()["data"][0]["embedding"]
            return vector

        huge = embed(text * (TEN_MB // len(text)))
        # About 600 tokens: past the context of 512, so the worker truncates it, and short
        # enough that the server sends it whole.
        start = embed(text * 60)
        assert huge == pytest.approx(start, abs=1e-6)
    finally:
        httpx.delete(f"{server.url}/v1/models/tiny-bounds", timeout=60)
