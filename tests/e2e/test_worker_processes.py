"""The processes of a running server: one worker per model, and nothing else beside them."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil

from desktop.core.engine.spawn import WORKER_ARG
from tests.fixtures.polling import wait_until
from tests.fixtures.server import ServerProcess


def _children(server: ServerProcess) -> list[psutil.Process]:
    return psutil.Process(server.process.pid).children(recursive=True)


def test_the_server_runs_one_child_per_model_and_nothing_else(
    server: ServerProcess, tiny_models: dict[str, Path]
) -> None:
    server.launch_gguf(
        tiny_models["embedding"], "procs-embed", model_name="procs-embed", model_type="embedding"
    )
    server.launch_gguf(
        tiny_models["reranker"],
        "procs-rerank",
        model_name="bge-reranker-v2-m3",
        model_type="rerank",
    )
    workers = {
        httpx.get(f"{server.url}/v1/xindesk/models/{uid}/worker").json()["pid"]
        for uid in ("procs-embed", "procs-rerank")
    }
    children = _children(server)
    # No multiprocessing resource tracker or other helper: 13 MiB each on this machine.
    assert {child.pid for child in children} == workers
    for child in children:
        assert child.cmdline()[-2] == WORKER_ARG

    for uid in ("procs-embed", "procs-rerank"):
        assert httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60).status_code == 200
    wait_until(lambda: not _children(server), timeout=30, what="the workers exiting")
    # Exited and reaped: a zombie would still be listed as a child.
    assert _children(server) == []
