"""A refresh loop that asks the server for fresh figures at a fixed rate.

One timer per page, and never two requests in flight: a slow answer is not piled on. The page
starts it when shown and stops it when hidden, so an idle window asks nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import QObject, QTimer

from desktop.gui.tasks import Tasks

T = TypeVar("T")


class Poller(QObject, Generic[T]):
    """Calls `fetch` off the GUI thread every `interval_ms` and hands the result to `apply`."""

    def __init__(
        self,
        tasks: Tasks,
        fetch: Callable[[], T],
        apply: Callable[[T], None],
        on_error: Callable[[str], None],
        interval_ms: int = 1000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fetch = fetch
        self._apply = apply
        self._on_error = on_error
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll_now)

    def start(self) -> None:
        self._timer.start()
        self.poll_now()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def poll_now(self) -> None:
        if self._busy:
            return
        self._busy = True
        self._tasks.run(self._fetch, self._done, self._failed)

    def _done(self, result: T) -> None:
        self._busy = False
        self._apply(result)

    def _failed(self, message: str) -> None:
        self._busy = False
        self._on_error(message)
