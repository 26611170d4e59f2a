"""The Chat page's settings panel: the system prompt and the sampling values sent with every
turn (temperature, top P, the answer's length, stop sequences)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from desktop.api.openai import ChatMessage, ChatRequest
from desktop.gui.widgets.common import hint

DEFAULT_TEMPERATURE = 0.7
DEFAULT_TOP_P = 0.95
DEFAULT_MAX_TOKENS = 1024
SETTINGS_WIDTH = 290


def parse_stops(text: str) -> list[str]:
    """Stop sequences from the box: one per line or separated by commas; `\\n` is a line
    break (so a blank line can be a stop)."""
    stops = []
    for line in text.splitlines():
        for part in line.split(","):
            stop = part.strip().replace("\\n", "\n")
            if stop and stop not in stops:
                stops.append(stop)
    return stops


class ChatSettings(QScrollArea):
    """The panel beside the conversation, narrow and scrolling when the window is short."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        panel = QFrame()
        panel.setObjectName("chatSettings")
        self.title = QLabel(panel)
        self.title.setObjectName("subheading")
        self.system_edit = QPlainTextEdit(panel)
        self.system_edit.setFixedHeight(self.system_edit.fontMetrics().lineSpacing() * 4 + 14)
        self.temperature = QDoubleSpinBox(panel)
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setDecimals(2)
        self.temperature.setValue(DEFAULT_TEMPERATURE)
        self.top_p = QDoubleSpinBox(panel)
        self.top_p.setRange(0.0, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setDecimals(2)
        self.top_p.setValue(DEFAULT_TOP_P)
        self.max_tokens = QSpinBox(panel)
        self.max_tokens.setRange(0, 131_072)
        self.max_tokens.setSingleStep(256)
        self.max_tokens.setValue(DEFAULT_MAX_TOKENS)
        self.stop_edit = QPlainTextEdit(panel)
        self.stop_edit.setFixedHeight(self.stop_edit.fontMetrics().lineSpacing() * 3 + 14)

        self.system_label = QLabel(panel)
        self.temperature_label = QLabel(panel)
        self.top_p_label = QLabel(panel)
        self.max_tokens_label = QLabel(panel)
        self.stop_label = QLabel(panel)
        self.temperature_hint = hint(panel)
        self.top_p_hint = hint(panel)
        self.max_tokens_hint = hint(panel)
        self.stop_hint = hint(panel)
        self.system_hint = hint(panel)

        form = QVBoxLayout(panel)
        form.setContentsMargins(12, 4, 4, 4)
        form.addWidget(self.title)
        form.addWidget(self.system_label)
        form.addWidget(self.system_edit)
        form.addWidget(self.system_hint)
        # Label and field on one line, the hint under them (a form layout cuts off wrapped
        # rows that span both columns).
        for label, number, explanation in (
            (self.temperature_label, self.temperature, self.temperature_hint),
            (self.top_p_label, self.top_p, self.top_p_hint),
            (self.max_tokens_label, self.max_tokens, self.max_tokens_hint),
        ):
            line = QHBoxLayout()
            line.addWidget(label, 1)
            number.setMinimumWidth(110)
            line.addWidget(number)
            form.addLayout(line)
            form.addWidget(explanation)
        form.addWidget(self.stop_label)
        form.addWidget(self.stop_edit)
        form.addWidget(self.stop_hint)
        form.addStretch(1)

        self.setWidget(panel)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(SETTINGS_WIDTH)
        # Room for the scroll bar a short window needs: with wrapped hints (height for width)
        # the scroll area would not narrow the panel for it, and the fields' right edge would
        # be cut off.
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        panel.setFixedWidth(SETTINGS_WIDTH - bar - 2)
        self.retranslate()

    def system_prompt(self) -> str:
        return self.system_edit.toPlainText().strip()

    def request(self, uid: str, conversation: list[ChatMessage]) -> ChatRequest:
        """The chat request for `conversation` with this panel's system prompt and values."""
        system = self.system_prompt()
        messages = [ChatMessage(role="system", content=system)] if system else []
        body = ChatRequest(
            model=uid,
            messages=messages + conversation,
            temperature=round(self.temperature.value(), 2),
            top_p=round(self.top_p.value(), 2),
            # The usage chunk gives the exact token count for the figures line.
            stream_options={"include_usage": True},
        )
        if self.max_tokens.value() > 0:
            body.max_tokens = self.max_tokens.value()
        stops = parse_stops(self.stop_edit.toPlainText())
        if stops:
            body.stop = stops
        return body

    def retranslate(self) -> None:
        self.title.setText(self.tr("Settings"))
        self.system_label.setText(self.tr("System prompt"))
        self.system_edit.setPlaceholderText(self.tr("For example: You are a helpful assistant."))
        self.system_hint.setText(
            self.tr("Instructions the model follows for the whole conversation.")
        )
        self.temperature_label.setText(self.tr("Temperature"))
        self.temperature_hint.setText(
            self.tr("Higher gives more varied answers, lower more focused and repeatable ones.")
        )
        self.top_p_label.setText(self.tr("Top P"))
        self.top_p_hint.setText(
            self.tr("Only the likeliest words, up to this share of probability, are considered.")
        )
        self.max_tokens_label.setText(self.tr("Max tokens"))
        self.max_tokens.setSpecialValueText(self.tr("No limit"))
        self.max_tokens_hint.setText(
            self.tr("The answer stops after this many tokens (a token is about ¾ of a word).")
        )
        self.stop_label.setText(self.tr("Stop sequences"))
        self.stop_edit.setPlaceholderText(self.tr("One per line, or separated by commas"))
        self.stop_hint.setText(
            self.tr(
                "The answer ends where the model writes one of these. Write \\n for a line break."
            )
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
