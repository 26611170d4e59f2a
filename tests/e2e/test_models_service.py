"""Models as a service, against the real server and Gemma: remembered across restarts (a clean
stop and a SIGKILL of the server and its workers), loaded on demand by the first request (with
keep-alive comments on a stream, one load for concurrent requests), unloaded when idle (the
worker process is gone, the next request works), never loaded over the memory budget, and
relaunched after a crash."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from openai import OpenAI

from tests.fixtures.polling import wait_until
from tests.fixtures.server import ServerProcess, run_server

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CHAT = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4, "temperature": 0}


def _describe(server: ServerProcess, uid: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/v1/models/{uid}", timeout=30)
    assert response.status_code == 200, response.text
    described: dict[str, Any] = response.json()
    return described


def _chat(server: ServerProcess, uid: str, **extra: object) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/chat/completions", json={"model": uid, **CHAT, **extra}, timeout=180
    )


def _worker_pids(server: ServerProcess) -> list[int]:
    return [child.pid for child in psutil.Process(server.process.pid).children()]


def _kill_server_and_workers(server: ServerProcess) -> None:
    workers = _worker_pids(server)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=30)
    for pid in workers:
        # A worker whose server died exits when its pipe closes; make sure of it either way.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_served_models_come_back_after_a_clean_stop_and_after_sigkill(
    tmp_path: Path, gemma_gguf: Path
) -> None:
    home = tmp_path / "home"
    with run_server(home) as server:
        server.launch_gguf(gemma_gguf, "chatter", n_ctx=512)
        server.launch_gguf(gemma_gguf, "kept", n_ctx=512, pinned=True)
        gone = tmp_path / "gone.gguf"
        gone.write_bytes(gemma_gguf.read_bytes())
        server.launch_gguf(gone, "vanishing", n_ctx=512)
        assert _chat(server, "chatter").status_code == 200
    gone.unlink()
    served = json.loads((home / "data" / "served.json").read_text())
    assert {m["uid"] for m in served["models"]} == {"chatter", "kept", "vanishing"}

    with run_server(home) as server:
        # No launch call: listed unloaded, and the first chat loads it.
        listed = {m["id"]: m for m in httpx.get(f"{server.url}/v1/models").json()["data"]}
        assert listed["chatter"]["status"] == "unloaded"
        assert listed["kept"]["pinned"] is True
        assert listed["vanishing"]["status"] == "error"
        assert "Cannot be brought back" in listed["vanishing"]["error"]
        assert _worker_pids(server) == []
        answer = _chat(server, "chatter")
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"]
        assert _describe(server, "chatter")["status"] == "ready"
        # A model that cannot come back answers with why, and terminate forgets it.
        refused = _chat(server, "vanishing")
        assert refused.status_code == 503
        assert "Cannot be brought back" in refused.json()["detail"]
        assert httpx.delete(f"{server.url}/v1/models/vanishing").status_code == 200
        _kill_server_and_workers(server)

    with run_server(home) as server:
        listed = {m["id"]: m for m in httpx.get(f"{server.url}/v1/models").json()["data"]}
        assert set(listed) == {"chatter", "kept"}
        assert _chat(server, "kept").status_code == 200
        # Terminate forgets it for the next start.
        assert httpx.delete(f"{server.url}/v1/models/kept").status_code == 200
    with run_server(home) as server:
        listed = {m["id"] for m in httpx.get(f"{server.url}/v1/models").json()["data"]}
        assert listed == {"chatter"}


def test_concurrent_first_requests_share_one_load_and_streams_get_keep_alive(
    tmp_path: Path, gemma_gguf: Path
) -> None:
    home = tmp_path / "home"
    with run_server(home) as server:
        server.launch_gguf(gemma_gguf, "jit", n_ctx=512)
    with run_server(home) as server:
        assert _describe(server, "jit")["status"] == "unloaded"
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: _chat(server, "jit"), range(4)))
        assert [a.status_code for a in answers] == [200] * 4
        assert len(_worker_pids(server)) == 1
        assert server.log().count("loading jit for a request") >= 1
        assert server.log().count("model jit ready") == 1

        httpx.post(f"{server.url}/v1/xindesk/models/jit/unload", timeout=60).raise_for_status()
        assert _describe(server, "jit")["status"] == "unloaded"
        # A streamed request to an unloaded model: the status line and the SSE comments come
        # while it loads, then the answer, then [DONE]; openai-python reads it as usual.
        lines: list[str] = []
        with httpx.stream(
            "POST",
            f"{server.url}/v1/chat/completions",
            json={"model": "jit", **CHAT, "stream": True},
            timeout=180,
        ) as response:
            assert response.status_code == 200
            lines = [line for line in response.iter_lines() if line]
        assert lines[-1] == "data: [DONE]"
        assert any(line.startswith("data: {") and '"content"' in line for line in lines)
        httpx.post(f"{server.url}/v1/xindesk/models/jit/unload", timeout=60).raise_for_status()
        client = OpenAI(base_url=f"{server.url}/v1", api_key="none")
        chunks = list(client.chat.completions.create(model="jit", stream=True, **CHAT))
        assert chunks[-1].choices[0].finish_reason in ("stop", "length")


def test_idle_models_are_unloaded_and_load_again(tmp_path: Path, gemma_gguf: Path) -> None:
    with run_server(tmp_path / "home") as server:
        server.launch_gguf(gemma_gguf, "pinned", n_ctx=512, idle_minutes=0.05, pinned=True)
        server.launch_gguf(gemma_gguf, "sleepy", n_ctx=512, idle_minutes=0.1)  # 6 seconds
        described = _describe(server, "sleepy")
        assert described["idle_minutes"] == 0.1
        sleepy_pid = described["worker_pid"]
        assert isinstance(sleepy_pid, int)
        before = psutil.Process(sleepy_pid).memory_info().rss
        wait_until(
            lambda: _describe(server, "sleepy")["status"] == "unloaded",
            timeout=60,
            what="the idle model being unloaded",
        )
        assert not psutil.pid_exists(sleepy_pid) or psutil.Process(sleepy_pid).status() == "zombie"
        assert _describe(server, "pinned")["status"] == "ready"
        assert re.search(r"unloaded sleepy after \d+ s idle; freed \d", server.log())
        assert before > 100 * 1024 * 1024
        assert _chat(server, "sleepy").status_code == 200
        assert _describe(server, "sleepy")["status"] == "ready"
        # keep_alive 0 (Ollama's spelling) unloads it right after the answer, even a model
        # that would never idle out.
        never = httpx.patch(
            f"{server.url}/v1/xindesk/models/sleepy/service", json={"idle_minutes": 0}
        )
        assert never.json()["idle_minutes"] is None
        assert _chat(server, "pinned").status_code == 200
        answered = _chat(server, "sleepy", keep_alive=0)
        assert answered.status_code == 200
        wait_until(
            lambda: _describe(server, "sleepy")["status"] == "unloaded",
            timeout=30,
            what="keep_alive 0 unloading the model",
        )
        bad = _chat(server, "sleepy", keep_alive="soon")
        assert bad.status_code == 400
        assert "keep_alive" in bad.json()["detail"]


def test_loads_stay_within_the_memory_budget(tmp_path: Path, gemma_gguf: Path) -> None:
    home = tmp_path / "home"
    with run_server(home) as server:
        server.launch_gguf(gemma_gguf, "first", n_ctx=512)
        needs = _describe(server, "first")["memory_needed_bytes"]
        assert needs > 200 * 1024 * 1024
        # A budget with room for one Gemma only.
        budget_gb = needs * 1.5 / 1024**3
        patch = {"models": {"memory_budget_gb": budget_gb}}
        httpx.patch(f"{server.url}/v1/xindesk/settings", json=patch).raise_for_status()
        server.launch_gguf(gemma_gguf, "second", n_ctx=512)
        # The idle first model made room.
        assert _describe(server, "first")["status"] == "unloaded"
        assert "unloaded first to make room for second" in server.log()
        # With the second pinned there is nothing to unload: a clear 503, nothing lost.
        change = httpx.patch(
            f"{server.url}/v1/xindesk/models/second/service", json={"pinned": True}
        )
        assert change.status_code == 200, change.text
        assert change.json()["pinned"] is True
        refused = _chat(server, "first")
        assert refused.status_code == 503
        detail = refused.json()["detail"]
        assert detail.startswith("Not enough memory to launch first: it needs ")
        assert "Nothing is left to unload. second stay loaded (pinned or answering)." in detail
        assert _describe(server, "first")["status"] == "unloaded"
        # force loads it anyway.
        forced = httpx.post(f"{server.url}/v1/xindesk/models/first/load?force=true", timeout=180)
        assert forced.status_code == 200, forced.text
        assert forced.json()["status"] == "ready"


def test_a_crashed_worker_is_relaunched_by_the_next_request(
    tmp_path: Path, gemma_gguf: Path
) -> None:
    with run_server(tmp_path / "home") as server:
        server.launch_gguf(gemma_gguf, "fragile", n_ctx=512)
        os.kill(_describe(server, "fragile")["worker_pid"], signal.SIGKILL)
        wait_until(
            lambda: _describe(server, "fragile")["status"] == "error",
            timeout=30,
            what="the crash being noticed",
        )
        answer = _chat(server, "fragile")
        assert answer.status_code == 200, answer.text
        assert "relaunching fragile after its worker stopped" in server.log()
        # A second crash at once: the back-off answers 503 with Retry-After instead of looping.
        os.kill(_describe(server, "fragile")["worker_pid"], signal.SIGKILL)
        wait_until(
            lambda: _describe(server, "fragile")["status"] == "error",
            timeout=30,
            what="the second crash being noticed",
        )
        again = _chat(server, "fragile")
        if again.status_code == 503:
            assert "relaunching it in" in again.json()["detail"]
            assert int(again.headers["retry-after"]) >= 1
            wait_until(lambda: _chat(server, "fragile").status_code == 200, timeout=60)
        else:
            # The back-off (2 s) had passed already on a slow machine.
            assert again.status_code == 200
        # A third crash within ten minutes: no more automatic relaunches.
        os.kill(_describe(server, "fragile")["worker_pid"], signal.SIGKILL)
        wait_until(
            lambda: _describe(server, "fragile")["status"] == "error",
            timeout=30,
            what="the third crash being noticed",
        )
        refused = _chat(server, "fragile")
        assert refused.status_code == 503
        assert "not relaunched automatically again" in refused.json()["detail"]
