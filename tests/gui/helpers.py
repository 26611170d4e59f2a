"""Helpers the GUI tests share: model checks, answering message boxes, driving table pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QAbstractItemModel, Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop.gui.app import DesktopApp
from desktop.gui.pages.base import Page
from desktop.gui.pages.table_page import TablePage

P = TypeVar("P", bound=Page)


def check_model(qtmodeltester: ModelTester, model: QAbstractItemModel) -> QAbstractItemModelTester:
    """Watch `model` with pytest-qt's Python tester (asserts) and Qt's own (warnings, which
    `assert_model_clean` turns into failures); return Qt's tester to keep it alive."""
    qtmodeltester.check(model, force_py=True)
    return QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)


def assert_model_clean(qtlog: Any, model: QAbstractItemModel) -> None:
    """No failure from Qt's model tester, and every cell's value of the type its role wants."""
    failures = [r.message for r in qtlog.records if "FAIL" in r.message]
    assert not failures, failures
    typed: list[tuple[int, tuple[type, ...]]] = [
        (Qt.ItemDataRole.DisplayRole, (str,)),
        (Qt.ItemDataRole.ToolTipRole, (str,)),
        (Qt.ItemDataRole.ForegroundRole, (QColor, QBrush)),
        (Qt.ItemDataRole.TextAlignmentRole, (int,)),
    ]
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            for role, types in typed:
                value = model.data(index, role)
                assert value is None or isinstance(value, types), (row, column, role, value)


def answer_next_dialog(pick: Callable[[QMessageBox], QAbstractButton | None]) -> list[str]:
    """Click `pick(box)` in the next modal message box; return the texts of boxes answered."""
    seen: list[str] = []

    def attempt(tries: int) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            button = pick(box)
            assert button is not None, [b.text() for b in box.buttons()]
            button.click()
        elif tries:
            QTimer.singleShot(20, lambda: attempt(tries - 1))

    QTimer.singleShot(0, lambda: attempt(250))
    return seen


def button_named(text: str) -> Callable[[QMessageBox], QAbstractButton | None]:
    """For `answer_next_dialog`: the box's button with that text."""
    return lambda box: next((b for b in box.buttons() if b.text() == text), None)


def open_page(app: DesktopApp, page_type: type[P]) -> P:
    """Show the page of that class in the window, as a click in the sidebar does."""
    app.window.open_page(page_type.key)
    page = app.window.pages[page_type.key]
    assert isinstance(page, page_type)
    return page


def cell(page: TablePage[Any, Any], key: str, column: int) -> str:
    """The text in `column` of the row for `key` ("" when the row is not listed)."""
    row = page.model.row_of(key)
    return str(page.model.data(page.model.index(row, column))) if row >= 0 else ""


def click(qtbot: QtBot, page: TablePage[Any, Any], key: str, action: str) -> None:
    """Click the `action` button of the row for `key`; it must be shown and enabled."""
    actions = page.actions_for(key)
    assert actions is not None
    button = actions.buttons[action]
    assert button.isVisible(), action
    assert button.isEnabled(), action
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def leave_by_empty_state(app: DesktopApp, qtbot: QtBot, page: TablePage[Any, Any]) -> str:
    """Wait for the page's empty state and click its button: the Models page opens and the
    hidden page stops asking the server. Return the empty state's sentence."""
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty_page, timeout=10_000)
    assert page.empty_label.isVisible()
    sentence = page.empty_label.text()
    qtbot.mouseClick(page.empty_page.button, Qt.MouseButton.LeftButton)
    current = app.window.current_page()
    assert current is not None
    assert current.key == "models"
    assert not page.polling
    return sentence
