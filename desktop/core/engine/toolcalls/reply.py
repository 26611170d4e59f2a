"""What every tool-call format shares: the reply and call types, reading calls out of JSON,
and assembling a reply from the stretches of text that held calls.

Rules shared by every format: only calls whose name is in ``tool_names`` count; a block that
yields no such call (malformed JSON, an unknown name) stays in the content verbatim; arguments are
always re-serialised as the JSON text of an object with ``ensure_ascii=False``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class ToolCall:
    """One function call, in OpenAI's shape.

    Attributes:
        id: ``"call_"`` followed by random hex; unique per call.
        name: The function's name, always one of the request's tools.
        arguments: JSON text of the arguments object.
    """

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ParsedReply:
    """A model reply split into visible text and tool calls.

    Attributes:
        content: Text outside tool-call markup, stripped; None when there is none.
        tool_calls: The calls found, in the order the model wrote them.
        reasoning: Chain-of-thought the format marks as such (gpt-oss ``analysis`` messages);
            None for formats that carry no such channel.
    """

    content: str | None
    tool_calls: list[ToolCall]
    reasoning: str | None = None


def new_call_id() -> str:
    """Return a fresh tool-call id, ``call_`` plus 24 hex digits.

    Returns:
        The id. Mistral's templates keep the last 9 characters, which are always alphanumeric.
    """
    return "call_" + secrets.token_hex(12)


# -- JSON helpers ---------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; letting them through would make `arguments` unparseable
    # for strict clients.
    raise ValueError(f"{name} is not valid JSON")


# strict=False: models put raw newlines and tabs inside JSON strings (code arguments especially).
DECODER: Final = json.JSONDecoder(strict=False, parse_constant=_reject_constant)
JSON_ERRORS: Final = (ValueError, RecursionError)
NO_VALUE: Final = object()


def json_value(text: str) -> Any:
    """Parse exactly one JSON value, or return `NO_VALUE`."""
    try:
        return DECODER.decode(text.strip())
    except JSON_ERRORS:
        return NO_VALUE


def json_object(text: str) -> dict[str, Any] | None:
    """Parse exactly one JSON object, or return None."""
    value = json_value(text)
    return value if isinstance(value, dict) else None


def dumps(value: Any) -> str | None:
    """JSON text for ``value``, or None when it cannot be JSON (huge ints, NaN, odd types)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None


_FENCE_RE: Final = re.compile(r"```[A-Za-z0-9_\-]*[ \t]*\n?(.*?)\n?[ \t]*```", re.DOTALL)


def strip_fence(text: str) -> str:
    """Drop one surrounding Markdown code fence (models like to wrap JSON in ```json)."""
    stripped = text.strip()
    match = _FENCE_RE.fullmatch(stripped)
    return match.group(1).strip() if match else stripped


def make_call(name: str, args: Any, names: set[str]) -> ToolCall | None:
    """Build a call when ``name`` is a known tool and ``args`` is (JSON text of) an object."""
    if name not in names:
        return None
    if isinstance(args, str):
        args = {} if not args.strip() else json_object(strip_fence(args))
    if not isinstance(args, dict):
        return None
    text = dumps(args)
    return None if text is None else ToolCall(new_call_id(), name, text)


def call_from_obj(obj: Any, names: set[str], *, require_args: bool) -> ToolCall | None:
    """Read ``{"name": ..., "arguments"|"parameters": ...}``, also OpenAI's nested shape.

    Args:
        obj: A parsed JSON value.
        names: Known tool names.
        require_args: Insist on an arguments key. Set for bare JSON found without any tool
            markup, where an object that merely has a "name" is much more likely plain data.

    Returns:
        The call, or None when ``obj`` is not a call to a known tool.
    """
    if not isinstance(obj, dict):
        return None
    nested = obj.get("function")
    if isinstance(nested, dict) and "name" in nested:
        obj = nested
    name = obj.get("name")
    if not isinstance(name, str):
        return None
    if "arguments" in obj:
        args = obj["arguments"]
    elif "parameters" in obj:
        args = obj["parameters"]
    elif require_args:
        return None
    else:
        args = {}
    return make_call(name, args, names)


