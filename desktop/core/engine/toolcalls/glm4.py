"""The GLM-4 format: the function name on one line, the JSON arguments on the next.

GLM-4-9B-chat / GLM-4-0414 write one call per ``<|assistant|>`` turn (the GGUF chat template
renders ``<|assistant|>{metadata}\\n{content}``; ms-swift's GLM4 agent template and BFCL's GLM
handler decode it the same way). GLM-4.5 style ``<tool_call>NAME<arg_key>k</arg_key><arg_value>v
</arg_value></tool_call>`` is read too, by the Hermes block readers.
"""

from __future__ import annotations

import re
from typing import Final

from desktop.core.engine.toolcalls.hermes import TOOL_CALL_TAG, tagged_spans, whole_json_reply
from desktop.core.engine.toolcalls.reply import (
    JSON_START,
    Format,
    ParsedReply,
    Span,
    ToolCall,
    assemble,
    call_from_obj,
    json_object,
    make_call,
    starts_with_any,
    strip_fence,
)

_ASSISTANT: Final = "<|assistant|>"
_OBSERVATION: Final = "<|observation|>"


def _segment_call(segment: str, names: set[str]) -> ToolCall | None:
    """``NAME\\n{json}``: the function name is the turn's metadata line."""
    body = segment.replace(_OBSERVATION, "").strip()
    name, newline, rest = body.partition("\n")
    name = name.strip()
    if not newline or name not in names:
        return None
    args = json_object(strip_fence(rest))
    if args is None:
        return None
    # Some GLM-4 builds repeat the envelope: {"name": NAME, "arguments": {...}}.
    if args.get("name") == name and set(args) <= {"name", "arguments", "parameters"}:
        return call_from_obj(args, names, require_args=False)
    return make_call(name, args, names)


def _start_markers(names: set[str]) -> tuple[str, ...]:
    return (*JSON_START, *(f"{n}\n" for n in sorted(names)))


def parse(text: str, names: set[str]) -> ParsedReply:
    """Read one call per ``<|assistant|>`` turn, ``<tool_call>`` blocks, or one JSON call object."""
    marker_at = [m.start() for m in re.finditer(re.escape(_ASSISTANT), text)]
    bounds = [(0, 0)] + [(at, at + len(_ASSISTANT)) for at in marker_at]
    spans: list[Span] = []
    for index, (marker_start, segment_start) in enumerate(bounds):
        segment_end = marker_at[index] if index < len(marker_at) else len(text)
        segment = text[segment_start:segment_end]
        first = index == 0
        if not first or starts_with_any(segment.lstrip(), _start_markers(names)):
            call = _segment_call(segment, names)
            if call is not None:
                spans.append(Span(marker_start, segment_end, [call]))
                continue
        if not first:
            spans.append(Span(marker_start, segment_start, []))  # drop the bare role marker
        for span in tagged_spans(segment, names):
            spans.append(Span(segment_start + span.start, segment_start + span.end, span.calls))
    if not any(span.calls for span in spans):
        whole = whole_json_reply(text, names, JSON_START)
        if whole is not None:
            return whole
    return assemble(text, spans)


FORMAT: Final = Format(parse, (_ASSISTANT, TOOL_CALL_TAG), _start_markers)
