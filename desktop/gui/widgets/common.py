"""Widgets several pages use: a copyable value, a message banner, titles, hints, cards and
read-only tables."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

#: How long a button (or a status line) says "Copied" before it reads as before.
COPIED_MS = 2000


def say_copied(where: QAbstractButton | QLabel, copied: str, restore: Callable[[], None]) -> None:
    """Show `copied` on `where`, then `restore` it after `COPIED_MS` (the timer dies with the
    widget), so a later copy is seen as news too."""
    where.setText(copied)
    QTimer.singleShot(COPIED_MS, where, restore)


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
        say_copied(self.copy_button, self.tr("Copied"), self.retranslate)

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
        # Every message can be put away; the page clears it by itself once things work.
        self.dismiss_button = QPushButton(self)
        self.dismiss_button.setObjectName("bannerDismiss")
        self.dismiss_button.setFlat(True)
        self.dismiss_button.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action)
        layout.addWidget(self.dismiss_button)
        self.retranslate()
        self.hide()

    def retranslate(self) -> None:
        self.dismiss_button.setText(self.tr("Dismiss"))
        self.dismiss_button.setToolTip(self.tr("Hide this message"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

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


def hint(parent: QWidget | None = None) -> QLabel:
    """A wrapped line of small grey explanation (styled by the `hint` object name)."""
    label = QLabel(parent)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def section(parent: QWidget) -> tuple[QFrame, QLabel, QVBoxLayout]:
    """A card with a title on top: the frame, its (empty) title label and its layout."""
    frame = QFrame(parent)
    frame.setObjectName("card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(16, 12, 16, 14)
    layout.setSpacing(8)
    title = QLabel(frame)
    title.setObjectName("subheading")
    layout.addWidget(title)
    return frame, title, layout


def scrolling_column(page: QWidget) -> tuple[QWidget, QVBoxLayout]:
    """Fill `page` with a frameless scroll area; return its content widget and column layout."""
    scroll = QScrollArea(page)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    content = QWidget(scroll)
    scroll.setWidget(content)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
    layout = QVBoxLayout(content)
    layout.setContentsMargins(24, 18, 24, 18)
    layout.setSpacing(14)
    return content, layout


def table_view(parent: QWidget, name: str) -> QTableView:
    """A read-only table whose rows are picked one at a time (a list of records)."""
    view = QTableView(parent)
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    return view


def fit_columns(view: QTableView, stretch: int) -> None:
    """Make every column as wide as its contents but `stretch`, which takes the room left."""
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
