"""Background work for the window: every blocking API call runs on Qt's thread pool.

The window never waits on the network. A page hands a function to `Tasks.run` (or a generator to
`Tasks.stream`) with callbacks; the callbacks run on the GUI thread. A stream can be asked to
stop between two items, which is how a chat answer is cancelled.

This is a small `QRunnable` of our own rather than superqt's workers: importing superqt costs
about 0.2 s on the start path (it loads all of its widgets), for two functions we need.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from shiboken6 import isValid

from desktop.client import ClientError

log = logging.getLogger("xindesk.gui.tasks")

T = TypeVar("T")


def error_text(exc: BaseException) -> str:
    """The message a person reads: the server's `detail`, or the exception's own words."""
    if isinstance(exc, ClientError):
        return exc.detail
    text = str(exc).strip()
    return text or type(exc).__name__


class WorkerSignals(QObject):
    """A worker's way back to the GUI thread (this object lives there, so emits are queued).

    Signals:
        returned(object): the function's result.
        yielded(object): one item of a stream.
        errored(object): the exception that ended the work.
        finished(): always last, after returned / errored / the last item.
    """

    returned = Signal(object)
    yielded = Signal(object)
    errored = Signal(object)
    finished = Signal()


class Worker(QRunnable, Generic[T]):
    """Runs a function, or iterates a generator, on the thread pool."""

    def __init__(
        self,
        fn: Callable[[], T] | None = None,
        gen: Callable[[], Generator[Any, None, Any]] | None = None,
    ) -> None:
        super().__init__()
        self._fn = fn
        self._gen = gen
        self._stop = threading.Event()
        self.signals = WorkerSignals()

    def quit(self) -> None:
        """Stop a stream before its next item (a plain function runs to its end)."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        try:
            if self._gen is not None:
                items = self._gen()
                try:
                    for item in items:
                        if self._stop.is_set():
                            break
                        self.signals.yielded.emit(item)
                finally:
                    # Closing the generator runs its cleanup now: a streamed HTTP response is
                    # closed, so the server stops generating at once.
                    items.close()
            elif self._fn is not None:
                self.signals.returned.emit(self._fn())
        except Exception as exc:  # noqa: BLE001 (any failure goes to the page, not lost in a thread)
            self.signals.errored.emit(exc)
        finally:
            self.signals.finished.emit()


class Tasks(QObject):
    """Starts and tracks the workers of one window, so closing it can wait for all of them."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workers: set[Worker[Any]] = set()
        self._pool = QThreadPool.globalInstance()

    def run(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> Worker[T]:
        """Call `fn` off the GUI thread; `on_done(result)` or `on_error(message)` follow."""
        worker: Worker[T] = Worker(fn=fn)
        if on_done is not None:
            worker.signals.returned.connect(on_done)
        return self._start(worker, on_error)

    def stream(
        self,
        gen: Callable[[], Generator[Any, None, Any]],
        on_item: Callable[[Any], None],
        on_done: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> Worker[None]:
        """Iterate `gen()` off the GUI thread, handing each item to `on_item` in order."""
        worker: Worker[None] = Worker(gen=gen)
        worker.signals.yielded.connect(on_item)
        if on_done is not None:
            worker.signals.finished.connect(on_done)
        return self._start(worker, on_error)

    def _start(self, worker: Worker[T], on_error: Callable[[str], None] | None) -> Worker[T]:
        # Kept here until `finished`: the pool does not keep the Python object alive.
        self._workers.add(worker)
        worker.setAutoDelete(False)
        worker.signals.finished.connect(lambda: self._workers.discard(worker))

        def report(exc: Exception) -> None:
            log.info("background call failed: %s", exc)
            # Qt forgets a deleted object's own slots, not this closure: a page closed while
            # its call ran must not be told.
            owner = getattr(on_error, "__self__", None)
            if on_error is not None and (not isinstance(owner, QObject) or isValid(owner)):
                on_error(error_text(exc))

        worker.signals.errored.connect(report)
        self._pool.start(worker)
        return worker

    @property
    def running(self) -> int:
        return len(self._workers)

    def stop_all(self, timeout_ms: int = 10_000) -> bool:
        """Ask streams to stop and wait for every worker; True when none is left running."""
        for worker in list(self._workers):
            worker.quit()
        done = self._pool.waitForDone(timeout_ms)
        # The workers' queued `finished` signals would arrive after we return; we are done
        # with them whatever they say.
        self._workers.clear()
        return done
