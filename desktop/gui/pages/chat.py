"""The Chat page: try a running chat model before wiring it into FastGPT.

The answer streams from the server's OpenAI-compatible `/v1/chat/completions`, the same route
FastGPT calls, so what works here works there. The whole conversation is sent every turn (the
server keeps no chat state), with the settings panel's system prompt and sampling values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.api.common import ModelState
from desktop.api.openai import ChatCompletionChunk, ChatMessage, ChatRequest
from desktop.api.xinference import ListedLLM, ListedModel
from desktop.client import XinDeskClient
from desktop.gui.context import GuiContext
from desktop.gui.pages.base import Page
from desktop.gui.tasks import Worker
from desktop.gui.widgets.chat_settings import ChatSettings
from desktop.gui.widgets.chat_view import ChatView, PromptEdit
from desktop.gui.widgets.common import Banner, heading, hint, say_copied

log = logging.getLogger("xindesk.gui.chat")

USER_STOPPED = "user"


class Turn(TypedDict):
    """One message of the conversation shown."""

    role: Literal["user", "assistant"]
    content: str


def is_chat_model(model: ListedModel) -> bool:
    """True for a running LLM that answers `/v1/chat/completions` (a chat template)."""
    return isinstance(model, ListedLLM) and "chat" in model.model_ability


@dataclass
class AnswerStats:
    """Figures of one streamed answer, for the line under the transcript."""

    started: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    last_token: float | None = None
    chunks: int = 0
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    finish_reason: str | None = None

    @property
    def tokens(self) -> int:
        """The server's count when it sent one, else the text pieces received (one each)."""
        return self.completion_tokens if self.completion_tokens is not None else self.chunks

    def tokens_per_second(self) -> float | None:
        if self.first_token is None or self.last_token is None or self.tokens < 2:
            return None
        elapsed = self.last_token - self.first_token
        # The first token's time is the prompt's reading; the rate counts those generated after.
        return (self.tokens - 1) / elapsed if elapsed > 0 else None


