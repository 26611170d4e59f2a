"""The model worker process: loads one model and serves the requests the server sends it.

A crash in here (llama.cpp aborting, the OS killing the process for memory) ends only this model:
the server sees the pipe close and reports the model as stopped with an error.
"""

from __future__ import annotations

import logging
import queue
import threading
from multiprocessing.connection import Connection
from typing import Any

from desktop.core.engine.protocol import WorkerSpec
from desktop.core.errors import ChatTemplateError, InvalidRequest, XinDeskError

log = logging.getLogger("xindesk.worker")

_SHUTDOWN = object()


def _load_error_message(spec: WorkerSpec, exc: BaseException, said: list[str]) -> str:
    import llama_cpp

    # llama.cpp's own error lines say why (unknown architecture, a tensor of the wrong size).
    reason = f" llama.cpp said: {' '.join(said[-3:])}" if said else ""
    return (
        f"llama.cpp could not load {spec.model_path}: {exc}. The file may be damaged or "
        f"incomplete, too big for the memory left, or of an architecture newer than this "
        f"llama.cpp build (llama-cpp-python {llama_cpp.__version__}).{reason}"
    )


def main(conn: Connection, spec: WorkerSpec) -> None:
    """Process entry point (multiprocessing target)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from desktop.core.build_info import read_build_info
    from desktop.core.engine.offload import LlamaLogCapture, model_placement
    from desktop.core.engine.runtime import ModelRuntime
    from desktop.core.native_libs import import_llama_cpp

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

    inbox: queue.Queue[Any] = queue.Queue()
    cancelled: set[str] = set()
    lock = threading.Lock()

    def read_commands() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                # The server is gone: nothing left to serve.
                inbox.put(_SHUTDOWN)
                return
            if message[0] == "cancel":
                with lock:
                    cancelled.add(message[1])
            elif message[0] == "shutdown":
                inbox.put(_SHUTDOWN)
                return
            else:
                inbox.put(message)

    threading.Thread(target=read_commands, name="commands", daemon=True).start()
    while True:
        item = inbox.get()
        if item is _SHUTDOWN:
            break
        _kind, rid, op, params = item
        with lock:
            if rid in cancelled:
                cancelled.discard(rid)
                continue

        def is_cancelled(rid: str = rid) -> bool:
            with lock:
                return rid in cancelled

        try:
            _serve(runtime, conn, rid, op, params, is_cancelled)
        except (InvalidRequest, ChatTemplateError) as exc:
            conn.send(("event", rid, "error", {"message": str(exc), "invalid": True}))
        except Exception as exc:
            # Anything else is a bug or a llama.cpp failure on this request; report it to the
            # caller and keep serving the others rather than taking the model down.
            log.exception("request %s failed", rid)
            conn.send(
                (
                    "event",
                    rid,
                    "error",
                    {"message": f"{type(exc).__name__}: {exc}", "invalid": False},
                )
            )
        finally:
            with lock:
                cancelled.discard(rid)


def _serve(
    runtime: Any, conn: Connection, rid: str, op: str, params: dict[str, Any], is_cancelled: Any
) -> None:
    if op == "chat":
        for kind, payload in runtime.chat(params, is_cancelled):
            conn.send(("event", rid, kind, payload))
    elif op == "complete":
        for kind, payload in runtime.complete(params, is_cancelled):
            conn.send(("event", rid, kind, payload))
    elif op == "embed":
        conn.send(("event", rid, "result", runtime.embed(params)))
    elif op == "rerank":
        conn.send(("event", rid, "result", runtime.rerank(params)))
    else:
        raise InvalidRequest(f"Unknown operation {op!r}.")