def json_call(text: str, names: set[str], *, require_args: bool) -> ToolCall | None:
    """`call_from_obj` on JSON text, which may sit in a Markdown code fence."""
    return call_from_obj(json_value(strip_fence(text)), names, require_args=require_args)


# -- Assembling a reply from the spans that held calls ----------------------------------------


@dataclass(frozen=True)
class Span:
    """A stretch of the reply that is tool-call markup and is cut from the content."""

    start: int
    end: int
    calls: list[ToolCall]


def assemble(text: str, spans: Iterable[Span], reasoning: str | None = None) -> ParsedReply:
    """The reply with the spans cut out of the content and their calls collected in order."""
    pieces: list[str] = []
    calls: list[ToolCall] = []
    pos = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < pos:
            continue  # overlapping matches: the earlier one already took this text
        pieces.append(text[pos : span.start])
        calls.extend(span.calls)
        pos = span.end
    pieces.append(text[pos:])
    content = "".join(pieces).strip()
    return ParsedReply(content or None, calls, reasoning)


def tag_blocks(text: str, open_tag: str, close_tag: str) -> list[tuple[int, int, str]]:
    """Find ``open...close`` blocks as (start, end, inner); an unclosed last one runs to the end.

    The unclosed case matters: generation often stops on the closing tag (a stop word) or on
    the token limit, and the inner text is then only accepted if it is a complete call.
    """
    blocks: list[tuple[int, int, str]] = []
    pos = 0
    while (start := text.find(open_tag, pos)) >= 0:
        inner_at = start + len(open_tag)
        close = text.find(close_tag, inner_at)
        end = len(text) if close < 0 else close + len(close_tag)
        inner = text[inner_at : len(text) if close < 0 else close]
        # `<tool_call><tool_call>{...}` (a stuttered opener) keeps the text after the last one.
        if open_tag in inner:
            inner = inner.rsplit(open_tag, 1)[1]
        blocks.append((start, end, inner))
        if close < 0:
            break
        pos = end
    return blocks


def starts_with_any(text: str, markers: Iterable[str]) -> bool:
    """Whether ``text`` begins with one of ``markers``."""
    return any(text.startswith(m) for m in markers)


def first_of(text: str, markers: Iterable[str], pos: int = 0) -> tuple[int, str]:
    """The earliest of ``markers`` in ``text`` from ``pos``: (index, marker), or (-1, "")."""
    best, which = -1, ""
    for marker in markers:
        at = text.find(marker, pos)
        if at >= 0 and (best < 0 or at < best):
            best, which = at, marker
    return best, which


# -- What a format is -------------------------------------------------------------------------
#
# Each format names its markers: "anywhere" markers open markup wherever they occur, "start"
# markers only when the reply begins with them (after whitespace). The stream filter holds text
# back on exactly these markers, and each parser only ever cuts spans that begin at one of them,
# which is what guarantees that streamed text is a prefix of the final content.

# A reply that opens with a JSON object, bare or fenced, may be a call in several formats.
JSON_START: Final = ("{", "```json")


def no_start(_names: set[str]) -> tuple[str, ...]:
    """Start markers of a format whose markup only ever opens with an "anywhere" marker."""
    return ()


@dataclass(frozen=True)
class Format:
    """One tool-call format: its parser and the markers that open its markup.

    Attributes:
        parse: Reads a finished reply; takes the text and the known tool names.
        anywhere: Markers that open markup wherever they occur.
        start: The markers that open markup only at the start of the reply, given the tool
            names (some formats begin a call with the bare function name).
        stable: For formats that are not marker-driven (harmony): the content that is final
            whatever comes next, and whether it can no longer change.
    """

    parse: Callable[[str, set[str]], ParsedReply]
    anywhere: tuple[str, ...] = ()
    start: Callable[[set[str]], tuple[str, ...]] = no_start
    stable: Callable[[str, set[str]], tuple[str, bool]] | None = None
