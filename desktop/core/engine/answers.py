"""What the client sees of a generated answer: plain text, or text with tool calls.

The decode loop produces text deltas and a final `done`; an answer shape turns them into the
request's events (see `protocol.EventKind`). A forced tool call is held back whole and parsed at
the end; an optional one is filtered out of the streamed text as it appears.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.core.errors import InvalidRequest

if TYPE_CHECKING:
    from desktop.core.engine.toolcalls import ToolCall

Event = tuple[str, dict[str, Any]]


class PlainAnswer:
    """Text as it comes."""

    def feed(self, text: str) -> list[Event]:
        return [("delta", {"text": text})] if text else []

    def finish(self, done: dict[str, Any]) -> list[Event]:
        return [("done", done)]


class ForcedToolAnswer:
    """tool_choice required / a named tool: the grammar makes the whole answer one call."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def feed(self, text: str) -> list[Event]:
        self._parts.append(text)
        return []

    def finish(self, done: dict[str, Any]) -> list[Event]:
        from desktop.core.engine import toolcalls

        try:
            call = toolcalls.forced_call_to_tool_call("".join(self._parts))
        except ValueError as exc:
            if done.get("finish_reason") == "length":
                raise InvalidRequest(
                    "The tool call was cut off by max_tokens before its arguments were "
                    "complete; allow more tokens (max_tokens) for this request."
                ) from exc
            raise
        return [
            ("tool_calls", {"calls": [call_dict(call)]}),
            ("done", {**done, "finish_reason": "tool_calls"}),
        ]


class ToolStreamAnswer:
    """tool_choice auto: stream the text, hold back what looks like a call, parse at the end."""

    def __init__(self, parser: str | None, tool_names: set[str]) -> None:
        from desktop.core.engine import toolcalls

        self._filter = toolcalls.ToolCallStreamFilter(parser, tool_names)

    def feed(self, text: str) -> list[Event]:
        visible = self._filter.feed(text)
        return [("delta", {"text": visible})] if visible else []

    def finish(self, done: dict[str, Any]) -> list[Event]:
        parsed = self._filter.finish()
        events: list[Event] = []
        if parsed.content:
            # The part the filter held back (it may be text after a tool call, too).
            events.append(("delta", {"text": parsed.content}))
        if parsed.tool_calls:
            events.append(("tool_calls", {"calls": [call_dict(c) for c in parsed.tool_calls]}))
            done = {**done, "finish_reason": "tool_calls"}
        events.append(("done", done))
        return events


AnswerShape = PlainAnswer | ForcedToolAnswer | ToolStreamAnswer


def call_dict(call: ToolCall) -> dict[str, str]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}
