"""Widgets several pages use: a copyable value, a message banner, a section title."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)


class CopyField(QWidget):
    """A read-only value with a Copy button (endpoint URLs, keys, snippets' one-liners)."""

    def __init__(self, value: str = "", *, secret: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.edit = QLineEdit(value, self)
        self.edit.setReadOnly(True)
        if secret:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.copy_button = QPushButton(self)
        self.copy_button.clicked.connect(self.copy)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.copy_button)
        self.retranslate()

    def value(self) -> str:
        return self.edit.text()

    def set_value(self, value: str) -> None:
        self.edit.setText(value)

    def set_revealed(self, revealed: bool) -> None:
        self.edit.setEchoMode(
            QLineEdit.EchoMode.Normal if revealed else QLineEdit.EchoMode.Password
        )

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.edit.text())
        self.copy_button.setText(self.tr("Copied"))

    def retranslate(self) -> None:
        self.copy_button.setText(self.tr("Copy"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class Banner(QFrame):
    """A one-line message above a page's content: an error a person can act on, or a notice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton(self)
        self.action.hide()
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action)
        self.hide()

    def show_error(self, message: str) -> None:
        self.setProperty("kind", "error")
        self._show(message)

    def show_info(self, message: str) -> None:
        self.setProperty("kind", "info")
        self._show(message)

    def _show(self, message: str) -> None:
        self.label.setText(message)
        # The style sheet colours the banner by its "kind" property; re-polish to apply it.
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()

    def clear(self) -> None:
        self.label.clear()
        self.action.hide()
        self.hide()


def heading(parent: QWidget | None = None) -> QLabel:
    """A page or section title (styled by the `heading` object name)."""
    label = QLabel(parent)
    label.setObjectName("heading")
    return label
