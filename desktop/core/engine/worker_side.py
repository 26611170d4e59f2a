"""The model worker process: loads one model and serves the requests the server sends it.

A crash in here (llama.cpp aborting, the OS killing the process for memory) ends only this model:
the server sees the pipe close and reports the model as stopped with an error.

Three threads: one reads the pipe into an inbox, the main thread runs the model, one writes
events back. A chat model's main thread is the decode loop (`engine.batcher`): between two
decode steps it takes in new requests and cancellations, so requests run together and a
cancelled one leaves its sequence at once. Writing from its own thread lets the pickling and
the pipe write happen while llama.cpp computes the next step (it releases the GIL), and events
that pile up meanwhile go out as one message.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from desktop.core.engine.protocol import TEXT_KINDS, WorkerSpec
from desktop.core.errors import ChatTemplateError, InvalidRequest, XinDeskError

if TYPE_CHECKING:
    # The server process imports this module for `main` only; the batcher (and numpy with
    # it) is imported in the worker, where it runs.
    from desktop.core.engine.batcher import RequestEvent

log = logging.getLogger("xindesk.worker")

_SHUTDOWN = ("shutdown",)


def _load_error_message(spec: WorkerSpec, exc: BaseException, said: list[str]) -> str:
    import llama_cpp

    # llama.cpp's own error lines say why (unknown architecture, a tensor of the wrong size).
    reason = f" llama.cpp said: {' '.join(said[-3:])}" if said else ""
    return (
        f"llama.cpp could not load {spec.model_path}: {exc}. The file may be damaged or "
        f"incomplete, too big for the memory left, or of an architecture newer than this "
        f"llama.cpp build (llama-cpp-python {llama_cpp.__version__}).{reason}"
    )


# How long a running stream's text may wait in the worker to go out with the next tokens.
# Every message costs the server process a pipe read, a JSON chunk and a socket write; on a
# small machine that work runs beside llama.cpp's threads and slows the decode itself.
# 50 ms keeps a stream at 20 or more updates a second, which reads as smooth.
FLUSH_INTERVAL_S = 0.05


class Outbox:
    """Events to the server, written by a thread of their own.

    A request's first text and every event that is not text (the end, an error, a result) go
    out at once; later text of a running stream goes out at most every `interval` seconds,
    joined into one delta."""

    def __init__(self, conn: Connection, interval: float = FLUSH_INTERVAL_S) -> None:
        self._conn = conn
        self._interval = interval
        self._items: list[RequestEvent] = []
        self._cond = threading.Condition()
        self._closed = False
        # Requests whose first text has gone out.
        self._streaming: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="events", daemon=True)
        self._thread.start()

    def put(self, events: list[RequestEvent]) -> None:
        with self._cond:
            self._items.extend(events)
            self._cond.notify()

    def forget(self, rid: str) -> None:
        """A cancelled request ends without a last event; stop tracking it."""
        with self._cond:
            self._streaming.discard(rid)

    def _urgent(self) -> bool:
        return any(
            kind not in TEXT_KINDS or rid not in self._streaming for rid, kind, _ in self._items
        )

    def _run(self) -> None:
        sent = 0.0
        while True:
            with self._cond:
                while not self._items and not self._closed:
                    self._cond.wait()
                while not self._closed and not self._urgent():
                    left = sent + self._interval - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                batch, self._items = self._items, []
                for rid, kind, _ in batch:
                    if kind in TEXT_KINDS:
                        self._streaming.add(rid)
                    else:
                        self._streaming.discard(rid)
            if not batch:
                return
            try:
                self._conn.send(("events", merge_deltas(batch)))
            except (OSError, EOFError):
                # The server is gone; the reader thread ends the worker.
                return
            sent = time.monotonic()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=10)


def merge_deltas(events: list[RequestEvent]) -> list[RequestEvent]:
    """Join a request's pieces of text (answer or reasoning) that waited together and follow
    each other into one (fewer SSE chunks for the server to write when it is behind; nothing
    changes when it keeps up)."""
    out: list[RequestEvent] = []
    last_text: dict[str, int] = {}
    for rid, kind, payload in events:
        index = last_text.get(rid)
        if kind in TEXT_KINDS and index is not None and out[index][1] == kind:
            previous = out[index][2]
            out[index] = (rid, kind, {"text": previous["text"] + payload["text"]})
            continue
        if kind in TEXT_KINDS:
            last_text[rid] = len(out)
        else:
            last_text.pop(rid, None)
        out.append((rid, kind, payload))
    return out


def main(conn: Connection, spec: WorkerSpec) -> None:
    """Process entry point (multiprocessing target)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from desktop.core.backend.build import read_build_info
    from desktop.core.backend.libraries import import_llama_cpp
    from desktop.core.engine.offload import LlamaLogCapture, model_placement
    from desktop.core.engine.runtime import ModelRuntime

    # A GPU build on a computer without its driver fails here: say what is missing instead
    # of dying with a traceback the server can only report as "exit code 1".
    build = read_build_info()
    _module, problem = import_llama_cpp(build.variant if build else None)
    if problem is not None:
        conn.send(("load_failed", problem.message))
        return
    capture = LlamaLogCapture()
    try:
        with capture:
            runtime = ModelRuntime(spec)
    except (ValueError, RuntimeError, OSError, XinDeskError) as exc:
        conn.send(("load_failed", _load_error_message(spec, exc, capture.errors())))
        return
    info = runtime.info()
    requested = int(spec.llama_kwargs.get("n_gpu_layers", 0))
    info["offload"] = model_placement(spec.model_path, capture.text, requested)
    log.info("model %s runs on: %s", spec.uid, info["offload"]["summary"])
    conn.send(("loaded", info))
    log.info("model %s loaded from %s", spec.uid, spec.model_path)

    inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()

    def read_commands() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                # The server is gone: nothing left to serve.
                inbox.put(_SHUTDOWN)
                return
            inbox.put(message)
            if message[0] == "shutdown":
                return

    threading.Thread(target=read_commands, name="commands", daemon=True).start()
    outbox = Outbox(conn)
    try:
        if runtime.text is not None:
            _serve_text(runtime, inbox, outbox)
        else:
            _serve_vectors(runtime, inbox, outbox)
    finally:
        outbox.close()
        runtime.close()


