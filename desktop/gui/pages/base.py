"""What every page of the window has in common."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QWidget

from desktop.gui.context import GuiContext


class Page(QWidget):
    """A page in the window's sidebar.

    Subclasses build their widgets in `__init__`, set every visible string in `retranslate()`
    (called again on a language switch), load data in `activate()` and stop their timers in
    `deactivate()`.
    """

    key: ClassVar[str] = ""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def title(self) -> str:
        """The page's name in the sidebar (translated)."""
        raise NotImplementedError

    def retranslate(self) -> None:
        """Set every visible text again in the current language."""

    def activate(self, argument: object = None) -> None:
        """The page is shown (with an argument when another page opened it)."""

    def deactivate(self) -> None:
        """The page is hidden: stop polling."""

    def shutdown(self) -> None:
        """The window is closing: stop everything this page started."""
        self.deactivate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
