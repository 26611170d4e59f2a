"""Background work for the window: every blocking API call runs on Qt's thread pool.

The window never waits on the network. A page hands a function to `Tasks.run` (or a generator to
`Tasks.stream`) with callbacks; the callbacks run on the GUI thread. Workers are superqt's
`QRunnable`s: a generator worker can be asked to stop between two items, which is how a chat
stream is cancelled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThreadPool
from superqt.utils import FunctionWorker, GeneratorWorker, WorkerBase, create_worker

from desktop.client import ClientError

log = logging.getLogger("xindesk.gui.tasks")

T = TypeVar("T")
Y = TypeVar("Y")


def error_text(exc: BaseException) -> str:
    """The message a person reads: the server's `detail`, or the exception's own words."""
    if isinstance(exc, ClientError):
        return exc.detail
    text = str(exc).strip()
    return text or type(exc).__name__


class Tasks(QObject):
    """Starts and tracks the workers of one window, so closing it can wait for all of them."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workers: set[WorkerBase[Any]] = set()

    def run(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> FunctionWorker[T]:
        """Call `fn` off the GUI thread; `on_done(result)` or `on_error(message)` follow."""
        worker: FunctionWorker[T] = create_worker(fn, _start_thread=False)
        self._track(worker, on_error)
        if on_done is not None:
            worker.returned.connect(on_done)
        worker.start()
        return worker

    def stream(
        self,
        gen: Callable[[], Generator[Y, None, Any]],
        on_item: Callable[[Y], None],
        on_done: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> GeneratorWorker[Y, None, Any]:
        """Iterate `gen()` off the GUI thread, handing each item to `on_item` in order."""
        worker: GeneratorWorker[Y, None, Any] = create_worker(gen, _start_thread=False)
        self._track(worker, on_error)
        worker.yielded.connect(on_item)
        if on_done is not None:
            done = on_done
            worker.finished.connect(lambda *_: done())
        worker.start()
        return worker

    def _track(self, worker: WorkerBase[Any], on_error: Callable[[str], None] | None) -> None:
        self._workers.add(worker)
        worker.finished.connect(lambda *_: self._workers.discard(worker))

        def report(exc: Exception) -> None:
            log.info("background call failed: %s", exc)
            if on_error is not None:
                on_error(error_text(exc))

        worker.errored.connect(report)

    @property
    def running(self) -> int:
        return len(self._workers)

    def stop_all(self, timeout_ms: int = 10_000) -> bool:
        """Ask streams to stop and wait for every worker; True when none is left running."""
        for worker in list(self._workers):
            worker.quit()
        return QThreadPool.globalInstance().waitForDone(timeout_ms)