class ChatPage(Page):
    """A playground for any running chat model: streamed answers, settings, copy and clear."""

    key = "chat"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._history: list[Turn] = []
        self._models: list[ListedModel] = []
        self._wanted_uid: str | None = None
        self._loading_models = False
        self._reload_again = False
        self._list_failed = False
        # The stream in flight, if any, and what it has produced so far.
        self._worker: Worker[None] | None = None
        self._answer = ""
        self._reasoning = ""  # a thinking model's, shown above the answer
        self._stats = AnswerStats()
        self._error: str | None = None
        self._stop_requested = False
        self._prompt_mark = 0
        self._prompt_text = ""
        self._last_stats: AnswerStats | None = None
        self._demo_prompt: str | None = None

        self.title_label = heading(self)
        self.banner = Banner(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self._build_empty_state())
        self.stack.addWidget(self._build_chat())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(self.title_label)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)

        ctx.navigator.running_changed.connect(self._running_changed)
        ctx.session.changed.connect(self._session_changed)
        self.retranslate()
        self._update_buttons()

    # -- building -----------------------------------------------------------------------------

    def _build_empty_state(self) -> QWidget:
        page = QWidget(self)
        card = QFrame(page)
        card.setObjectName("card")
        card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        card.setMaximumWidth(640)
        self.empty_title = QLabel(card)
        self.empty_title.setObjectName("subheading")
        self.empty_hint = hint(card)
        self.open_models_button = QPushButton(card)
        self.open_models_button.setObjectName("primary")
        self.open_models_button.clicked.connect(lambda: self.ctx.navigator.go("models"))
        inner = QVBoxLayout(card)
        inner.setContentsMargins(24, 20, 24, 20)
        inner.addWidget(self.empty_title)
        inner.addWidget(self.empty_hint)
        inner.addSpacing(8)
        inner.addWidget(self.open_models_button, 0, Qt.AlignmentFlag.AlignLeft)
        outer = QVBoxLayout(page)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        return page

    def _build_chat(self) -> QWidget:
        page = QWidget(self)
        self.model_label = QLabel(page)
        self.model_combo = QComboBox(page)
        # Its items are the running models' names: the server's data, not words to translate.
        self.model_combo.setProperty("xindesk_data", True)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setMinimumContentsLength(24)
        self.refresh_button = QPushButton(page)
        self.refresh_button.clicked.connect(self.reload_models)
        top = QHBoxLayout()
        top.addWidget(self.model_label)
        top.addWidget(self.model_combo)
        top.addWidget(self.refresh_button)
        top.addStretch(1)

        self.view = ChatView(page)
        self.view.flushed.connect(self._show_live_stats)
        self.prompt = PromptEdit(page)
        self.prompt.setFixedHeight(self.prompt.fontMetrics().lineSpacing() * 3 + 16)
        self.prompt.submitted.connect(self.send)
        self.prompt.textChanged.connect(self._update_buttons)

        self.send_button = QPushButton(page)
        self.send_button.setObjectName("primary")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton(page)
        self.stop_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_button.clicked.connect(self.stop)
        self.clear_button = QPushButton(page)
        self.clear_button.clicked.connect(self.clear)
        self.copy_answer_button = QPushButton(page)
        self.copy_answer_button.clicked.connect(self.copy_answer)
        self.copy_chat_button = QPushButton(page)
        self.copy_chat_button.clicked.connect(self.copy_transcript)
        self.stats_label = hint(page)
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        input_row = QHBoxLayout()
        input_row.addWidget(self.prompt, 1)
        send_column = QVBoxLayout()
        send_column.addWidget(self.send_button)
        send_column.addWidget(self.stop_button)
        send_column.addStretch(1)
        input_row.addLayout(send_column)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.copy_answer_button)
        actions.addWidget(self.copy_chat_button)
        actions.addWidget(self.clear_button)

        conversation = QVBoxLayout()
        conversation.addLayout(top)
        conversation.addWidget(self.view, 1)
        conversation.addWidget(self.stats_label)
        conversation.addLayout(actions)
        conversation.addLayout(input_row)

        row = QHBoxLayout(page)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(conversation, 1)
        self.sampling = ChatSettings(page)
        row.addWidget(self.sampling)
        return page

    # -- Page ---------------------------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Chat")

    def retranslate(self) -> None:
        self.title_label.setText(self.tr("Chat"))
        self.empty_title.setText(self.tr("No chat model is running"))
        self.empty_hint.setText(
            self.tr(
                "Start a chat model on the Models page (a small one loads in seconds), then "
                "come back to talk to it here. This is the quickest way to check a model "
                "before you connect FastGPT to it."
            )
        )
        self.open_models_button.setText(self.tr("Open Models"))
        self.model_label.setText(self.tr("Model:"))
        self.refresh_button.setText(self.tr("Refresh"))
        self.refresh_button.setToolTip(self.tr("List the running chat models again"))
        self.view.setPlaceholderText(
            self.tr(
                "Type a message below and press Enter. The whole conversation is sent each "
                "time, so the model remembers what was said."
            )
        )
        self.prompt.setPlaceholderText(
            self.tr("Message the model (Enter sends, Shift+Enter starts a new line)")
        )
        self.send_button.setText(self.tr("Send"))
        self.stop_button.setText(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop the answer here (Esc)"))
        self.clear_button.setText(self.tr("Clear"))
        self.clear_button.setToolTip(self.tr("Start a new conversation"))
        self.copy_answer_button.setText(self.tr("Copy answer"))
        self.copy_answer_button.setToolTip(self.tr("Copy the last answer to the clipboard"))
        self.copy_chat_button.setText(self.tr("Copy chat"))
        self.copy_chat_button.setToolTip(self.tr("Copy the whole conversation as text"))
        self._show_stats()

    def activate(self, argument: object = None) -> None:
        if isinstance(argument, str) and argument:
            self._wanted_uid = argument
            self._select(argument)
        self.reload_models()
        if self.stack.currentIndex() == 1:
            self.prompt.setFocus()

    def prepare_screenshot(self) -> None:
        """For scripts/screenshots.py: ask the model something, so the page shows a chat."""
        self._demo_prompt = self.tr("Hello! In one sentence, what can you help me with?")
        self._send_demo_prompt()

    def _send_demo_prompt(self) -> None:
        if self._demo_prompt and self.current_uid() is not None and not self.streaming:
            self.prompt.setPlainText(self._demo_prompt)
            self._demo_prompt = None
            self.send()

    def shutdown(self) -> None:
        self.stop()
        self.view.flush()
        super().shutdown()

    # -- the model list -----------------------------------------------------------------------

    def reload_models(self) -> None:
        """Ask the server which chat models run (the answer updates the picker)."""
        if self._loading_models:
            self._reload_again = True
            return
        self._loading_models = True
        self.refresh_button.setEnabled(False)
        self.ctx.tasks.run(self.ctx.session.client.list_models, self._models_loaded, self._failed)

    def _models_loaded(self, models: list[ListedModel]) -> None:
        self._loading_models = False
        self.refresh_button.setEnabled(True)
        if self._list_failed:
            self._list_failed = False
            self.banner.clear()
        if self._reload_again:
            self._reload_again = False
            self.reload_models()
        self._models = sorted(
            (model for model in models if is_chat_model(model)), key=lambda m: m.id
        )
        current = self._wanted_uid or self.current_uid()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for model in self._models:
            uid, name = model.id, model.model_name
            label = uid if name in ("", uid) else f"{uid} · {name}"
            if model.status is ModelState.LOADING:
                label = self.tr("{0} (loading)").format(label)
            elif model.status is ModelState.ERROR:
                label = self.tr("{0} (stopped)").format(label)
            self.model_combo.addItem(label, uid)
        self.model_combo.blockSignals(False)
        if current is not None:
            self._select(current)
        # Asked for once: a model that is not (or no longer) listed is not picked later.
        self._wanted_uid = None
        if self._models or self.streaming:
            self.stack.setCurrentIndex(1)
        else:
            self.stack.setCurrentIndex(0)
        self._update_buttons()
        self._send_demo_prompt()

    def _select(self, uid: str) -> None:
        index = self.model_combo.findData(uid)
        if index >= 0:
            self.model_combo.setCurrentIndex(index)

    def current_uid(self) -> str | None:
        uid = self.model_combo.currentData()
        return str(uid) if uid else None

    def _running_changed(self) -> None:
        if self.isVisible():
            self.reload_models()

    def _session_changed(self) -> None:
        self.stop()
        if self.isVisible():
            self.reload_models()

    def _failed(self, message: str) -> None:
        self._loading_models = False
        self._reload_again = False
        self._list_failed = True
        self.refresh_button.setEnabled(True)
        self.banner.show_error(self.tr("Cannot list the running models: {0}").format(message))

    # -- sending and streaming ----------------------------------------------------------------

    @property
    def streaming(self) -> bool:
        return self._worker is not None

    def request_body(self, uid: str) -> ChatRequest:
        """The chat request for the conversation so far, with the settings panel's values."""
        conversation = [
            ChatMessage(role=turn["role"], content=turn["content"]) for turn in self._history
        ]
        return self.sampling.request(uid, conversation)

    def send(self) -> None:
        """Send the typed message with the conversation so far and stream the answer."""
        text = self.prompt.toPlainText().strip()
        uid = self.current_uid()
        if not text or uid is None or self.streaming:
            return
        self.banner.clear()
        self._reset_copy_buttons()
        self._prompt_text = self.prompt.toPlainText()
        self.prompt.clear()
        self._prompt_mark = self.view.add_user(text)
        self._history.append({"role": "user", "content": text})
        self._answer, self._reasoning, self._error = "", "", None
        self._stop_requested = False
        self._stats = AnswerStats()
        self.view.start_answer(uid)
        body = self.request_body(uid)
        client = self.ctx.session.slow_client
        log.info("chat with %s: %d messages", uid, len(body.messages))
        self._worker = self.ctx.tasks.stream(
            _stream_generator(client, body),
            self._on_chunk,
            self._on_finished,
            self._on_error,
        )
        self._show_stats()
        self._update_buttons()

    def stop(self) -> None:
        """Stop the answer being streamed (the server stops generating when the stream
        closes)."""
        if self._worker is None or self._stop_requested:
            return
        self._stop_requested = True
        self._worker.quit()
        self._show_stats()
        self._update_buttons()

    def _on_chunk(self, chunk: ChatCompletionChunk) -> None:
        if self._stop_requested:
            return
        usage = chunk.usage
        if usage is not None:
            if usage.completion_tokens is not None:
                self._stats.completion_tokens = usage.completion_tokens
            if usage.prompt_tokens is not None:
                self._stats.prompt_tokens = usage.prompt_tokens
        for choice in chunk.choices:
            thought = choice.delta.reasoning_content
            if thought:
                self._count_token()
                self._reasoning += thought
                self.view.append_reasoning(thought)
            content = choice.delta.content
            if content:
                self._count_token()
                self._answer += content
                self.view.append_answer(content)
            if choice.finish_reason:
                self._stats.finish_reason = choice.finish_reason

    def _count_token(self) -> None:
        now = time.perf_counter()
        if self._stats.first_token is None:
            self._stats.first_token = now
        self._stats.last_token = now
        self._stats.chunks += 1

    def _on_error(self, message: str) -> None:
        self._error = message

    def _on_finished(self) -> None:
        self._worker = None
        if self._stop_requested:
            self._stats.finish_reason = USER_STOPPED
            self._stats.completion_tokens = None
        if not (self._answer or self._reasoning) and (
            self._error is not None or self._stop_requested
        ):
            # Nothing came back: take the message back so it can be sent again as it was.
            self.view.remove_from(self._prompt_mark)
            self._history.pop()
            if not self.prompt.toPlainText().strip():
                self.prompt.setPlainText(self._prompt_text)
            self._last_stats = None
            if self._error is not None:
                self.banner.show_error(self._error)
                # The model may have gone away: the picker should say so.
                self.reload_models()
        else:
            self.view.finish_answer(self._answer, self._reasoning)
            self._history.append({"role": "assistant", "content": self._answer})
            self._last_stats = self._stats
            if self._error is not None:
                self.banner.show_error(self.tr("The answer was cut short: {0}").format(self._error))
        self._show_stats()
        self._update_buttons()

    # -- the figures line ---------------------------------------------------------------------

    def _show_live_stats(self) -> None:
        if self.streaming and not self._stop_requested:
            self.stats_label.setText(self.tr("Answering… {0} tokens").format(self._stats.tokens))

    def _show_stats(self) -> None:
        if self.streaming:
            if self._stop_requested:
                self.stats_label.setText(self.tr("Stopping…"))
            elif self._stats.first_token is None:
                self.stats_label.setText(self.tr("Reading the conversation…"))
            else:
                self._show_live_stats()
            return
        stats = self._last_stats
        self.stats_label.setToolTip("")
        if stats is None:
            self.stats_label.clear()
            return
        if stats.prompt_tokens is not None:
            self.stats_label.setToolTip(
                self.tr("The conversation sent to the model was {0} tokens long.").format(
                    stats.prompt_tokens
                )
            )
        parts = [self.tr("{0} tokens").format(stats.tokens)]
        rate = stats.tokens_per_second()
        if rate is not None:
            parts.append(self.tr("{0} tok/s").format(f"{rate:.1f}"))
        if stats.first_token is not None:
            parts.append(
                self.tr("first token after {0} s").format(
                    f"{stats.first_token - stats.started:.2f}"
                )
            )
        parts.append(self._finish_text(stats.finish_reason))
        self.stats_label.setText(" · ".join(parts))

    def _finish_text(self, reason: str | None) -> str:
        if reason == USER_STOPPED:
            return self.tr("stopped by you")
        if reason == "length":
            return self.tr("stopped: length (max tokens reached)")
        if reason == "stop":
            return self.tr("stopped: stop (answer complete)")
        if reason is None:
            return self.tr("stopped: unknown")
        return self.tr("stopped: {0}").format(reason)

    # -- clear and copy -----------------------------------------------------------------------

    def clear(self) -> None:
        """Forget the conversation (stopping an answer still coming)."""
        self.stop()
        if self.streaming:
            # The worker ends at its next chunk; the stop path adds the partial answer to the
            # history, so clear once it is done.
            assert self._worker is not None
            self._worker.signals.finished.connect(self.clear)
            return
        self._history.clear()
        self._last_stats = None
        self.view.clear_transcript()
        self.banner.clear()
        self._reset_copy_buttons()
        self._show_stats()
        self._update_buttons()

    def last_answer(self) -> str:
        for message in reversed(self._history):
            if message["role"] == "assistant":
                return message["content"]
        return ""

    def transcript_text(self) -> str:
        """The conversation as plain text, system prompt first."""
        parts = []
        system = self.sampling.system_prompt()
        if system:
            parts.append(self.tr("System:") + "\n" + system)
        for message in self._history:
            who = self.tr("You:") if message["role"] == "user" else self.tr("Assistant:")
            parts.append(who + "\n" + message["content"])
        return "\n\n".join(parts) + ("\n" if parts else "")

    def copy_answer(self) -> None:
        QGuiApplication.clipboard().setText(self.last_answer())
        self._reset_copy_buttons()
        say_copied(self.copy_answer_button, self.tr("Copied"), self._reset_copy_buttons)

    def copy_transcript(self) -> None:
        QGuiApplication.clipboard().setText(self.transcript_text())
        self._reset_copy_buttons()
        say_copied(self.copy_chat_button, self.tr("Copied"), self._reset_copy_buttons)

    def _reset_copy_buttons(self) -> None:
        self.copy_answer_button.setText(self.tr("Copy answer"))
        self.copy_chat_button.setText(self.tr("Copy chat"))

    def _update_buttons(self) -> None:
        streaming = self.streaming
        has_model = self.current_uid() is not None
        self.send_button.setVisible(not streaming)
        self.stop_button.setVisible(streaming)
        self.stop_button.setEnabled(streaming and not self._stop_requested)
        self.send_button.setEnabled(has_model and bool(self.prompt.toPlainText().strip()))
        has_answer = any(message["role"] == "assistant" for message in self._history)
        self.copy_answer_button.setEnabled(has_answer)
        self.copy_chat_button.setEnabled(bool(self._history))
        self.clear_button.setEnabled(bool(self._history) or streaming)


def _stream_generator(
    client: XinDeskClient, body: ChatRequest
) -> Callable[[], Generator[ChatCompletionChunk, None, None]]:
    """The stream for `Tasks.stream`. When the worker stops it (the Stop button) it closes this
    generator, which closes the HTTP response: the server sees the client go and stops
    generating at once."""

    def generate() -> Generator[ChatCompletionChunk, None, None]:
        yield from client.chat_stream(body)

    return generate
