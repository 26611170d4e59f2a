"""Thinking models' reasoning, split from their answer.

Qwen3, the DeepSeek-R1 distills and their kin write their chain of thought between tags
(`<think>` ... `</think>`) before the answer. Clients read it apart: OpenAI-style APIs as
`reasoning_content` (FastGPT, the DeepSeek API, Xinference, llama-server), so the answer a
person sees, and the text a knowledge-base pipeline parses, holds no tags and no thoughts.

`ReasoningSplit` wraps an answer shape (`answers`): text inside the tags goes out as
`reasoning` events, the rest to the wrapped shape. It works on the text as it streams, so a tag
split across tokens is held back until it is whole (or proves not to be a tag). A template that
opens the block in the prompt itself (the R1 distills end their prompt with `<think>\\n`) makes
the model start inside it: `inside=True`.
"""

from __future__ import annotations

from enum import Enum, auto
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.core.engine.answers import AnswerShape, Event

#: The tags of the families whose registration names none but that say they reason.
DEFAULT_TAGS = ("<think>", "</think>")


class _Where(Enum):
    BEFORE = auto()  # nothing but whitespace yet: the model may still open the block
    INSIDE = auto()  # in the reasoning
    CLOSED = auto()  # just after the closing tag: the whitespace before the answer goes
    ANSWER = auto()  # the answer: everything goes to the wrapped shape


def starts_inside(prompt: str, open_tag: str) -> bool:
    """Whether a rendered prompt leaves the model inside an opened reasoning block."""
    return prompt.rstrip().endswith(open_tag)


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of `text` that is the start of `tag` (held back: the
    next token may complete the tag)."""
    for size in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ReasoningSplit:
    """Reasoning as `reasoning` events, the answer through `inner` (see the module docstring).

    Args:
        inner: The shape of the answer after the reasoning (plain text or tool calls).
        tags: The opening and closing tags.
        inside: The prompt opened the block: the model's first words are reasoning.

    The decode loop feeds the text of each token as it is taken, so the feeds that come before
    the answer starts count the reasoning's tokens (its tags included) for `reasoning_tokens`.
    """

    def __init__(
        self,
        inner: AnswerShape,
        tags: tuple[str, str],
        *,
        inside: bool,
    ) -> None:
        self._inner = inner
        self._open, self._close = tags
        self._where = _Where.INSIDE if inside else _Where.BEFORE
        self._held = ""
        self._reasoning: list[str] = []
        self._tokens = 0

    def feed(self, text: str) -> list[Event]:
        if self._where in (_Where.BEFORE, _Where.INSIDE):
            self._tokens += 1
        self._held += text
        events: list[Event] = []
        while True:
            if self._where is _Where.BEFORE:
                start = self._held.lstrip()
                if start.startswith(self._open):
                    self._held = start[len(self._open) :].lstrip()
                    self._where = _Where.INSIDE
                    continue
                if self._open.startswith(start):
                    return events  # whitespace or the tag's first characters: wait
                self._where = _Where.ANSWER
            elif self._where is _Where.INSIDE:
                end = self._held.find(self._close)
                if end >= 0:
                    self._think(self._held[:end], events)
                    self._held = self._held[end + len(self._close) :]
                    self._where = _Where.CLOSED
                    continue
                keep = _partial_suffix(self._held, self._close)
                self._think(self._held[: len(self._held) - keep], events)
                self._held = self._held[len(self._held) - keep :]
                return events
            elif self._where is _Where.CLOSED:
                self._held = self._held.lstrip()
                if not self._held:
                    return events
                self._where = _Where.ANSWER
            else:
                held, self._held = self._held, ""
                events.extend(self._inner.feed(held))
                return events

    def finish(self, done: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        held, self._held = self._held, ""
        if self._where is _Where.INSIDE:
            # Cut off while thinking (max_tokens, a stop word): what came is reasoning, and
            # the finish reason says why there is no answer.
            self._think(held, events)
        elif self._where is _Where.BEFORE:
            events.extend(self._inner.feed(held))  # only whitespace came
        if self._reasoning:
            done = _with_reasoning_tokens(done, self._tokens)
        events.extend(self._inner.finish(done))
        return events

    def _think(self, text: str, events: list[Event]) -> None:
        if not self._reasoning:
            text = text.lstrip()  # the newline after the opening tag
        if text:
            self._reasoning.append(text)
            events.append(("reasoning", {"text": text}))


def _with_reasoning_tokens(done: dict[str, Any], tokens: int) -> dict[str, Any]:
    usage = dict(done.get("usage") or {})
    usage["completion_tokens_details"] = {"reasoning_tokens": tokens}
    return {**done, "usage": usage}
