"""A call to the server about some rows, whose answer is dropped if its page is gone."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject


class PendingCall(QObject):
    """One call to the server about some rows (jobs, models), answered on the GUI thread.

    It is a child of the page: if the page is gone before the answer comes, so is this object,
    and Qt drops the answer instead of calling into a deleted widget. Pass `done` and `failed`
    to `Tasks.run` as its callbacks.
    """

    def __init__(
        self,
        keys: list[str],
        on_done: Callable[[list[str], object], None],
        on_error: Callable[[list[str], str], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.keys = keys
        self._on_done = on_done
        self._on_error = on_error

    def done(self, result: object) -> None:
        self._on_done(self.keys, result)
        self.deleteLater()

    def failed(self, message: str) -> None:
        self._on_error(self.keys, message)
        self.deleteLater()
