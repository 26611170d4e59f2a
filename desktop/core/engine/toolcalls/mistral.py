"""The Mistral format: calls after the ``[TOOL_CALLS]`` token.

``[TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]`` (v3/v7 tokenizers, Mistral 7B v0.3,
Nemo, Small 3.1 template), and the newer one-call-per-marker ``[TOOL_CALLS]NAME[CALL_ID]id[ARGS]
{...}`` / ``[TOOL_CALLS]NAME[ARGS]{...}`` (v11, v13).
"""

from __future__ import annotations

import re
from typing import Final

from desktop.core.engine.toolcalls.reply import (
    DECODER,
    JSON_ERRORS,
    Format,
    ParsedReply,
    Span,
    ToolCall,
    assemble,
    call_from_obj,
    make_call,
    starts_with_any,
)

_TAG: Final = "[TOOL_CALLS]"
_COMPACT_RE: Final = re.compile(r"([^\s\[\]{}]+)\s*(?:\[CALL_ID\]\s*[^\s\[]*\s*)?\[ARGS\]\s*")


def _start_markers(names: set[str]) -> tuple[str, ...]:
    ordered = sorted(names)
    return ("[{", *(f"{n}[ARGS]" for n in ordered), *(f"{n}[CALL_ID]" for n in ordered))


def _chunk(text: str, pos: int, names: set[str]) -> tuple[int, list[ToolCall]]:
    """Read the calls after one ``[TOOL_CALLS]``; returns (end, calls)."""
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if text.startswith(("[", "{"), pos):
        # v3/v7: a JSON array of {"name", "arguments", "id"} objects (or a lone object).
        try:
            value, end = DECODER.raw_decode(text, pos)
        except JSON_ERRORS:
            return pos, []
        items = value if isinstance(value, list) else [value]
        found = (call_from_obj(item, names, require_args=False) for item in items)
        return end, [c for c in found if c is not None]
    # v11/v13: NAME[CALL_ID]id[ARGS]{...} or NAME[ARGS]{...}
    match = _COMPACT_RE.match(text, pos)
    if match is None:
        return pos, []
    try:
        args, end = DECODER.raw_decode(text, match.end())
    except JSON_ERRORS:
        return pos, []
    call = make_call(match.group(1), args, names)
    return (end, [call]) if call is not None else (pos, [])


def parse(text: str, names: set[str]) -> ParsedReply:
    """Read the calls after each ``[TOOL_CALLS]``, or the call shapes alone at the reply's start."""
    spans: list[Span] = []
    pos = 0
    while (tag_at := text.find(_TAG, pos)) >= 0:
        end, calls = _chunk(text, tag_at + len(_TAG), names)
        if calls:
            spans.append(Span(tag_at, end, calls))
            pos = end
        else:
            pos = tag_at + len(_TAG)
    if not spans:
        # The engine may drop the [TOOL_CALLS] control token from the text; accept the call
        # shapes on their own when the reply starts with them.
        lead = len(text) - len(text.lstrip())
        if starts_with_any(text[lead:], _start_markers(names)):
            end, calls = _chunk(text, lead, names)
            if calls:
                spans.append(Span(lead, end, calls))
    return assemble(text, spans)


FORMAT: Final = Format(parse, (_TAG,), _start_markers)
