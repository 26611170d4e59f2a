"""Find the texts a person sees that did not come through the translation.

`PseudoTranslator` turns every translatable string into "⟦source⟧"; `visible_texts` lists what
a widget tree shows (labels, buttons, group and tab titles, placeholders, combo box items,
table headers, spin box special texts, tooltips) so a test can ask which texts are not
bracketed, or, with the real Chinese installed, which contain no Chinese. Widgets that show the
server's data (model names, paths, the server's own messages) carry the `xindesk_data` property
and are left out, with everything inside them; `xindesk_data_tooltip` leaves out only a
widget's tooltip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTranslator
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QTabBar,
    QTableView,
    QTextEdit,
    QTreeView,
    QWidget,
)

BRACKET = "⟦"
DATA_PROPERTY = "xindesk_data"
# Our words with the server's data in the tooltip only (e.g. the estimate's assumptions).
DATA_TOOLTIP_PROPERTY = "xindesk_data_tooltip"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Example addresses (placeholders) and each language's name written in that language read the
# same whatever the window's language.
_URL = re.compile(r"(https?|socks5)://\S+")
LANGUAGE_NAMES = frozenset({"English", "简体中文"})


class PseudoTranslator(QTranslator):
    """Translates every string to itself in brackets: what still shows without brackets was
    not set through tr() in retranslate()."""

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str:
        return f"{BRACKET}{source}⟧"

    def isEmpty(self) -> bool:
        return False


def unbracketed_labels(root: QWidget) -> list[str]:
    """The texts of the labels and buttons `root` shows that did not come through tr()
    (with `PseudoTranslator` installed)."""
    widgets = [*root.findChildren(QLabel), *root.findChildren(QAbstractButton)]
    return [
        w.text()
        for w in widgets
        if w.isVisibleTo(root) and w.text() and not w.text().startswith(BRACKET)
    ]


@dataclass(frozen=True)
class Shown:
    """One text on screen and where it is (for a readable failure)."""

    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text!r}"


def same_in_every_language(text: str) -> bool:
    return text in LANGUAGE_NAMES or bool(_URL.fullmatch(text))


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def plain(text: str) -> str:
    """The text a person reads (a rich-text label's markup removed)."""
    if GuiQt.mightBeRichText(text):
        text = QTextDocumentFragment.fromHtml(text).toPlainText()
    return text.strip()


def is_data(widget: QWidget, root: QWidget) -> bool:
    """Whether the widget, or a parent of it below `root`, shows the server's data."""
    current: QWidget | None = widget
    while current is not None:
        if current.property(DATA_PROPERTY):
            return True
        if current is root:
            return False
        current = current.parentWidget()
    return False


def _name(widget: QWidget) -> str:
    name = widget.objectName()
    return f"{type(widget).__name__}#{name}" if name else type(widget).__name__


def _texts_of(widget: QWidget) -> list[str]:
    texts: list[str] = []
    if not widget.property(DATA_TOOLTIP_PROPERTY):
        texts.append(widget.toolTip())
    if isinstance(widget, QLabel | QAbstractButton):
        texts.append(widget.text())
    if isinstance(widget, QGroupBox):
        texts.append(widget.title())
    if isinstance(widget, QTabBar):
        texts.extend(widget.tabText(i) for i in range(widget.count()) if widget.isTabVisible(i))
    if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
        texts.append(widget.placeholderText())
    if isinstance(widget, QComboBox) and not widget.isEditable():
        texts.extend(widget.itemText(i) for i in range(widget.count()))
    if isinstance(widget, QAbstractSpinBox):
        texts.append(widget.specialValueText())
        if hasattr(widget, "suffix"):
            texts.extend((widget.prefix(), widget.suffix()))
    if isinstance(widget, QListWidget):
        texts.extend(widget.item(i).text() for i in range(widget.count()))
    if isinstance(widget, QTableView | QTreeView):
        texts.extend(_header_texts(widget))
    return texts


def _header_texts(view: QAbstractItemView) -> list[str]:
    model = view.model()
    header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
    if model is None or header.isHidden():
        return []
    return [
        str(model.headerData(column, Qt.Orientation.Horizontal) or "")
        for column in range(model.columnCount())
        if not header.isSectionHidden(column)
    ]


def visible_texts(root: QWidget) -> list[Shown]:
    """Every text `root` shows now (hidden widgets and the server's data left out)."""
    found: list[Shown] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if widget is not root and not widget.isVisibleTo(root):
            continue
        if is_data(widget, root):
            continue
        for text in _texts_of(widget):
            text = plain(text)
            if text:
                found.append(Shown(_name(widget), text))
    return found


def untranslated(shown: list[Shown]) -> list[str]:
    """With the pseudo translator installed: the texts that did not go through tr()."""
    return [
        str(item)
        for item in shown
        if not item.text.startswith(BRACKET) and not same_in_every_language(item.text)
    ]
