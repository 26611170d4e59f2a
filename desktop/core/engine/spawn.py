"""Starting a model's worker process, and the command line that makes a process one.

On macOS and Linux the worker is this same program started again with one end of a socket
pair: `python -m desktop --model-worker FD`, or the frozen app's executable with those
arguments. multiprocessing's "spawn" did this job before, and on these systems it also runs
one more Python process, the resource tracker (13 MiB), for shared-memory objects the worker
never makes.

Windows cannot hand a socket to a child as a plain file descriptor, so there the worker is
still started with "spawn" (which has no resource tracker on Windows).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol, TypeAlias

from desktop.core.engine import worker_side
from desktop.core.engine.protocol import WorkerSpec

if sys.platform == "win32":
    from multiprocessing.connection import PipeConnection

    # multiprocessing's pipe on Windows: the same methods as a socket's Connection.
    WorkerConnection: TypeAlias = Connection | PipeConnection
else:
    WorkerConnection: TypeAlias = Connection

log = logging.getLogger("xindesk.engine")

WORKER_ARG = "--model-worker"


class WorkerProcess(Protocol):
    """What the server needs of a worker process, however it was started."""

    @property
    def pid(self) -> int | None: ...

    def alive(self) -> bool: ...

    def join(self, timeout: float) -> int | None:
        """Wait up to `timeout` seconds; the exit code, or None while it still runs."""

    def kill(self) -> None: ...


class _Child:
    """A worker started as a plain child process (macOS, Linux)."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen

    @property
    def pid(self) -> int | None:
        return self._popen.pid

    def alive(self) -> bool:
        return self._popen.poll() is None

    def join(self, timeout: float) -> int | None:
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.alive():
            self._popen.kill()


class _Spawned:
    """A worker started with multiprocessing's spawn (Windows)."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self._process = process

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.is_alive()

    def join(self, timeout: float) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()


def worker_command(fd: int) -> list[str]:
    """The command line that runs a model worker on the socket `fd`."""
    if getattr(sys, "frozen", False):
        # The frozen app's executable is the `python -m desktop` of a bundle.
        return [sys.executable, WORKER_ARG, str(fd)]
    return [sys.executable, "-m", "desktop", WORKER_ARG, str(fd)]


def _child_environment() -> dict[str, str]:
    environ = dict(os.environ)
    if not getattr(sys, "frozen", False):
        # The worker must run the very code the server runs, even from a checkout that was
        # never installed (multiprocessing passed the parent's sys.path on for the same reason).
        root = str(Path(worker_side.__file__).resolve().parents[3])
        current = environ.get("PYTHONPATH")
        environ["PYTHONPATH"] = root if not current else os.pathsep.join([root, current])
    return environ


def start(spec: WorkerSpec) -> tuple[WorkerProcess, WorkerConnection]:
    """Start a worker for `spec`; returns the process and the server's end of its pipe.

    The worker loads the model and then says "loaded" or "load_failed" on the pipe.

    Raises:
        OSError: If the process could not be started.
    """
    if os.name == "nt":
        return _spawn(spec)
    ours, theirs = socket.socketpair()
    try:
        fd = theirs.fileno()
        popen = subprocess.Popen(
            worker_command(fd),
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            env=_child_environment(),
        )
    except OSError:
        ours.close()
        raise
    finally:
        theirs.close()
    conn = Connection(ours.detach())
    child = _Child(popen)
    try:
        # The spec goes over the pipe, not the command line: it can name private paths, and
        # `ps` shows every user the command line.
        conn.send(spec)
    except OSError:
        child.kill()
        child.join(5)
        conn.close()
        raise
    return child, conn


def _spawn(spec: WorkerSpec) -> tuple[WorkerProcess, WorkerConnection]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=True)
    process = ctx.Process(
        target=worker_side.main, args=(child, spec), name=f"xindesk-model-{spec.uid}", daemon=True
    )
    process.start()
    child.close()
    return _Spawned(process), parent


def run_if_worker(argv: list[str]) -> None:
    """Serve as a model worker and exit when `argv` says this process is one; else return."""
    if len(argv) != 3 or argv[1] != WORKER_ARG:
        return
    # Ctrl+C in a terminal reaches the whole process group. The server decides when its
    # workers stop (it asks them on its way out, and a worker whose pipe closes exits), so a
    # worker killed by the same keypress would only show a traceback and a "crashed" model.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(argv[2]))
    try:
        spec = conn.recv()
    except (EOFError, OSError):
        # The server went away before it said what to load.
        raise SystemExit(1) from None
    if not isinstance(spec, WorkerSpec):
        raise SystemExit(f"a model worker expects a WorkerSpec first, got {type(spec).__name__}")
    worker_side.main(conn, spec)
    raise SystemExit(0)
