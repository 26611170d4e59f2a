"""The buttons on one row of a table (a download, a running model)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import ClassVar

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget


class RowActions(QWidget):
    """One button per action in `ACTIONS`; subclasses say which show for a row's state.

    Subclasses set `ACTIONS`, `NAME` (the buttons' object names are `<NAME>_<action>`),
    optionally `REQUESTS` (an action that asks the server for another one, as "retry" is a
    "resume"), and implement `retranslate`.

    Signals:
        requested(str, str): the action asked for and the row's key.
    """

    requested = Signal(str, str)

    ACTIONS: ClassVar[tuple[str, ...]] = ()
    NAME: ClassVar[str] = "row"
    REQUESTS: ClassVar[Mapping[str, str]] = {}

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.buttons: dict[str, QPushButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(4)
        for action in self.ACTIONS:
            button = QPushButton(self)
            button.setObjectName(f"{self.NAME}_{action}")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            wanted = self.REQUESTS.get(action, action)
            button.clicked.connect(lambda _=False, a=wanted: self.requested.emit(a, self.key))
            layout.addWidget(button)
            self.buttons[action] = button
        layout.addStretch(1)
        self.retranslate()

    def show_only(
        self, shown: Collection[str], *, busy: bool, usable_while_busy: Collection[str] = ()
    ) -> None:
        """Show the buttons of `shown`; while a call runs (`busy`) only the usable ones work."""
        for action, button in self.buttons.items():
            button.setVisible(action in shown)
            button.setEnabled(not busy or action in usable_while_busy)

    def visible_actions(self) -> list[str]:
        return [action for action, button in self.buttons.items() if not button.isHidden()]

    def set_texts(self, texts: dict[str, tuple[str, str]]) -> None:
        """Set each action's button text and tooltip."""
        for action, (text, tip) in texts.items():
            self.buttons[action].setText(text)
            self.buttons[action].setToolTip(tip)

    def retranslate(self) -> None:
        """Set the buttons' texts (`set_texts` with every action's words)."""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
