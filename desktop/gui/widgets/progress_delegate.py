"""A table cell drawn as a progress bar: the figure on the left, a thin bar after it.

Views keep their models free of painting: a model answers a fraction (0..1) in one role and,
optionally, a colour in another; this delegate draws them. A cell whose fraction is None is
drawn as plain text, so one column can hold a bar while downloading and a word once done.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

BAR_HEIGHT = 8
TEXT_GAP = 8
TRACK_COLOUR = QColor("#e2e8f0")
FILL_COLOUR = QColor("#2563eb")


class ProgressDelegate(QStyledItemDelegate):
    """Paints `index.data(progress_role)` as a bar with the DisplayRole text before it.

    Args:
        progress_role: the role whose value is a fraction 0..1, or None for a plain text cell.
        colour_role: a role answering the bar's QColor (paused, failed ...); None: the accent.
        text_width: room kept for the text on the left of the bar, in pixels.
    """

    def __init__(
        self,
        progress_role: int,
        colour_role: int | None = None,
        *,
        text_width: int = 150,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._progress_role = progress_role
        self._colour_role = colour_role
        self._text_width = text_width

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        value = index.data(self._progress_role)
        if not isinstance(value, int | float):
            super().paint(painter, option, index)
            return
        fraction = min(1.0, max(0.0, float(value)))
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect: QRect = option.rect
        palette: QPalette = option.palette
        painter.save()
        try:
            if selected:
                painter.fillRect(rect, palette.highlight())
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            inner = rect.adjusted(6, 0, -6, 0)
            text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
            text_room = min(self._text_width, inner.width() // 2)
            text_rect = QRect(inner.left(), inner.top(), text_room, inner.height())
            role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
            painter.setPen(palette.color(role))
            elided = painter.fontMetrics().elidedText(
                text, Qt.TextElideMode.ElideRight, text_rect.width()
            )
            painter.drawText(
                text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), elided
            )
            bar_left = text_rect.right() + TEXT_GAP
            track = QRectF(
                bar_left,
                inner.center().y() - BAR_HEIGHT / 2,
                max(0, inner.right() - bar_left),
                BAR_HEIGHT,
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(TRACK_COLOUR)
            painter.drawRoundedRect(track, BAR_HEIGHT / 2, BAR_HEIGHT / 2)
            if fraction > 0:
                fill = QRectF(track)
                fill.setWidth(max(BAR_HEIGHT, track.width() * fraction))
                painter.setBrush(self._colour(index))
                painter.drawRoundedRect(fill, BAR_HEIGHT / 2, BAR_HEIGHT / 2)
        finally:
            painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        if isinstance(index.data(self._progress_role), int | float):
            # Room for the figure plus a bar long enough to read at a glance.
            hint.setWidth(max(hint.width(), self._text_width + TEXT_GAP + 120))
        return hint

    def _colour(self, index: QModelIndex | QPersistentModelIndex) -> QColor:
        if self._colour_role is not None:
            colour = index.data(self._colour_role)
            if isinstance(colour, QColor):
                return colour
        return FILL_COLOUR
