"""How a model's worker process is started (`engine.spawn`): a plain child process
running `python -m desktop --model-worker FD`, talking over a socket pair."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil
import pytest

from desktop.core.engine import spawn
from desktop.core.engine.protocol import WorkerSpec
from desktop.core.engine.server_side import WorkerHandle
from desktop.core.engine.spawn import WORKER_ARG, WorkerProcess
from desktop.core.errors import ModelLoadError

WAIT_S = 120.0


def _embedding_spec(path: Path) -> WorkerSpec:
    return WorkerSpec(
        uid="tiny-embed",
        model_type="embedding",
        model_path=str(path),
        llama_kwargs={"n_ctx": 256, "n_threads": 1},
    )


def _answer(conn: Connection) -> tuple[Any, ...]:
    assert conn.poll(WAIT_S), "the worker said nothing"
    message: tuple[Any, ...] = conn.recv()
    return message


def _first_event(conn: Connection) -> tuple[str, str, dict[str, Any]]:
    """The first request event of the worker's next message ("event" or "events")."""
    answer = _answer(conn)
    events = answer[1] if answer[0] == "events" else [answer[1:]]
    rid, kind, payload = events[0]
    return rid, kind, payload


@pytest.fixture
def started(tiny_models: dict[str, Path]) -> Iterator[tuple[WorkerProcess, Connection]]:
    process, conn = spawn.start(_embedding_spec(tiny_models["embedding"]))
    yield process, conn
    process.kill()
    process.join(10)
    conn.close()


def test_a_worker_is_a_plain_child_that_serves_its_model(
    started: tuple[WorkerProcess, Connection],
) -> None:
    process, conn = started
    tag, info = _answer(conn)
    assert tag == "loaded", info
    assert info["n_ctx"] == 256
    child = psutil.Process(process.pid)
    assert child.ppid() == psutil.Process().pid
    command = child.cmdline()
    assert command[-2] == WORKER_ARG
    assert command[-1].isdigit()
    # Not multiprocessing's spawn: no spawn_main bootstrap on the command line.
    assert not any("multiprocessing" in part for part in command)

    conn.send(("request", "r1", "embed", {"input": ["hello", "world"]}))
    rid, kind, payload = _first_event(conn)
    assert (rid, kind) == ("r1", "result"), payload
    assert len(payload["embeddings"]) == 2

    conn.send(("shutdown",))
    assert process.join(WAIT_S) == 0
    assert not process.alive()


def test_ctrl_c_is_the_servers_to_answer_not_the_workers(
    started: tuple[WorkerProcess, Connection],
) -> None:
    # Ctrl+C in a terminal signals the server and its workers together; the server then stops
    # its workers itself. A worker that died of the signal would be reported as crashed.
    process, conn = started
    assert _answer(conn)[0] == "loaded"
    assert process.pid is not None
    os.kill(process.pid, signal.SIGINT)
    conn.send(("request", "r1", "embed", {"input": ["still here"]}))
    assert _first_event(conn)[:2] == ("r1", "result")
    conn.send(("shutdown",))
    assert process.join(WAIT_S) == 0


def test_a_worker_exits_when_the_server_end_of_its_pipe_closes(
    started: tuple[WorkerProcess, Connection],
) -> None:
    # The server crashed or was killed: its worker must not live on, holding the model's memory.
    process, conn = started
    assert _answer(conn)[0] == "loaded"
    conn.close()
    assert process.join(WAIT_S) == 0


def test_a_model_that_cannot_load_is_reported_on_the_pipe(tiny_models: dict[str, Path]) -> None:
    process, conn = spawn.start(_embedding_spec(tiny_models["not_gguf"]))
    try:
        tag, message = _answer(conn)
        assert tag == "load_failed"
        assert str(tiny_models["not_gguf"]) in message
        assert process.join(WAIT_S) is not None
    finally:
        process.kill()
        conn.close()


def test_a_worker_whose_server_is_gone_before_it_names_the_model_exits() -> None:
    ours, theirs = socket.socketpair()
    ours.close()
    with theirs:
        fd = theirs.fileno()
        done = subprocess.run(
            spawn.worker_command(fd), pass_fds=(fd,), capture_output=True, timeout=WAIT_S
        )
    assert done.returncode == 1


def test_other_command_lines_are_left_to_the_cli() -> None:
    for argv in (["xindesk"], ["xindesk", "serve"], ["xindesk", WORKER_ARG], ["x", "serve", "3"]):
        assert spawn.run_if_worker(argv) is None


@pytest.mark.asyncio
async def test_a_worker_that_cannot_start_fails_the_launch_with_why(
    tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # E.g. the app was moved or updated while it runs: its executable is no longer there.
    missing = tmp_path / "moved-away" / "xindesk"
    monkeypatch.setattr(spawn, "worker_command", lambda fd: [str(missing), str(fd)])
    handle = WorkerHandle(_embedding_spec(tiny_models["embedding"]))
    with pytest.raises(ModelLoadError, match="Could not start the model's worker process"):
        await handle.start()
    assert not handle.alive
    assert handle.pid is None
    await handle.stop()


@pytest.mark.asyncio
async def test_a_worker_that_exits_at_once_fails_the_launch_and_is_reaped(
    tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A program that starts but is no model worker (a broken install): it exits at once,
    # before or after the spec reached it.
    monkeypatch.setattr(spawn, "worker_command", lambda fd: [sys.executable, "-c", "pass"])
    handle = WorkerHandle(_embedding_spec(tiny_models["embedding"]))
    with pytest.raises(ModelLoadError, match="worker process"):
        await handle.start()
    assert not handle.alive
    await handle.stop()
    assert handle.pid is None or not psutil.pid_exists(handle.pid)
