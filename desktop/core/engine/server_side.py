"""The server's side of a model worker: start it, send it requests, stream its answers back.

The pipe is read by one thread per worker, which hands each message to the asyncio loop; every
request gets its own queue, so concurrent requests never see each other's tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Any

from desktop.core.engine import spawn
from desktop.core.engine.protocol import WorkerSpec
from desktop.core.engine.spawn import WorkerConnection, WorkerProcess
from desktop.core.errors import InvalidRequest, ModelLoadError, ModelStopped, WorkerCrashed

log = logging.getLogger("xindesk.engine")

Event = tuple[str, dict[str, Any]]


class WorkerHandle:
    """One worker process and the requests in flight to it."""

    def __init__(
        self, spec: WorkerSpec, on_exit: Callable[[WorkerHandle, str], None] | None = None
    ) -> None:
        self.spec = spec
        self._on_exit = on_exit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: WorkerConnection | None = None
        self._process: WorkerProcess | None = None
        self._pending: dict[str, asyncio.Queue[Event]] = {}
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._stopping = False
        # Why the worker is being stopped on purpose: the message and code its requests in
        # flight end with (`ModelStopped`).
        self._stop_reason = ("The model was stopped.", "model_terminated")
        self.info: dict[str, Any] = {}
        self.exit_reason: str | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.alive() and self.exit_reason is None

    async def start(self) -> dict[str, Any]:
        """Start the process and wait until the model is loaded; returns the model's facts."""
        self._loop = asyncio.get_running_loop()
        self._ready = self._loop.create_future()
        try:
            self._process, self._conn = spawn.start(self.spec)
        except OSError as exc:
            # Out of processes or file handles, or the program itself is gone (an app
            # updated or moved while it runs).
            self.exit_reason = f"Could not start the model's worker process: {exc}"
            raise ModelLoadError(self.exit_reason) from exc
        threading.Thread(target=self._read, name=f"worker-{self.spec.uid}", daemon=True).start()
        self.info = await self._ready
        return self.info

    def _read(self) -> None:
        assert self._conn is not None
        assert self._loop is not None
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break
            self._loop.call_soon_threadsafe(self._dispatch, message)
        self._loop.call_soon_threadsafe(self._closed)

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        tag = message[0]
        if tag == "loaded":
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(message[1])
        elif tag == "load_failed":
            self.exit_reason = str(message[1])
            if self._ready is not None and not self._ready.done():
                self._ready.set_exception(ModelLoadError(str(message[1])))
        elif tag == "events":
            for rid, kind, payload in message[1]:
                queue = self._pending.get(rid)
                if queue is not None:
                    queue.put_nowait((kind, payload))
        elif tag == "event":
            _tag, rid, kind, payload = message
            queue = self._pending.get(rid)
            if queue is not None:
                queue.put_nowait((kind, payload))

    def _closed(self) -> None:
        """The pipe closed: the worker exited, on purpose or not."""
        code = None
        if self._process is not None:
            code = self._process.join(timeout=5)
        if self.exit_reason is None:
            self.exit_reason = (
                self._stop_reason[0]
                if self._stopping
                else f"The model's worker process ended unexpectedly (exit code {code})."
            )
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ModelLoadError(self.exit_reason))
        ending: dict[str, Any] = {"message": self.exit_reason, "crashed": True}
        if self._stopping:
            ending = {"message": self._stop_reason[0], "stopped": self._stop_reason[1]}
        for queue in self._pending.values():
            queue.put_nowait(("error", ending))
        if self._on_exit is not None and not self._stopping:
            self._on_exit(self, self.exit_reason)

    def _send(self, message: tuple[Any, ...]) -> None:
        if self._conn is None or self.exit_reason is not None:
            raise WorkerCrashed(self.exit_reason or "The model's worker is not running.")
        try:
            self._conn.send(message)
        except (OSError, EOFError, BrokenPipeError) as exc:
            raise WorkerCrashed(f"The model's worker process is gone: {exc}") from exc
        except RecursionError as exc:
            # Pickling fails before anything is written, so the pipe stays in step.
            raise InvalidRequest("The request is nested too deeply to pass to the model.") from exc

    async def stream(self, op: str, params: dict[str, Any]) -> AsyncGenerator[Event, None]:
        """Send a request and yield its events until `done`, `result` or an error."""
        rid = uuid.uuid4().hex
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._pending[rid] = queue
        finished = False
        try:
            try:
                self._send(("request", rid, op, params))
            except (InvalidRequest, WorkerCrashed):
                finished = True
                raise
            while True:
                kind, payload = await queue.get()
                if kind == "error":
                    finished = True
                    if payload.get("invalid"):
                        raise InvalidRequest(str(payload["message"]))
                    if payload.get("stopped"):
                        raise ModelStopped(str(payload["message"]), code=str(payload["stopped"]))
                    if payload.get("crashed"):
                        raise WorkerCrashed(str(payload["message"]))
                    raise ModelLoadError(str(payload["message"]))
                if kind in ("done", "result"):
                    finished = True
                    yield kind, payload
                    return
                yield kind, payload
        finally:
            self._pending.pop(rid, None)
            if not finished and self.exit_reason is None:
                # The caller went away (client disconnected): free the worker at once.
                with contextlib.suppress(WorkerCrashed):
                    self._send(("cancel", rid))

    async def call(self, op: str, params: dict[str, Any]) -> dict[str, Any]:
        """A request with one answer (embeddings, rerank)."""
        async for kind, payload in self.stream(op, params):
            if kind == "result":
                return payload
        raise WorkerCrashed("The worker ended the request without an answer.")

    async def stop(
        self, grace: float = 10.0, *, reason: str = "The model was stopped.", code: str = ""
    ) -> None:
        """Ask the worker to exit; kill it if it does not. Requests in flight end with
        `ModelStopped(reason, code=code)` ("model_terminated" unless given)."""
        self._stopping = True
        self._stop_reason = (reason, code or "model_terminated")
        process = self._process
        if process is None:
            return
        if process.alive() and self.exit_reason is None:
            with contextlib.suppress(WorkerCrashed):
                self._send(("shutdown",))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, process.join, grace)
        if process.alive():
            log.warning("worker of %s did not stop in %.0fs; killing it", self.spec.uid, grace)
            process.kill()
            await loop.run_in_executor(None, process.join, 5)
        if self._conn is not None:
            self._conn.close()

    def kill(self) -> None:
        """Stop at once (launch cancelled while loading)."""
        self._stopping = True
        if self._process is not None:
            self._process.kill()
