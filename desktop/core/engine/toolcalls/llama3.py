"""The Llama 3.1 format: JSON call objects at the start of the reply, or after ``<|python_tag|>``.

A bare ``{"name": ..., "parameters": {...}}`` object at the very start of the reply (several may
be separated by ``;``), or anything after ``<|python_tag|>``, including the built-in
``brave_search.call(query="...")`` form (llama.cpp ``common_chat_parse_llama_3_1``).
"""

from __future__ import annotations

from typing import Final

from desktop.core.engine.toolcalls.python_syntax import python_calls
from desktop.core.engine.toolcalls.reply import (
    DECODER,
    JSON_ERRORS,
    Format,
    ParsedReply,
    Span,
    assemble,
    call_from_obj,
)

_PYTHON_TAG: Final = "<|python_tag|>"
# Tokens that may trail a Llama call when the engine keeps special tokens in the text.
_SEPARATORS: Final = (";", "<|eom_id|>", "<|eot_id|>")


def _skip_separators(text: str, pos: int) -> int:
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        sep = next((s for s in _SEPARATORS if text.startswith(s, pos)), None)
        if sep is None:
            return pos
        pos += len(sep)


def parse(text: str, names: set[str]) -> ParsedReply:
    """Read the JSON calls, or a built-in tool's Python call after ``<|python_tag|>``."""
    tag_at = text.find(_PYTHON_TAG)
    if tag_at >= 0:
        payload_at = tag_at + len(_PYTHON_TAG)
    else:
        # Without the tag, llama.cpp only reads JSON calls at the very start of the reply.
        payload_at = len(text) - len(text.lstrip())
        if not text.startswith("{", payload_at):
            return assemble(text, [])
    spans: list[Span] = []
    pos = payload_at
    while True:
        pos = _skip_separators(text, pos)
        if not text.startswith("{", pos):
            break
        try:
            obj, end = DECODER.raw_decode(text, pos)
        except JSON_ERRORS:
            break
        call = call_from_obj(obj, names, require_args=True)
        if call is not None:
            # The span swallows the `;` and whitespace after a call so they do not linger.
            spans.append(Span(pos, _skip_separators(text, end), [call]))
        pos = end
    if tag_at >= 0 and not spans:
        # Built-in tools: `<|python_tag|>brave_search.call(query="...")`.
        payload = text[payload_at:]
        for token in _SEPARATORS[1:]:
            payload = payload.replace(token, "")
        calls = python_calls(payload, names)
        if calls:
            spans.append(Span(payload_at, len(text), calls))
    if tag_at >= 0 and spans:
        spans.append(Span(tag_at, payload_at, []))
    return assemble(text, spans)


def _start_markers(_names: set[str]) -> tuple[str, ...]:
    return ("{",)


FORMAT: Final = Format(parse, (_PYTHON_TAG,), _start_markers)
