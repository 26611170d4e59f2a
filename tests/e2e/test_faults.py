"""Faults: a model's worker killed mid-stream, and malformed requests against a live model."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.fixtures.polling import wait_until
from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _launch(server: ServerProcess, path: Path, uid: str) -> None:
    server.launch_gguf(path, uid, n_ctx=1024)


def test_worker_killed_mid_stream(server: ServerProcess, gemma_gguf: Path) -> None:
    _launch(server, gemma_gguf, "victim")
    pid = httpx.get(f"{server.url}/v1/xindesk/models/victim/worker").json()["pid"]
    assert isinstance(pid, int)
    events: list[dict[str, object]] = []
    body = {
        "model": "victim",
        "messages": [{"role": "user", "content": "Tell a long story."}],
        "max_tokens": 900,
        "temperature": 0,
        "stream": True,
    }
    with httpx.stream(
        "POST", f"{server.url}/v1/chat/completions", json=body, timeout=120
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                events.append({"done": True})
                continue
            events.append(json.loads(payload))
            if len(events) == 4:
                os.kill(pid, signal.SIGKILL)
    # The stream ended with an in-band error, not a silent cut and not a normal finish, and
    # then [DONE].
    assert events[-1] == {"done": True}
    assert "error" in events[-2], events[-3:]
    assert "ended unexpectedly" in str(events[-2]["error"])
    assert not any(
        e.get("choices") and e["choices"][0].get("finish_reason")  # type: ignore[index]
        for e in events
    )
    # The server keeps answering, and shows the model's error state.
    assert httpx.get(f"{server.url}/status").status_code == 200
    described = httpx.get(f"{server.url}/v1/models/victim").json()
    assert described["status"] == "error"
    assert "ended unexpectedly" in described["error"]
    instance = httpx.get(f"{server.url}/v1/models/instances", params={"model_uid": "victim"}).json()
    assert instance[0]["status"] == "ERROR"
    # The next request relaunches the crashed worker (models as a service) and is answered.
    chat = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": "victim", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
        timeout=120,
    )
    assert chat.status_code == 200, chat.text
    assert httpx.get(f"{server.url}/v1/models/victim").json()["worker_pid"] != pid

    # Relaunch brings it back under the same uid, in a new process.
    relaunched = httpx.post(f"{server.url}/v1/xindesk/models/victim/relaunch", timeout=120)
    assert relaunched.status_code == 200, relaunched.text
    described = httpx.get(f"{server.url}/v1/models/victim").json()
    assert described["status"] == "ready"
    assert described["worker_pid"] != pid
    reply = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": "victim", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
        timeout=60,
    )
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] is not None

    # Launching again by POST /v1/models after an error is allowed too (Xinference clients do).
    os.kill(described["worker_pid"], signal.SIGKILL)
    wait_until(
        lambda: httpx.get(f"{server.url}/v1/models/victim").json()["status"] == "error",
        timeout=10,
        what="the killed worker's model showing an error",
    )
    _launch(server, gemma_gguf, "victim")
    assert httpx.get(f"{server.url}/v1/models/victim").json()["status"] == "ready"
    httpx.delete(f"{server.url}/v1/models/victim", timeout=60)


def test_malformed_requests_get_4xx_json(server: ServerProcess, gemma_gguf: Path) -> None:
    _launch(server, gemma_gguf, "strict")
    url = f"{server.url}/v1/chat/completions"
    cases: list[tuple[dict[str, object] | bytes, int, str]] = [
        (b'{"model": "strict", "messages": [', 400, "not valid JSON"),
        ({"model": "strict", "messages": []}, 400, "Please specify the prompt"),
        ({"model": "nope", "messages": [{"role": "user", "content": "x"}]}, 404, "uid: nope"),
        ({"model": "strict", "messages": [{"role": "wizard", "content": "x"}]}, 422, "role"),
        (
            {"model": "strict", "messages": [{"role": "user", "content": "x"}], "temperature": 9},
            422,
            "temperature",
        ),
        (
            {"model": "strict", "messages": [{"role": "user", "content": "word " * 1500}]},
            400,
            "context of 1024 tokens",
        ),
        (
            {
                "model": "strict",
                "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "json_schema", "json_schema": {"name": "x"}},
            },
            400,
            "json_schema.schema",
        ),
    ]
    for body, status, words in cases:
        if isinstance(body, bytes):
            response = httpx.post(url, content=body, headers={"content-type": "application/json"})
        else:
            response = httpx.post(url, json=body, timeout=60)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert words in response.json()["detail"], response.text
    duplicate = httpx.post(
        f"{server.url}/v1/models",
        json={"model_uid": "strict", "model_name": "gemma-3-it", "model_path": str(gemma_gguf)},
    )
    assert duplicate.status_code == 400
    assert duplicate.json()["detail"] == "Model is already in the model list, uid: strict"
    rerank = httpx.post(
        f"{server.url}/v1/rerank", json={"model": "strict", "query": "q", "documents": ["d"]}
    )
    assert rerank.status_code == 400
    assert "rerank model" in rerank.json()["detail"]
    httpx.delete(f"{server.url}/v1/models/strict", timeout=60)
