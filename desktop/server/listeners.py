"""Serving one app on two ports: XinDesk's own, and Ollama's for apps that only know that one.

One uvicorn server runs the app's lifespan and handles the signals; the second shares the same
app (and so the same state, key and browser guard) with its lifespan off, starts once the first
has started, and stops when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("xindesk.server")


class _SecondServer(uvicorn.Server):
    """A uvicorn server that leaves the signals to the main one."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve_with_ollama_port(
    app: FastAPI, host: str, port: int, ollama_port: int, log_level: str
) -> None:
    main = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False)
    )
    second = _SecondServer(
        uvicorn.Config(
            app, host=host, port=ollama_port, log_level=log_level, access_log=False, lifespan="off"
        )
    )
    main_task = asyncio.create_task(main.serve())
    # uvicorn says it has started only by a flag.
    while not main.started and not main_task.done():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if main_task.done():
        await main_task
        return
    log.info("also answering on http://%s:%d (Ollama's port)", host, ollama_port)
    second_task = asyncio.create_task(second.serve())
    await main_task
    second.should_exit = True
    await second_task
