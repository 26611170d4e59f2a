"""The Hermes format: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks.

The ``qwen`` parser: Qwen2.5/Qwen3/QwQ chat templates (xinference's ``qwen_tool_parser``;
llama.cpp's Hermes 2 Pro handler). The XML body Qwen3-Coder/Qwen3.5 write inside the same tags
(``<function=NAME><parameter=KEY>value</parameter></function>``) is read as well, and so is the
GLM-4.5 body (``NAME<arg_key>k</arg_key><arg_value>v</arg_value>``), which the ``glm4`` format
reuses these block readers for.

The ``generic`` parser is the same format: what `generic.generic_tool_prompt` asks for, and as a
fallback a reply that is exactly one JSON call object.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from desktop.core.engine.toolcalls.reply import (
    JSON_START,
    NO_VALUE,
    Format,
    ParsedReply,
    Span,
    ToolCall,
    assemble,
    call_from_obj,
    json_call,
    json_value,
    make_call,
    starts_with_any,
    strip_fence,
    tag_blocks,
)

TOOL_CALL_TAG: Final = "<tool_call>"

_XML_FUNCTION_RE: Final = re.compile(r"<function=([^>\n]+)>(.*?)(?:</function>|\Z)", re.DOTALL)
_XML_PARAMETER_RE: Final = re.compile(
    r"<parameter=([^>\n]+)>(.*?)(?:</parameter>|(?=<parameter=)|\Z)", re.DOTALL
)
_ARG_PAIR_RE: Final = re.compile(
    r"<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)</arg_value>", re.DOTALL
)
_GLM45_NAME_RE: Final = re.compile(r"\s*([^\s<]+)")


def _xml_value(raw: str) -> Any:
    """A parameter value from XML-ish markup: JSON when it parses, else the text itself.

    Without the tool's schema a string such as "123" comes back as a number; templates render
    non-string values with ``tojson``, so JSON-first is right far more often than not.
    """
    value = raw[1:] if raw.startswith("\n") else raw
    value = value[:-1] if value.endswith("\n") else value
    parsed = json_value(value)
    return value if parsed is NO_VALUE else parsed


def _xml_function_calls(body: str, names: set[str]) -> list[ToolCall]:
    calls: list[ToolCall] = []
    for match in _XML_FUNCTION_RE.finditer(body):
        args = {
            p.group(1).strip(): _xml_value(p.group(2))
            for p in _XML_PARAMETER_RE.finditer(match.group(2))
        }
        call = make_call(match.group(1).strip(), args, names)
        if call is not None:
            calls.append(call)
    return calls


def _arg_pair_calls(body: str, names: set[str]) -> list[ToolCall]:
    match = _GLM45_NAME_RE.match(body)
    if match is None:
        return []
    rest = body[match.end() :]
    # Anything besides key/value pairs means this is not the GLM-4.5 form.
    if _ARG_PAIR_RE.sub("", rest).strip():
        return []
    args = {k.strip(): _xml_value(v) for k, v in _ARG_PAIR_RE.findall(rest)}
    call = make_call(match.group(1), args, names)
    return [] if call is None else [call]


def block_calls(inner: str, names: set[str]) -> list[ToolCall]:
    """Calls inside one ``<tool_call>`` block, whichever body form the model used."""
    body = strip_fence(inner)
    if body.startswith("{"):
        call = json_call(body, names, require_args=False)
        return [] if call is None else [call]
    if body.startswith("["):
        value = json_value(body)
        if not isinstance(value, list):
            return []
        found = (call_from_obj(v, names, require_args=False) for v in value)
        return [c for c in found if c is not None]
    if "<function=" in body:
        return _xml_function_calls(body, names)
    return _arg_pair_calls(body, names)


def tagged_spans(
    text: str, names: set[str], open_tag: str = TOOL_CALL_TAG, close_tag: str = "</tool_call>"
) -> list[Span]:
    """The ``<tool_call>`` blocks in ``text`` that hold at least one call to a known tool."""
    spans: list[Span] = []
    for start, end, inner in tag_blocks(text, open_tag, close_tag):
        calls = block_calls(inner, names)
        if calls:
            spans.append(Span(start, end, calls))
    return spans


def whole_json_reply(text: str, names: set[str], markers: Iterable[str]) -> ParsedReply | None:
    """A reply that is nothing but one JSON call object (possibly fenced)."""
    stripped = text.strip()
    if not starts_with_any(stripped, markers):
        return None
    call = json_call(stripped, names, require_args=True)
    return None if call is None else ParsedReply(None, [call])


def parse(text: str, names: set[str]) -> ParsedReply:
    """Read ``<tool_call>`` blocks, or else a reply that is exactly one JSON call object."""
    spans = tagged_spans(text, names)
    if not spans:
        whole = whole_json_reply(text, names, JSON_START)
        if whole is not None:
            return whole
    return assemble(text, spans)


def _start_markers(_names: set[str]) -> tuple[str, ...]:
    return JSON_START


FORMAT: Final = Format(parse, (TOOL_CALL_TAG,), _start_markers)
