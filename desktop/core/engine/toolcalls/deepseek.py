"""The DeepSeek format: calls between ``<｜tool▁calls▁begin｜>`` and ``<｜tool▁calls▁end｜>``.

``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\\n```json
{...}```<｜tool▁call▁end｜><｜tool▁calls▁end｜>`` (R1 and its distills, V3), plus the V3.1 form
``<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>`` and the misspelt openers
llama.cpp also accepts (``common_chat_parse_deepseek_r1`` / ``_v3_1``).
"""

from __future__ import annotations

from typing import Final

from desktop.core.engine.toolcalls.reply import (
    Format,
    ParsedReply,
    Span,
    ToolCall,
    assemble,
    first_of,
    json_object,
    make_call,
    strip_fence,
)

_BEGINS: Final = (
    "<｜tool▁calls▁begin｜>",
    # Variants the R1 distills produce; llama.cpp accepts the same list.
    "<｜tool_calls_begin｜>",
    "<｜tool calls begin｜>",
    "<｜tool\\_calls\\_begin｜>",
    "<｜tool▁calls｜>",
)
_CALL_BEGIN: Final = "<｜tool▁call▁begin｜>"
_CALL_END: Final = "<｜tool▁call▁end｜>"
_SEP: Final = "<｜tool▁sep｜>"
_END: Final = "<｜tool▁calls▁end｜>"
_MARKERS: Final = (*_BEGINS, _CALL_BEGIN)


def _read_call(piece: str, names: set[str]) -> ToolCall | None:
    kind, sep, rest = piece.partition(_SEP)
    if not sep:
        return None
    kind = kind.strip()
    if kind == "function":
        # R1 / V3: function<sep>NAME\n```json\n{...}\n```
        name, _, args_text = rest.partition("\n")
    else:
        # V3.1: NAME<sep>{...}
        name, args_text = kind, rest
    args = json_object(strip_fence(args_text))
    return None if args is None else make_call(name.strip(), args, names)


def parse(text: str, names: set[str]) -> ParsedReply:
    """Read each tool-calls block, R1/V3 or V3.1 style."""
    spans: list[Span] = []
    pos = 0
    while True:
        start, marker = first_of(text, _MARKERS, pos)
        if start < 0:
            break
        body_at = start + (0 if marker == _CALL_BEGIN else len(marker))
        end_at = text.find(_END, body_at)
        block_end = len(text) if end_at < 0 else end_at + len(_END)
        body = text[body_at : len(text) if end_at < 0 else end_at]
        calls: list[ToolCall] = []
        for raw_piece in body.split(_CALL_END):
            piece = raw_piece.strip()
            piece = piece.removeprefix(_CALL_BEGIN)
            call = _read_call(piece, names) if piece else None
            if call is not None:
                calls.append(call)
        if calls:
            spans.append(Span(start, block_end, calls))
            pos = block_end
        else:
            pos = start + len(marker)
    return assemble(text, spans)


FORMAT: Final = Format(parse, _MARKERS)
