"""The chat transcript (messages as coloured bubbles) and the prompt box under it.

A streamed answer arrives a token at a time; re-rendering the transcript per token would make a
long conversation stutter. `ChatView` appends the new text at the end of the answer's bubble
through one text cursor, and at most every `FLUSH_MS`, so the window redraws ~20 times a second
whatever the model's speed. When the answer is complete its bubble is rendered once as Markdown
(lists, code, emphasis), the way chat models write.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QTextCharFormat,
    QTextCursor,
    QTextFrame,
    QTextFrameFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextBrowser, QWidget

FLUSH_MS = 50
_BUBBLE_INDENT = 72


def with_line_breaks(markdown: str) -> str:
    """`markdown` with each single line break kept as a break: Markdown joins the lines of a
    paragraph, but a model that writes a poem or an address line by line means them as lines.
    Fenced code is left as it is."""
    lines = markdown.split("\n")
    fenced = False
    out = []
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if not fenced and line.strip() and following.strip():
            # Two trailing spaces: Markdown's hard line break.
            line = line.rstrip() + "  "
        out.append(line)
    return "\n".join(out)


def _bubble_format(background: str, border: str, *, user: bool) -> QTextFrameFormat:
    frame = QTextFrameFormat()
    frame.setBackground(QBrush(QColor(background)))
    frame.setBorder(1)
    frame.setBorderBrush(QBrush(QColor(border)))
    frame.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
    frame.setPadding(8)
    frame.setTopMargin(6)
    frame.setBottomMargin(6)
    # The user's messages sit to the right, the model's to the left, as in any messenger.
    if user:
        frame.setLeftMargin(_BUBBLE_INDENT)
    else:
        frame.setRightMargin(_BUBBLE_INDENT)
    return frame


class ChatView(QTextBrowser):
    """A read-only transcript: the user's messages and the model's streamed answers.

    Signals:
        flushed(): buffered answer text was just drawn (the page updates its live figures).
    """

    flushed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatTranscript")
        self.setOpenExternalLinks(True)
        # Text waiting to be drawn, in order: (True, reasoning) or (False, answer).
        self._pending: list[tuple[bool, str]] = []
        self._last_was_reasoning = False
        self._answer_frame: QTextFrame | None = None
        self._answer_cursor: QTextCursor | None = None
        self._answer_start = 0
        self._flush_timer = QTimer(self)
        self._flush_timer.setObjectName("chatFlush")
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush)
        self._plain = QTextCharFormat()
        self._header = QTextCharFormat()
        self._header.setForeground(QBrush(QColor("#64748b")))
        self._header.setFontWeight(QFont.Weight.DemiBold)
        self._header.setFontPointSize(max(self.font().pointSizeF() - 1, 7))
        # A thinking model's reasoning: quieter than the answer, above it.
        self._thought = QTextCharFormat()
        self._thought.setForeground(QBrush(QColor("#64748b")))
        self._thought.setFontItalic(True)

    # -- adding messages ----------------------------------------------------------------------

    def add_user(self, text: str) -> int:
        """Show the user's message; returns a mark for `remove_from` (to take it back)."""
        self.flush()
        mark = self._end_cursor().position()
        cursor = self._new_bubble(_bubble_format("#dbeafe", "#bfdbfe", user=True))
        cursor.insertText(text, self._plain)
        self._scroll_to_end()
        return mark

    def start_answer(self, header: str) -> None:
        """Open the bubble a streamed answer goes into, titled `header` (the model's name)."""
        self.flush()
        cursor = self._new_bubble(_bubble_format("#f8fafc", "#e2e8f0", user=False))
        self._answer_frame = cursor.currentFrame()
        cursor.insertText(header, self._header)
        cursor.insertBlock()
        cursor.setCharFormat(self._plain)
        self._answer_start = cursor.position()
        self._answer_cursor = cursor
        self._scroll_to_end()

    def append_answer(self, text: str) -> None:
        """Add streamed text to the open answer; it is drawn within `FLUSH_MS`."""
        self._append(False, text)

    def append_reasoning(self, text: str) -> None:
        """Add streamed reasoning of a thinking model to the open answer, above its text."""
        self._append(True, text)

    def _append(self, reasoning: bool, text: str) -> None:
        if self._answer_cursor is None or not text:
            return
        self._pending.append((reasoning, text))
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Draw the text buffered since the last flush."""
        self._flush_timer.stop()
        cursor = self._answer_cursor
        if cursor is None or not self._pending:
            return
        follow = self._at_end()
        for reasoning, text in self._pending:
            if self._last_was_reasoning and not reasoning:
                cursor.insertBlock()  # the answer starts below the reasoning
            cursor.insertText(text, self._thought if reasoning else self._plain)
            self._last_was_reasoning = reasoning
        self._pending = []
        if follow:
            self._scroll_to_end()
        self.flushed.emit()

    def finish_answer(self, markdown: str | None = None, reasoning: str = "") -> None:
        """Close the open answer; with `markdown`, draw it once more as formatted text, under
        the reasoning (kept as it came, in its quieter format)."""
        self.flush()
        cursor, frame = self._answer_cursor, self._answer_frame
        self._answer_cursor = self._answer_frame = None
        self._last_was_reasoning = False
        if cursor is None or frame is None or not markdown or not markdown.strip():
            return
        follow = self._at_end()
        cursor.setPosition(self._answer_start)
        cursor.setPosition(frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if reasoning.strip():
            cursor.insertText(reasoning.strip(), self._thought)
            cursor.insertBlock()
            cursor.setCharFormat(self._plain)
        cursor.insertMarkdown(with_line_breaks(markdown))
        self._style_code_blocks(frame)
        if follow:
            self._scroll_to_end()

    def remove_from(self, mark: int) -> None:
        """Take back everything from `mark` on (a message that could not be sent)."""
        self.flush()
        self._answer_cursor = self._answer_frame = None
        cursor = self._end_cursor()
        cursor.setPosition(mark, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()

    def clear_transcript(self) -> None:
        self._flush_timer.stop()
        self._pending = []
        self._last_was_reasoning = False
        self._answer_cursor = self._answer_frame = None
        self.clear()

    @property
    def answering(self) -> bool:
        return self._answer_cursor is not None

    # -- helpers ------------------------------------------------------------------------------

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _new_bubble(self, frame_format: QTextFrameFormat) -> QTextCursor:
        cursor = self._end_cursor()
        cursor.insertFrame(frame_format)
        return cursor

    def _style_code_blocks(self, frame: QTextFrame) -> None:
        """Markdown's code blocks in a fixed-width font on a tint, as code is read."""
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).families()
        block = self.document().findBlock(self._answer_start)
        while block.isValid() and block.position() <= frame.lastPosition():
            if block.blockFormat().nonBreakableLines():
                # Markdown code blocks come out as non-breakable lines.
                cursor = QTextCursor(block)
                block_format = block.blockFormat()
                block_format.setBackground(QBrush(QColor("#eef2f7")))
                cursor.setBlockFormat(block_format)
                chars = QTextCharFormat()
                chars.setFontFamilies(mono)
                cursor.select(QTextCursor.SelectionType.BlockUnderCursor)
                cursor.mergeCharFormat(chars)
            block = block.next()

    def _at_end(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())


class PromptEdit(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter starts a new line.

    Signals:
        submitted(): the user pressed Enter.
    """

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatPrompt")
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            super().keyPressEvent(event)
            return
        event.accept()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            # Qt's own Shift+Enter inserts a line separator (U+2028), not a line break.
            self.insertPlainText("\n")
        else:
            self.submitted.emit()
