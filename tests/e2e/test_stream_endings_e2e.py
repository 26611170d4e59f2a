"""Streams end properly, through the real server and the real `openai` client: when the model is
terminated, its worker is killed, or the server gets SIGTERM, every open stream gets a last
event in OpenAI's error shape (which openai-python raises as an `APIError` with the reason),
then `[DONE]`. And `n` asks for that many independent choices."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fixtures.server import ServerProcess, run_server

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# A grammar with no end: the answer runs to max_tokens, so a stream is open when it is cut.
ENDLESS = 'root ::= "tick " root'
LONG_CHAT: dict[str, Any] = {
    "messages": [{"role": "user", "content": "Say tick forever."}],
    "max_tokens": 3000,
    "temperature": 0,
}


def _launch(server: ServerProcess, gemma: Path, uid: str) -> str:
    return server.launch_gguf(gemma, uid, n_ctx=4096, parallel=2)


def _client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="not-needed", max_retries=0)


def _worker_pid(server: ServerProcess, uid: str) -> int:
    pid = httpx.get(f"{server.url}/v1/xindesk/models/{uid}/worker").json()["pid"]
    assert isinstance(pid, int)
    return pid


def _stream_until_cut(server: ServerProcess, uid: str, cut: Callable[[], None]) -> openai.APIError:
    """Stream a long chat with the openai client, `cut` it after a few chunks, and return the
    error the client raised."""
    stream = _client(server).chat.completions.create(
        model=uid, stream=True, extra_body={"grammar": ENDLESS}, **LONG_CHAT
    )
    chunks = 0

    def read() -> None:
        nonlocal chunks
        for chunk in stream:
            assert not chunk.choices or chunk.choices[0].finish_reason is None
            chunks += 1
            if chunks == 4:
                cut()

    with pytest.raises(openai.APIError) as caught:
        read()
    assert chunks >= 4
    return caught.value


def _raw_events(response: httpx.Response) -> list[Any]:
    events: list[Any] = []
    for line in response.iter_lines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def test_terminating_the_model_ends_its_streams_with_the_reason(
    server: ServerProcess, gemma_gguf: Path
) -> None:
    uid = _launch(server, gemma_gguf, "ending-terminated")

    def terminate() -> None:
        httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60).raise_for_status()

    error = _stream_until_cut(server, uid, terminate)
    assert "was terminated while this answer was being generated" in error.message
    assert isinstance(error.body, dict)
    assert error.body["type"] == "server_error"
    assert error.body["code"] == "model_terminated"


def test_a_killed_worker_ends_its_streams_with_the_reason_then_done(
    server: ServerProcess, gemma_gguf: Path
) -> None:
    uid = _launch(server, gemma_gguf, "ending-killed")
    error = _stream_until_cut(
        server, uid, lambda: os.kill(_worker_pid(server, uid), signal.SIGKILL)
    )
    assert "worker process ended unexpectedly" in error.message
    assert isinstance(error.body, dict)
    assert error.body["code"] == "worker_crashed"

    # The same, read raw, for a completion stream: the error object, then [DONE].
    httpx.post(f"{server.url}/v1/xindesk/models/{uid}/relaunch", timeout=180).raise_for_status()
    body = {"model": uid, "prompt": "tick", "max_tokens": 3000, "stream": True, "grammar": ENDLESS}
    events: list[Any] = []
    with httpx.stream("POST", f"{server.url}/v1/completions", json=body, timeout=120) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data:"):
                payload = line[5:].strip()
                events.append(payload if payload == "[DONE]" else json.loads(payload))
                if len(events) == 4:
                    os.kill(_worker_pid(server, uid), signal.SIGKILL)
    assert events[-1] == "[DONE]"
    last = events[-2]["error"]
    assert set(last) == {"message", "type", "code"}
    assert last["code"] == "worker_crashed"
    assert "ended unexpectedly" in last["message"]
    httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    with run_server(tmp_path / "home") as server:
        yield server


def test_sigterm_ends_every_open_stream_with_the_reason_then_done(
    own_server: ServerProcess, gemma_gguf: Path
) -> None:
    server = own_server
    uid = _launch(server, gemma_gguf, "ending-sigterm")
    body = {"model": uid, "stream": True, "grammar": ENDLESS, **LONG_CHAT}
    with (
        httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body, timeout=120) as one,
        httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body, timeout=120) as two,
    ):
        assert one.status_code == two.status_code == 200
        lines = one.iter_lines()
        for _ in range(6):
            next(lines)
        server.process.send_signal(signal.SIGTERM)
        first = [line[5:].strip() for line in lines if line.startswith("data:")]
        second = _raw_events(two)
    # uvicorn shuts down gracefully, then ends by the signal it caught.
    assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
    assert first[-1] == second[-1] == "[DONE]"
    for last in (json.loads(first[-2])["error"], second[-2]["error"]):
        assert last["code"] == "server_shutdown"
        assert "shutting down" in last["message"]


def test_n_gives_independent_choices(server: ServerProcess, gemma_gguf: Path) -> None:
    uid = _launch(server, gemma_gguf, "choices")
    client = _client(server)
    messages: list[Any] = [{"role": "user", "content": "Name a colour."}]
    answer = client.chat.completions.create(
        model=uid, messages=messages, n=3, max_tokens=6, temperature=1.0, seed=7
    )
    assert [choice.index for choice in answer.choices] == [0, 1, 2]
    assert all(choice.finish_reason in ("stop", "length") for choice in answer.choices)
    assert answer.usage is not None
    assert answer.usage.completion_tokens <= 18
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    # Seeded: the same request gives the same choices again.
    again = client.chat.completions.create(
        model=uid, messages=messages, n=3, max_tokens=6, temperature=1.0, seed=7
    )
    assert [c.message.content for c in again.choices] == [c.message.content for c in answer.choices]

    texts: dict[int, str] = {}
    finishes: dict[int, str | None] = {}
    stream = client.chat.completions.create(
        model=uid, messages=messages, n=2, max_tokens=6, stream=True
    )
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert sorted(texts) == [0, 1]
    assert sorted(finishes) == [0, 1]

    completion = client.completions.create(model=uid, prompt="Colours: red,", n=2, max_tokens=4)
    assert [choice.index for choice in completion.choices] == [0, 1]

    too_many = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": uid, "messages": messages, "n": 17},
        timeout=30,
    )
    assert too_many.status_code == 400
    assert too_many.json()["detail"] == "n=17: ask for 1 to 16 choices."
    httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60)
