"""The local `xindesk serve` the window runs as a child process, or finds already running.

The window is only a client: it starts the same server a headless user runs, waits until
`/status` answers, and stops it on quit only if it started it. A server already listening on
the port (started by hand, or by another window) is attached to and left running.
"""

from __future__ import annotations

import enum
import logging
import sys
from collections import deque
from pathlib import Path

import httpx
from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

log = logging.getLogger("xindesk.gui.server")

_POLL_MS = 250
_START_TIMEOUT_MS = 90_000
_STOP_TIMEOUT_MS = 15_000
_LOG_LINES = 5000


class LocalServerStatus(enum.Enum):
    """Where the window's local server child is (the server's own state is the server's)."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    ATTACHED = "attached"  # someone else's server on the port: we use it, never stop it
    FAILED = "failed"


def server_command(port: int) -> tuple[str, list[str]]:
    """The program and arguments that run the server, from a checkout or a frozen app."""
    if getattr(sys, "frozen", False):
        # The packaged app's own executable understands the same subcommands as `xindesk`,
        # except on Windows, where the windowed executable has no stdout or stderr to log to:
        # build.spec ships a console twin beside it for the commands.
        program = Path(sys.executable)
        console_twin = program.with_name("xindesk-cli.exe")
        if sys.platform == "win32" and console_twin.exists():
            program = console_twin
        return str(program), ["serve", "--port", str(port)]
    return sys.executable, ["-m", "desktop", "serve", "--port", str(port)]


def answers_status(url: str, timeout: float = 1.0) -> bool:
    """True when an XinDesk or Xinference server answers at `url` (any HTTP reply counts)."""
    try:
        httpx.get(f"{url}/status", timeout=timeout)
    except httpx.HTTPError:
        return False
    return True


class LocalServer(QObject):
    """Runs and watches the local server process.

    Signals:
        state_changed(LocalServerStatus): started, ready, attached, stopped or failed.
        log_line(str): one line of the child's output (stdout and stderr merged).
    """

    state_changed = Signal(object)
    log_line = Signal(str)

    def __init__(
        self,
        port: int,
        parent: QObject | None = None,
        *,
        environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._environment = dict(environment or {})
        self._state = LocalServerStatus.STOPPED
        self._error = ""
        self._lines: deque[str] = deque(maxlen=_LOG_LINES)
        self._process: QProcess | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(_POLL_MS)
        self._poll.timeout.connect(self._check_ready)
        self._waited_ms = 0
        self._buffer = b""
        self._restarting = False
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.setInterval(_STOP_TIMEOUT_MS)
        self._kill_timer.timeout.connect(self._kill_stuck)

    @property
    def state(self) -> LocalServerStatus:
        return self._state

    @property
    def error(self) -> str:
        """Why the server failed to start (with the last lines it printed)."""
        return self._error

    @property
    def owned(self) -> bool:
        """True when this window started the server (and so stops it on quit)."""
        return self._process is not None

    def lines(self) -> list[str]:
        return list(self._lines)

    def start(self) -> None:
        """Attach to a server already on the port, else start one and wait for `/status`."""
        if self._state in (
            LocalServerStatus.STARTING,
            LocalServerStatus.RUNNING,
            LocalServerStatus.ATTACHED,
        ):
            return
        if answers_status(self.url):
            log.info("a server already answers at %s: attaching", self.url)
            self._set_state(LocalServerStatus.ATTACHED)
            return
        program, args = server_command(self.port)
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        env = QProcessEnvironment.systemEnvironment()
        for name, value in self._environment.items():
            env.insert(name, value)
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        self._error = ""
        self._waited_ms = 0
        log.info("starting the local server: %s %s", program, " ".join(args))
        self._set_state(LocalServerStatus.STARTING)
        process.start(program, args)
        self._poll.start()

    def stop(self) -> None:
        """Stop the server if this window started it; an attached server keeps running."""
        self._poll.stop()
        self._kill_timer.stop()
        process = self._process
        if process is None:
            if self._state is LocalServerStatus.ATTACHED:
                self._set_state(LocalServerStatus.STOPPED)
            return
        # Our own stop is not a failure: `finished` fires while we wait below.
        process.finished.disconnect(self._on_finished)
        self._restarting = False
        if process.state() != QProcess.ProcessState.NotRunning:
            # SIGTERM lets uvicorn run the lifespan's shutdown: workers stop, downloads save state.
            process.terminate()
            if not process.waitForFinished(_STOP_TIMEOUT_MS):
                log.warning("the server did not stop in time; killing it")
                process.kill()
                process.waitForFinished(5000)
        self._drop_process()
        self._set_state(LocalServerStatus.STOPPED)

    def restart(self) -> None:
        """Stop the server and start it again, without blocking the window while it stops."""
        process = self._process
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            self.stop()
            self.start()
            return
        self._poll.stop()
        self._restarting = True
        self._set_state(LocalServerStatus.STARTING)
        process.terminate()
        # A server that ignores SIGTERM for this long is killed (its models stop either way).
        self._kill_timer.start()

    def set_api_key(self, key: str | None) -> None:
        """The key the server gets at its next start, for when no keychain can hold it."""
        if key:
            self._environment["XINDESK_API_KEY"] = key
        else:
            self._environment.pop("XINDESK_API_KEY", None)

    @property
    def has_restart_key(self) -> bool:
        """True when the next start is given a key by this window (see `set_api_key`)."""
        return bool(self._environment.get("XINDESK_API_KEY"))

    def _kill_stuck(self) -> None:
        if self._process is not None:
            log.warning("the server did not stop in time; killing it")
            self._process.kill()

    def _drop_process(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.errorOccurred.disconnect(self._on_error)
            process.deleteLater()

    def _read_output(self) -> None:
        if self._process is None:
            return
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *complete, self._buffer = self._buffer.split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", errors="replace").rstrip("\r")
            self._lines.append(line)
            self.log_line.emit(line)

    def _check_ready(self) -> None:
        self._waited_ms += _POLL_MS
        if answers_status(self.url, timeout=0.2):
            self._poll.stop()
            log.info("the local server is ready at %s", self.url)
            self._set_state(LocalServerStatus.RUNNING)
        elif self._waited_ms >= _START_TIMEOUT_MS:
            self._poll.stop()
            self._fail(f"The server did not answer within {_START_TIMEOUT_MS // 1000} s.")

    def _on_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._poll.stop()
        self._read_output()
        self._drop_process()
        if self._restarting:
            self._restarting = False
            self._kill_timer.stop()
            self._set_state(LocalServerStatus.STOPPED)
            self.start()
            return
        self._fail(f"The server stopped (exit code {code}).")

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error is QProcess.ProcessError.FailedToStart:
            self._poll.stop()
            self._drop_process()
            self._fail("The server program could not be started.")

    def _fail(self, reason: str) -> None:
        tail = "\n".join(list(self._lines)[-15:])
        self._error = f"{reason}\n{tail}".strip()
        log.warning("local server failed: %s", reason)
        self._set_state(LocalServerStatus.FAILED)

    def _set_state(self, state: LocalServerStatus) -> None:
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state)
