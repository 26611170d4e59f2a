"""Wheel turns over choice and number boxes scroll the page, unless the box was clicked into.

A person scrolling a long page (Connect, Settings) passes the mouse over combo boxes and spin
boxes; Qt's default lets each one it crosses take the wheel and change its value, so a scroll
can switch the export format six times in two seconds without anyone noticing. The guard sends
those turns to the scroll area instead. A box with the keyboard focus (clicked or tabbed into)
takes the wheel as usual.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QComboBox, QWidget

_GUARDED = (QComboBox, QAbstractSpinBox)


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


class WheelGuard(QObject):
    """An application event filter (see the module docstring); install it once per app."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if not isinstance(watched, _GUARDED):
            return False
        if kind == QEvent.Type.Polish and watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
            # A wheel turn must not give the box the focus (and with it the wheel).
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            return False
        if kind != QEvent.Type.Wheel or watched.hasFocus():
            return False
        area = _scroll_area_of(watched)
        if area is not None:
            QCoreApplication.sendEvent(area.viewport(), event)
        return True