def _error(rid: str, exc: BaseException) -> list[RequestEvent]:
    if isinstance(exc, InvalidRequest | ChatTemplateError):
        return [(rid, "error", {"message": str(exc), "invalid": True})]
    return [(rid, "error", {"message": f"{type(exc).__name__}: {exc}", "invalid": False})]


def _serve_text(runtime: Any, inbox: queue.Queue[tuple[Any, ...]], outbox: Outbox) -> None:
    """The decode loop of a chat/completion model."""
    from desktop.core.engine.batcher import Batcher

    speculation = runtime.speculation()
    batcher = Batcher(runtime.text, outbox.put, speculation=speculation, draft_model=runtime.draft)
    log.info(
        "speculative decoding: %s",
        "off"
        if not speculation.enabled
        else f"drafts from {'a draft model' if runtime.draft else 'the text'}, "
        f"up to {speculation.draft_max} tokens",
    )
    while True:
        messages: list[tuple[Any, ...]] = []
        if batcher.idle:
            messages.append(inbox.get())
        while True:
            try:
                messages.append(inbox.get_nowait())
            except queue.Empty:
                break
        for message in messages:
            tag = message[0]
            if tag == "shutdown":
                batcher.close()
                return
            if tag == "cancel":
                batcher.cancel(message[1])
                outbox.forget(message[1])
                continue
            _tag, rid, op, params = message
            try:
                if op == "count":
                    outbox.put([(rid, "result", runtime.count(params))])
                    continue
                batcher.submit(runtime.prepare(rid, op, params))
            except Exception as exc:
                if not isinstance(exc, InvalidRequest | ChatTemplateError):
                    log.exception("request %s failed", rid)
                outbox.put(_error(rid, exc))
        try:
            batcher.step()
        except Exception as exc:
            # A bug in the loop: end the requests in flight with the error and keep serving.
            log.exception("decode step failed")
            batcher.abort_all(f"{type(exc).__name__}: {exc}")


def _serve_vectors(runtime: Any, inbox: queue.Queue[tuple[Any, ...]], outbox: Outbox) -> None:
    """Embedding and rerank: one request at a time, each answered in one call."""
    cancelled: set[str] = set()
    while True:
        message = inbox.get()
        tag = message[0]
        if tag == "shutdown":
            return
        if tag == "cancel":
            cancelled.add(message[1])
            continue
        _tag, rid, op, params = message
        if rid in cancelled:
            cancelled.discard(rid)
            continue
        try:
            if op == "embed":
                result = runtime.embed(params)
            elif op == "rerank":
                result = runtime.rerank(params)
            else:
                raise InvalidRequest(f"Unknown operation {op!r}.")
        except Exception as exc:
            if not isinstance(exc, InvalidRequest | ChatTemplateError):
                # A bug or a llama.cpp failure on this request; report it to the caller and
                # keep serving the others rather than taking the model down.
                log.exception("request %s failed", rid)
            outbox.put(_error(rid, exc))
            continue
        outbox.put([(rid, "result", result)])
