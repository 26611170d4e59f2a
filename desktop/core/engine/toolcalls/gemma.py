"""The Gemma 3 format: Python call lists, JSON call objects, or ``tool_code`` fenced blocks.

Gemma 3 has no tool tokens. Google's docs prompt for a Python call list
``[fn(a=1), fn2(b="x")]`` or a JSON ``{"name": ..., "parameters": {...}}`` object, and the Gemma
cookbook wraps calls in a ``tool_code`` fenced block. Python calls are read with ``ast`` and only
literal arguments are accepted; nothing is evaluated.
"""

from __future__ import annotations

from typing import Final

from desktop.core.engine.toolcalls.hermes import block_calls, whole_json_reply
from desktop.core.engine.toolcalls.python_syntax import python_calls
from desktop.core.engine.toolcalls.reply import (
    JSON_START,
    Format,
    ParsedReply,
    Span,
    ToolCall,
    assemble,
    starts_with_any,
    tag_blocks,
)

_BLOCKS: Final = ("```tool_code", "```tool_call")


def _start_markers(names: set[str]) -> tuple[str, ...]:
    ordered = sorted(names)
    return (*JSON_START, *(f"[{n}(" for n in ordered), *(f"{n}(" for n in ordered))


def _fenced_block_calls(inner: str, names: set[str]) -> list[ToolCall]:
    body = inner.strip()
    if body.startswith(("{", "[{")):
        return block_calls(body, names)
    return python_calls(body, names) or []


def parse(text: str, names: set[str]) -> ParsedReply:
    """Read fenced ``tool_code`` blocks, or a reply that is one JSON call or a Python call list."""
    spans: list[Span] = []
    for open_tag in _BLOCKS:
        for start, end, inner in tag_blocks(text, open_tag, "```"):
            calls = _fenced_block_calls(inner, names)
            if calls:
                spans.append(Span(start, end, calls))
    if spans:
        return assemble(text, spans)
    stripped = text.strip()
    if starts_with_any(stripped, JSON_START):
        whole = whole_json_reply(text, names, JSON_START)
        if whole is not None:
            return whole
    elif starts_with_any(stripped, _start_markers(names)):
        found = python_calls(stripped, names)
        if found:
            return ParsedReply(None, found)
    return assemble(text, [])


FORMAT: Final = Format(parse, _BLOCKS, _start_markers)
