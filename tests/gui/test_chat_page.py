"""The Chat page against a real server running the real Gemma 3 270M."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import TypeAdapter
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from desktop.api.xinference import ListedModel
from desktop.client import XinDeskClient
from desktop.gui.app import DesktopApp
from desktop.gui.pages.chat import AnswerStats, ChatPage, is_chat_model
from desktop.gui.widgets.chat_settings import parse_stops
from desktop.gui.widgets.chat_view import PromptEdit, with_line_breaks
from tests.fixtures.server import ServerProcess
from tests.fixtures.thinking_gguf import ANSWER, REASONING, write_thinking_gguf
from tests.gui.i18n_helpers import PseudoTranslator, unbracketed_labels

UID = "chat-gemma"
ANSWER_TIMEOUT_MS = 90_000


@pytest.fixture
def client(gui_server: ServerProcess) -> Iterator[XinDeskClient]:
    with XinDeskClient(gui_server.url, timeout=120) as plain:
        yield plain


@pytest.fixture
def chat_gemma(gui_server: ServerProcess, gemma_gguf: Path, client: XinDeskClient) -> str:
    """Gemma running as `chat-gemma` (launched again if a test terminated it)."""
    if not any(model.id == UID for model in client.list_models()):
        gui_server.launch_gguf(gemma_gguf, UID)
    return UID


def listed(fields: dict[str, object]) -> ListedModel:
    """A running model as `GET /v1/models` lists it, with these fields."""
    return TypeAdapter(ListedModel).validate_python({"id": "m", "model_name": "m", **fields})


def open_chat(desktop: DesktopApp, qtbot: QtBot, uid: str) -> ChatPage:
    desktop.window.open_page("chat", uid)
    page = desktop.window.pages["chat"]
    assert isinstance(page, ChatPage)
    qtbot.waitUntil(lambda: page.current_uid() == uid, timeout=10_000)
    assert page.stack.currentIndex() == 1
    return page


def send(qtbot: QtBot, page: ChatPage, text: str) -> None:
    page.prompt.setFocus()
    qtbot.keyClicks(page.prompt, text)
    qtbot.mouseClick(page.send_button, Qt.MouseButton.LeftButton)
    assert page.streaming


def wait_answer(qtbot: QtBot, page: ChatPage) -> None:
    qtbot.waitUntil(lambda: not page.streaming, timeout=ANSWER_TIMEOUT_MS)


def direct_answer(url: str, body: dict[str, object], timeout: float = 120) -> dict[str, object]:
    response = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=timeout)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


# -- without a server --------------------------------------------------------------------------


def test_stop_sequences_are_read_by_line_and_by_comma() -> None:
    assert parse_stops("") == []
    assert parse_stops("User:\n###, END\n\n  \\n\\n  ") == ["User:", "###", "END", "\n\n"]
    assert parse_stops("a, a\na") == ["a"]


def test_only_running_llms_with_a_chat_template_are_offered() -> None:
    assert is_chat_model(listed({"model_type": "LLM", "model_ability": ["generate", "chat"]}))
    assert not is_chat_model(listed({"model_type": "LLM", "model_ability": ["generate"]}))
    assert not is_chat_model(listed({"model_type": "embedding", "model_ability": None}))


def test_the_rate_counts_the_tokens_after_the_first() -> None:
    stats = AnswerStats(started=0.0, first_token=1.0, last_token=3.0, chunks=7)
    assert stats.tokens == 7
    assert stats.tokens_per_second() == pytest.approx(3.0)
    stats.completion_tokens = 9
    assert stats.tokens_per_second() == pytest.approx(4.0)
    assert AnswerStats(first_token=1.0, last_token=1.0, chunks=1).tokens_per_second() is None


def test_single_line_breaks_survive_markdown_but_code_is_left_alone() -> None:
    text = "Roses are red\nViolets are blue\n\n```\nx = 1\ny = 2\n```"
    assert with_line_breaks(text) == ("Roses are red  \nViolets are blue\n\n```\nx = 1\ny = 2\n```")


def test_enter_sends_and_shift_enter_starts_a_new_line(qtbot: QtBot) -> None:
    edit = PromptEdit()
    qtbot.addWidget(edit)
    sent: list[str] = []
    edit.submitted.connect(lambda: sent.append(edit.toPlainText()))
    qtbot.keyClicks(edit, "first")
    qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(edit, "second")
    assert edit.toPlainText() == "first\nsecond"
    assert sent == []
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert sent == ["first\nsecond"]


# -- against the server ------------------------------------------------------------------------


def test_without_a_chat_model_the_page_says_so_and_opens_models(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    gui_server: ServerProcess,
    client: XinDeskClient,
    tiny_models: dict[str, Path],
) -> None:
    for model in client.list_models():
        client.terminate(model.id)
    # A running embedding model is no chat model: the page still has nothing to offer.
    gui_server.launch_gguf(
        tiny_models["embedding"], "chat-test-embed", model_name="tiny-embed", model_type="embedding"
    )
    try:
        desktop_app.window.open_page("chat")
        page = desktop_app.window.pages["chat"]
        assert isinstance(page, ChatPage)
        qtbot.waitUntil(lambda: page.refresh_button.isEnabled(), timeout=10_000)
        assert page.stack.currentIndex() == 0
        assert page.empty_title.isVisible()
        assert page.model_combo.count() == 0
        qtbot.mouseClick(page.open_models_button, Qt.MouseButton.LeftButton)
        current = desktop_app.window.current_page()
        assert current is not None
        assert current.key == "models"
    finally:
        client.terminate("chat-test-embed")


@pytest.mark.slow
def test_an_answer_streams_in_with_its_figures_and_the_settings_reach_the_model(
    desktop_app: DesktopApp, qtbot: QtBot, gui_server: ServerProcess, chat_gemma: str
) -> None:
    page = open_chat(desktop_app, qtbot, chat_gemma)
    page.sampling.system_edit.setPlainText("You are a terse assistant.")
    page.sampling.temperature.setValue(0.0)
    page.sampling.max_tokens.setValue(5)
    send(qtbot, page, "Name three colours.")
    assert page.stop_button.isVisible()
    assert not page.send_button.isVisible()
    wait_answer(qtbot, page)

    answer = page.last_answer()
    assert answer.strip()
    assert "Name three colours." in page.view.toPlainText()
    first_word = answer.split()[0]
    assert first_word in page.view.toPlainText()
    stats = page.stats_label.text()
    assert "5 tokens" in stats
    assert "tok/s" in stats
    assert "length" in stats
    assert page.send_button.isVisible()
    assert not page.banner.isVisible()

    # Greedy sampling (temperature 0) with the same five-token limit gives the same words
    # when asked directly: the system prompt, temperature and max_tokens reached the model.
    direct = direct_answer(
        gui_server.url,
        {
            "model": chat_gemma,
            "messages": [
                {"role": "system", "content": "You are a terse assistant."},
                {"role": "user", "content": "Name three colours."},
            ],
            "temperature": 0.0,
            "max_tokens": 5,
        },
    )
    choice = direct["choices"][0]  # type: ignore[index]
    assert choice["message"]["content"] == answer
    assert choice["finish_reason"] == "length"

    # The next turn sends the conversation so far, so the model reads a longer prompt.
    first_prompt = page._last_stats.prompt_tokens if page._last_stats else None
    assert first_prompt
    qtbot.keyClicks(page.prompt, "And two more?")
    qtbot.keyClick(page.prompt, Qt.Key.Key_Return)
    wait_answer(qtbot, page)
    second = page._last_stats
    assert second is not None
    assert second.prompt_tokens is not None
    assert second.prompt_tokens > first_prompt + 5
    assert [m["role"] for m in page._history] == ["user", "assistant", "user", "assistant"]
    assert "And two more?" in page.view.toPlainText()


@pytest.mark.slow
def test_stop_ends_a_long_answer_here_and_on_the_server(
    desktop_app: DesktopApp, qtbot: QtBot, gui_server: ServerProcess, chat_gemma: str
) -> None:
    page = open_chat(desktop_app, qtbot, chat_gemma)
    # Greedy sampling: this model goes on for hundreds of tokens here, every time.
    page.sampling.temperature.setValue(0.0)
    page.sampling.max_tokens.setValue(2000)
    send(qtbot, page, "Tell me a very long story about a dragon.")
    qtbot.waitUntil(lambda: "Answering" in page.stats_label.text(), timeout=ANSWER_TIMEOUT_MS)
    qtbot.mouseClick(page.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.streaming, timeout=10_000)
    assert desktop_app.ctx.tasks.running == 0
    assert "stopped by you" in page.stats_label.text(), (
        page.stats_label.text(),
        page.banner.label.text(),
    )
    partial = page.last_answer()
    assert partial
    assert page._history[-1] == {"role": "assistant", "content": partial}
    # The model serves one request at a time: a 2000-token answer still running would hold
    # this one for minutes, so an answer within 30 s shows the server stopped generating.
    direct = direct_answer(
        gui_server.url,
        {"model": chat_gemma, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1},
        timeout=30,
    )
    assert direct["choices"]


@pytest.mark.slow
def test_copy_and_clear(desktop_app: DesktopApp, qtbot: QtBot, chat_gemma: str) -> None:
    page = open_chat(desktop_app, qtbot, chat_gemma)
    assert not page.copy_answer_button.isEnabled()
    page.sampling.max_tokens.setValue(4)
    send(qtbot, page, "Say hello.")
    wait_answer(qtbot, page)
    answer = page.last_answer()
    assert answer

    qtbot.mouseClick(page.copy_answer_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == answer
    assert page.copy_answer_button.text() == "Copied"
    qtbot.mouseClick(page.copy_chat_button, Qt.MouseButton.LeftButton)
    transcript = QGuiApplication.clipboard().text()
    assert transcript.startswith("You:\nSay hello.")
    assert f"Assistant:\n{answer}" in transcript

    qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)
    assert page.view.toPlainText().strip() == ""
    assert page._history == []
    assert page.stats_label.text() == ""
    assert not page.copy_answer_button.isEnabled()
    assert not page.clear_button.isEnabled()


@pytest.mark.slow
def test_a_model_gone_before_sending_shows_the_servers_words(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    gui_server: ServerProcess,
    client: XinDeskClient,
    chat_gemma: str,
) -> None:
    page = open_chat(desktop_app, qtbot, chat_gemma)
    client.terminate(chat_gemma)
    response = httpx.post(
        f"{gui_server.url}/v1/chat/completions",
        json={"model": chat_gemma, "messages": [{"role": "user", "content": "Hi"}]},
        timeout=30,
    )
    assert response.status_code >= 400
    detail = response.json()["detail"]

    send(qtbot, page, "Are you there?")
    qtbot.waitUntil(lambda: not page.streaming, timeout=10_000)
    assert page.banner.isVisible()
    assert page.banner.label.text() == detail
    # The message was not answered: it is back in the box to send again, not in the history.
    assert page.prompt.toPlainText() == "Are you there?"
    assert page._history == []
    assert "Are you there?" not in page.view.toPlainText()
    # The page looked again and found no chat model left.
    qtbot.waitUntil(lambda: page.stack.currentIndex() == 0, timeout=10_000)


def test_every_text_of_the_page_follows_a_language_switch(
    desktop_app: DesktopApp, qtbot: QtBot
) -> None:
    desktop_app.window.open_page("chat")
    page = desktop_app.window.pages["chat"]
    assert isinstance(page, ChatPage)
    pseudo = PseudoTranslator()
    QCoreApplication.installTranslator(pseudo)
    try:
        qtbot.waitUntil(lambda: page.title_label.text() == "⟦Chat⟧", timeout=5_000)
        for index in (0, 1):  # the empty state and the conversation
            page.stack.setCurrentIndex(index)
            assert unbracketed_labels(page) == []
        for edit in (page.prompt, page.sampling.system_edit, page.sampling.stop_edit):
            assert edit.placeholderText().startswith("⟦")
        assert page.sampling.max_tokens.specialValueText() == "⟦No limit⟧"
    finally:
        QCoreApplication.removeTranslator(pseudo)
    qtbot.waitUntil(lambda: page.title_label.text() == "Chat", timeout=5_000)


@pytest.mark.slow
def test_a_thinking_model_shows_its_reasoning_above_the_answer(
    desktop_app: DesktopApp,
    qtbot: QtBot,
    gui_server: ServerProcess,
    client: XinDeskClient,
    tmp_path: Path,
) -> None:
    uid = "thinker"
    if not any(model.id == uid for model in client.list_models()):
        path = write_thinking_gguf(tmp_path / "thinker.gguf", opens_block=False)
        gui_server.launch_gguf(path, uid, model_name="deepseek-r1-distill-qwen", n_ctx=512)
    page = open_chat(desktop_app, qtbot, uid)
    page.sampling.temperature.setValue(0.0)
    send(qtbot, page, "Hi")
    wait_answer(qtbot, page)

    assert page.last_answer() == ANSWER
    shown = page.view.toPlainText()
    assert shown.index(REASONING) < shown.index(ANSWER)
    assert "<think>" not in shown
    assert "</think>" not in shown
    # The reasoning is drawn in its quieter format; the answer is not.
    document = page.view.document()
    found = document.find(REASONING)
    assert found.charFormat().fontItalic()
    assert not document.find(ANSWER).charFormat().fontItalic()
    # Only the answer goes back to the model in the next turn.
    assert page._history[-1] == {"role": "assistant", "content": ANSWER}
