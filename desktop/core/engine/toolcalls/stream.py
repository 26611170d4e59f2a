"""Streaming around tool calls: text that may be the start of markup is held back.

A client never sees half a ``<tool_call>`` tag as content, and the streamed text is always a
prefix of the content `registry.parse_tool_calls` reports for the whole reply.
"""

from __future__ import annotations

from desktop.core.engine.toolcalls.registry import format_for
from desktop.core.engine.toolcalls.reply import ParsedReply


def _marker_stable(
    text: str, anywhere: tuple[str, ...], start: tuple[str, ...]
) -> tuple[str, bool]:
    """The part of ``text`` that is content whatever comes next, and whether that is final.

    Returns:
        (prefix, frozen): ``prefix`` ends before the first marker or before a tail that could
        still grow into one; ``frozen`` is True once a whole marker was seen, after which the
        prefix can no longer change.
    """
    lead = len(text) - len(text.lstrip())
    head = text[lead:]
    for marker in start:
        if head.startswith(marker):
            return "", True
        if marker.startswith(head):
            return "", False
    cut = len(text)
    frozen = False
    for marker in anywhere:
        at = text.find(marker)
        if 0 <= at < cut:
            cut, frozen = at, True
    if not frozen:
        for marker in anywhere:
            for size in range(min(len(marker) - 1, len(text)), 0, -1):
                if text.endswith(marker[:size]):
                    cut = min(cut, len(text) - size)
                    break
    return text[:cut], frozen


def _common_prefix_length(a: str, b: str) -> int:
    size = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        size += 1
    return size


class ToolCallStreamFilter:
    """Feed streamed text deltas; get back only text that is safe to show now.

    Text that may be the start of tool-call markup is held back, so a client never sees half a
    ``<tool_call>`` tag as content. Leading and trailing whitespace is held too, so the streamed
    text is always a prefix of what `parse_tool_calls` would report as content for the whole
    reply, and `finish` returns the rest of it.

    Once markup has begun everything after it is held until `finish`: models rarely write text
    after their calls, and holding it keeps the streamed text exact.
    """

    def __init__(self, parser: str | None, tool_names: set[str]) -> None:
        """Start a filter for one reply.

        Args:
            parser: One of `PARSERS`; None means "generic".
            tool_names: Names of the request's tools.

        Raises:
            ValueError: ``parser`` is not one of `PARSERS`.
        """
        self._format = format_for(parser)
        self._names = set(tool_names)
        self._start_markers = self._format.start(self._names)
        self._text = ""
        self._emitted = ""
        self._frozen = False
        self._finished = False

    @property
    def text(self) -> str:
        """Everything fed so far, markup included."""
        return self._text

    @property
    def emitted(self) -> str:
        """All content returned by `feed` so far."""
        return self._emitted

    def feed(self, delta: str) -> str:
        """Add one streamed delta.

        Args:
            delta: The next piece of model text.

        Returns:
            Content to show now; "" when everything new is (or may be) markup or whitespace.

        Raises:
            RuntimeError: `finish` was already called.
        """
        if self._finished:
            raise RuntimeError("ToolCallStreamFilter.feed() called after finish().")
        self._text += delta
        if not delta or self._frozen:
            return ""
        if self._format.stable is not None:
            stable, self._frozen = self._format.stable(self._text, self._names)
        else:
            stable, self._frozen = _marker_stable(
                self._text, self._format.anywhere, self._start_markers
            )
        visible = stable.strip()
        if len(visible) <= len(self._emitted) or not visible.startswith(self._emitted):
            return ""
        out = visible[len(self._emitted) :]
        self._emitted = visible
        return out

    def finish(self) -> ParsedReply:
        """End the reply.

        Returns:
            ``content``: the part of the final content not yet returned by `feed` (None when
            nothing is left; it may start with whitespace that joins it to the streamed text);
            ``tool_calls``: every call in the reply; ``reasoning`` as `parse_tool_calls` has it.
        """
        self._finished = True
        full = self._format.parse(self._text, self._names)
        content = full.content or ""
        if content.startswith(self._emitted):
            rest = content[len(self._emitted) :]
        else:  # pragma: no cover - the markers make this unreachable; stay sane regardless
            rest = content[_common_prefix_length(content, self._emitted) :]
        return ParsedReply(rest or None, full.tool_calls, full.reasoning)
