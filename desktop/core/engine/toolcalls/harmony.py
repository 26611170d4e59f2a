"""The harmony format of gpt-oss: messages on channels, calls addressed to ``functions.NAME``.

From OpenAI's guide: ``<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{...}
<|call|>``; the recipient may also sit in the role part of the header. ``final`` and plain
``commentary`` messages are content, ``analysis`` messages are reasoning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from desktop.core.engine.toolcalls.reply import (
    Format,
    ParsedReply,
    ToolCall,
    first_of,
    json_object,
    make_call,
    strip_fence,
)

_START: Final = "<|start|>"
_CHANNEL: Final = "<|channel|>"
_MESSAGE: Final = "<|message|>"
_ENDS: Final = ("<|end|>", "<|call|>", "<|return|>")
_HEADERS: Final = (_START, _CHANNEL)
_PARTIAL_RE: Final = re.compile(r"<(?:\|[a-z_]*\|?)?\Z")
_RECIPIENT_RE: Final = re.compile(r"\bto=([^\s<]+)")
_CHANNEL_RE: Final = re.compile(r"<\|channel\|>\s*([A-Za-z_]+)")


def _hold_partial_token(text: str) -> str:
    """Drop a trailing ``<|...`` that may still become a harmony token."""
    match = _PARTIAL_RE.search(text)
    return text if match is None else text[: match.start()]


@dataclass
class _Scan:
    content: list[str]
    reasoning: list[str]
    calls: list[ToolCall]


def _scan(text: str, names: set[str], *, partial: bool) -> _Scan:
    """Walk harmony messages.

    With ``partial`` (streaming) the scan stops where the outcome is not known yet: inside a
    header, or inside a message addressed to a tool, whose JSON may still turn out malformed.
    """
    scan = _Scan([], [], [])
    pos, _ = first_of(text, _HEADERS)
    if pos < 0:
        scan.content.append(_hold_partial_token(text) if partial else text)
        return scan
    scan.content.append(text[:pos])
    while pos < len(text):
        message_at = text.find(_MESSAGE, pos)
        if message_at < 0:
            # A header with no body yet (streaming) or a dangling one (dropped: no text in it).
            break
        header = text[pos:message_at]
        body_at = message_at + len(_MESSAGE)
        end_at, terminator = first_of(text, (*_ENDS, _START), body_at)
        complete = end_at >= 0
        if not complete:
            # The engine usually stops on <|call|> or <|return|> without keeping the token.
            end_at = len(text)
        body = text[body_at:end_at]
        recipient = _RECIPIENT_RE.search(header)
        channel = _CHANNEL_RE.search(header)
        if recipient is not None:
            if partial and not complete:
                return scan
            target = recipient.group(1)
            call = None
            if target.startswith("functions."):
                args = json_object(strip_fence(body))
                if args is not None:
                    call = make_call(target[len("functions.") :], args, names)
            if call is not None:
                scan.calls.append(call)
            else:
                scan.content.append(text[pos:end_at])
        elif channel is not None and channel.group(1) == "analysis":
            scan.reasoning.append(body)
            if partial and not complete:
                return scan
        else:
            # final, or a commentary preamble meant for the user
            if partial and not complete:
                scan.content.append(_hold_partial_token(body))
                return scan
            scan.content.append(body)
        if not complete:
            break
        pos = end_at if terminator == _START else end_at + len(terminator)
        next_at, _ = first_of(text, _HEADERS, pos)
        if next_at < 0:
            rest = text[pos:]
            scan.content.append(_hold_partial_token(rest) if partial else rest)
            break
        scan.content.append(text[pos:next_at])
        pos = next_at
    return scan


def _join_parts(parts: list[str]) -> str:
    return "\n\n".join(p.strip() for p in parts if p.strip())


def parse(text: str, names: set[str]) -> ParsedReply:
    """Split the messages into content, reasoning and calls."""
    scan = _scan(text, names, partial=False)
    content = _join_parts(scan.content)
    reasoning = _join_parts(scan.reasoning)
    return ParsedReply(content or None, scan.calls, reasoning or None)


def _stable(text: str, names: set[str]) -> tuple[str, bool]:
    return _join_parts(_scan(text, names, partial=True).content), False


FORMAT: Final = Format(parse, stable=_stable)
