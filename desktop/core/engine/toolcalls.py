"""Tool calls: reading them out of model text, streaming around them, and forcing them.

Every model family writes tool calls in its own markup. This module turns a finished reply into
OpenAI-style calls (`parse_tool_calls`), holds back streamed text that may be the start of such
markup so a client never sees half a tag (`ToolCallStreamFilter`), builds the JSON schema a grammar
enforces for `tool_choice="required"` or a named function (`forced_call_schema`), and gives models
whose chat template knows nothing of tools a prompt and a message shape they can follow
(`generic_tool_prompt`, `tool_result_messages_to_text`).

Formats, and where each was checked:

* ``qwen``: Hermes-style ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks
  (Qwen2.5/Qwen3/QwQ chat templates; xinference's ``qwen_tool_parser``; llama.cpp's Hermes 2 Pro
  handler). The XML body Qwen3-Coder/Qwen3.5 write inside the same tags
  (``<function=NAME><parameter=KEY>value</parameter></function>``) is read as well.
* ``llama3``: a bare ``{"name": ..., "parameters": {...}}`` object at the very start of the reply
  (several may be separated by ``;``), or anything after ``<|python_tag|>``, including the
  built-in ``brave_search.call(query="...")`` form (llama.cpp ``common_chat_parse_llama_3_1``).
* ``glm4``: GLM-4-9B-chat / GLM-4-0414 write the function name on one line and the JSON
  arguments on the next, one call per ``<|assistant|>`` turn (the GGUF chat template renders
  ``<|assistant|>{metadata}\\n{content}``; ms-swift's GLM4 agent template and BFCL's GLM handler
  decode it the same way). GLM-4.5 style ``<tool_call>NAME<arg_key>k</arg_key><arg_value>v
  </arg_value></tool_call>`` is read too.
* ``gemma``: Gemma 3 has no tool tokens. Google's docs prompt for a Python call list
  ``[fn(a=1), fn2(b="x")]`` or a JSON ``{"name": ..., "parameters": {...}}`` object, and the Gemma
  cookbook wraps calls in a ``tool_code`` fenced block. Python calls are read with ``ast`` and only
  literal arguments are accepted; nothing is evaluated.
* ``deepseek``: ``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\\n```json
  {...}```<｜tool▁call▁end｜><｜tool▁calls▁end｜>`` (R1 and its distills, V3), plus the V3.1 form
  ``<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>`` and the misspelt openers
  llama.cpp also accepts (``common_chat_parse_deepseek_r1`` / ``_v3_1``).
* ``mistral``: ``[TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]`` (v3/v7 tokenizers,
  Mistral 7B v0.3, Nemo, Small 3.1 template), and the newer one-call-per-marker
  ``[TOOL_CALLS]NAME[CALL_ID]id[ARGS]{...}`` / ``[TOOL_CALLS]NAME[ARGS]{...}`` (v11, v13).
* ``gpt-oss``: the harmony format from OpenAI's guide: ``<|channel|>commentary
  to=functions.NAME <|constrain|>json<|message|>{...}<|call|>``; the recipient may also sit in
  the role part of the header. ``final`` and plain ``commentary`` messages are content,
  ``analysis`` messages are reasoning.
* ``generic``: what `generic_tool_prompt` asks for, ``<tool_call>{...}</tool_call>``, and as a
  fallback a reply that is exactly one JSON call object.

Rules shared by every format: only calls whose name is in ``tool_names`` count; a block that
yields no such call (malformed JSON, an unknown name) stays in the content verbatim; arguments are
always re-serialised as the JSON text of an object with ``ensure_ascii=False``.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "PARSERS",
    "ParsedReply",
    "ToolCall",
    "ToolCallStreamFilter",
    "forced_call_schema",
    "forced_call_to_tool_call",
    "generic_tool_prompt",
    "new_call_id",
    "parse_tool_calls",
    "tool_result_messages_to_text",
]


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


PARSERS: Final[frozenset[str]] = frozenset(
    {"qwen", "llama3", "glm4", "gemma", "deepseek", "mistral", "gpt-oss", "generic"}
)


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
_DECODER: Final = json.JSONDecoder(strict=False, parse_constant=_reject_constant)
_JSON_ERRORS: Final = (ValueError, RecursionError)
_NO_VALUE: Final = object()


def _json_value(text: str) -> Any:
    """Parse exactly one JSON value, or return `_NO_VALUE`."""
    try:
        return _DECODER.decode(text.strip())
    except _JSON_ERRORS:
        return _NO_VALUE


def _json_object(text: str) -> dict[str, Any] | None:
    value = _json_value(text)
    return value if isinstance(value, dict) else None


def _dumps(value: Any) -> str | None:
    """JSON text for ``value``, or None when it cannot be JSON (huge ints, NaN, odd types)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None


_FENCE_RE: Final = re.compile(r"```[A-Za-z0-9_\-]*[ \t]*\n?(.*?)\n?[ \t]*```", re.DOTALL)


def _strip_fence(text: str) -> str:
    """Drop one surrounding Markdown code fence (models like to wrap JSON in ```json)."""
    stripped = text.strip()
    match = _FENCE_RE.fullmatch(stripped)
    return match.group(1).strip() if match else stripped


def _make_call(name: str, args: Any, names: set[str]) -> ToolCall | None:
    """Build a call when ``name`` is a known tool and ``args`` is (JSON text of) an object."""
    if name not in names:
        return None
    if isinstance(args, str):
        args = {} if not args.strip() else _json_object(_strip_fence(args))
    if not isinstance(args, dict):
        return None
    text = _dumps(args)
    return None if text is None else ToolCall(new_call_id(), name, text)


def _call_from_obj(obj: Any, names: set[str], *, require_args: bool) -> ToolCall | None:
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
    return _make_call(name, args, names)


def _json_call(text: str, names: set[str], *, require_args: bool) -> ToolCall | None:
    return _call_from_obj(_json_value(_strip_fence(text)), names, require_args=require_args)


# -- Python-call syntax (Gemma, Llama built-in tools) ----------------------------------------------


class _NotLiteralError(Exception):
    """An argument expression is not a plain literal."""


_NAMED_LITERALS: Final[dict[str, Any]] = {
    "True": True,
    "False": False,
    "None": None,
    # Models switching between Python and JSON habits write these too.
    "true": True,
    "false": False,
    "null": None,
}
_MAX_LITERAL_DEPTH: Final = 64


def _literal(node: ast.expr, depth: int = 0) -> Any:
    """Convert a literal expression to a JSON value without evaluating anything.

    Deliberately narrower than ``ast.literal_eval``: no bytes, complex numbers, sets of
    non-JSON types or Ellipsis, and dict keys must be strings, so the result is always JSON.
    """
    if depth > _MAX_LITERAL_DEPTH:
        raise _NotLiteralError("nested too deeply")
    if isinstance(node, ast.Constant):
        if node.value is None or isinstance(node.value, str | bool | int | float):
            return node.value
        raise _NotLiteralError(type(node.value).__name__)
    if isinstance(node, ast.Name) and node.id in _NAMED_LITERALS:
        return _NAMED_LITERALS[node.id]
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_literal(item, depth + 1) for item in node.elts]
    if isinstance(node, ast.Dict):
        result: dict[str, Any] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                raise _NotLiteralError("** unpacking")
            key = _literal(key_node, depth + 1)
            if not isinstance(key, str):
                raise _NotLiteralError("non-string key")
            result[key] = _literal(value_node, depth + 1)
        return result
    raise _NotLiteralError(type(node).__name__)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _resolve_name(dotted: str, names: set[str]) -> str | None:
    """Map ``default_api.fn`` / ``brave_search.call`` style callees to a known tool name."""
    candidates = [dotted]
    if dotted.endswith(".call"):
        candidates.append(dotted[: -len(".call")])
    candidates.extend(c.rsplit(".", 1)[-1] for c in list(candidates))
    return next((c for c in candidates if c in names), None)


def _unwrap_print(node: ast.expr) -> ast.expr:
    # The Gemma cookbook's tool_code blocks sometimes read `print(fn(...))`.
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
        and len(node.args) == 1
        and not node.keywords
    ):
        return node.args[0]
    return node


def _python_calls(code: str, names: set[str]) -> list[ToolCall] | None:
    """Read ``fn(a=1)`` lines or a ``[fn(a=1), g(b=2)]`` list.

    Returns:
        None when the code is anything but keyword-argument calls with literal values (then the
        text is not a tool call at all); otherwise the calls whose names are known, maybe none.
    """
    try:
        tree = ast.parse(code.strip(), mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found: list[tuple[str, dict[str, Any]]] = []
    for statement in tree.body:
        if not isinstance(statement, ast.Expr):
            return None
        value = statement.value
        items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
        if not items:
            return None
        for raw_item in items:
            item = _unwrap_print(raw_item)
            # Positional arguments cannot be named without the tool's schema: not a call we read.
            if not isinstance(item, ast.Call) or item.args:
                return None
            dotted = _dotted(item.func)
            if dotted is None or any(kw.arg is None for kw in item.keywords):
                return None
            try:
                kwargs = {str(kw.arg): _literal(kw.value) for kw in item.keywords}
            except (_NotLiteralError, RecursionError):
                return None
            found.append((dotted, kwargs))
    if not found:
        return None
    calls: list[ToolCall] = []
    for dotted, kwargs in found:
        name = _resolve_name(dotted, names)
        call = None if name is None else _make_call(name, kwargs, names)
        if call is not None:
            calls.append(call)
    return calls


# -- Assembling a reply from the spans that held calls ----------------------------------------


@dataclass(frozen=True)
class _Span:
    """A stretch of the reply that is tool-call markup and is cut from the content."""

    start: int
    end: int
    calls: list[ToolCall]


def _assemble(text: str, spans: Iterable[_Span], reasoning: str | None = None) -> ParsedReply:
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


def _tag_blocks(text: str, open_tag: str, close_tag: str) -> list[tuple[int, int, str]]:
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


def _starts_with_any(text: str, markers: Iterable[str]) -> bool:
    return any(text.startswith(m) for m in markers)


# -- Bodies of <tool_call> blocks (Qwen, generic, GLM-4.5) ------------------------------------

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
    parsed = _json_value(value)
    return value if parsed is _NO_VALUE else parsed


def _xml_function_calls(body: str, names: set[str]) -> list[ToolCall]:
    calls: list[ToolCall] = []
    for match in _XML_FUNCTION_RE.finditer(body):
        args = {
            p.group(1).strip(): _xml_value(p.group(2))
            for p in _XML_PARAMETER_RE.finditer(match.group(2))
        }
        call = _make_call(match.group(1).strip(), args, names)
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
    call = _make_call(match.group(1), args, names)
    return [] if call is None else [call]


def _block_calls(inner: str, names: set[str]) -> list[ToolCall]:
    """Calls inside one ``<tool_call>`` block, whichever body form the model used."""
    body = _strip_fence(inner)
    if body.startswith("{"):
        call = _json_call(body, names, require_args=False)
        return [] if call is None else [call]
    if body.startswith("["):
        value = _json_value(body)
        if not isinstance(value, list):
            return []
        found = (_call_from_obj(v, names, require_args=False) for v in value)
        return [c for c in found if c is not None]
    if "<function=" in body:
        return _xml_function_calls(body, names)
    return _arg_pair_calls(body, names)


def _tagged_spans(
    text: str, names: set[str], open_tag: str = "<tool_call>", close_tag: str = "</tool_call>"
) -> list[_Span]:
    spans: list[_Span] = []
    for start, end, inner in _tag_blocks(text, open_tag, close_tag):
        calls = _block_calls(inner, names)
        if calls:
            spans.append(_Span(start, end, calls))
    return spans


def _whole_json_reply(text: str, names: set[str], markers: Iterable[str]) -> ParsedReply | None:
    """A reply that is nothing but one JSON call object (possibly fenced)."""
    stripped = text.strip()
    if not _starts_with_any(stripped, markers):
        return None
    call = _json_call(stripped, names, require_args=True)
    return None if call is None else ParsedReply(None, [call])


# -- Per-format parsers ------------------------------------------------------------------------
#
# Each format names its markers: "anywhere" markers open markup wherever they occur, "start"
# markers only when the reply begins with them (after whitespace). The stream filter holds text
# back on exactly these markers, and each parser only ever cuts spans that begin at one of them,
# which is what guarantees that streamed text is a prefix of the final content.

_TOOL_CALL_TAG: Final = "<tool_call>"
_JSON_START: Final = ("{", "```json")


def _parse_hermes(text: str, names: set[str]) -> ParsedReply:
    spans = _tagged_spans(text, names)
    if not spans:
        whole = _whole_json_reply(text, names, _JSON_START)
        if whole is not None:
            return whole
    return _assemble(text, spans)


_PYTHON_TAG: Final = "<|python_tag|>"
# Tokens that may trail a Llama call when the engine keeps special tokens in the text.
_LLAMA_SEPARATORS: Final = (";", "<|eom_id|>", "<|eot_id|>")


def _skip_llama_separators(text: str, pos: int) -> int:
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        sep = next((s for s in _LLAMA_SEPARATORS if text.startswith(s, pos)), None)
        if sep is None:
            return pos
        pos += len(sep)


def _parse_llama3(text: str, names: set[str]) -> ParsedReply:
    tag_at = text.find(_PYTHON_TAG)
    if tag_at >= 0:
        payload_at = tag_at + len(_PYTHON_TAG)
    else:
        # Without the tag, llama.cpp only reads JSON calls at the very start of the reply.
        payload_at = len(text) - len(text.lstrip())
        if not text.startswith("{", payload_at):
            return _assemble(text, [])
    spans: list[_Span] = []
    pos = payload_at
    while True:
        pos = _skip_llama_separators(text, pos)
        if not text.startswith("{", pos):
            break
        try:
            obj, end = _DECODER.raw_decode(text, pos)
        except _JSON_ERRORS:
            break
        call = _call_from_obj(obj, names, require_args=True)
        if call is not None:
            # The span swallows the `;` and whitespace after a call so they do not linger.
            spans.append(_Span(pos, _skip_llama_separators(text, end), [call]))
        pos = end
    if tag_at >= 0 and not spans:
        # Built-in tools: `<|python_tag|>brave_search.call(query="...")`.
        payload = text[payload_at:]
        for token in _LLAMA_SEPARATORS[1:]:
            payload = payload.replace(token, "")
        calls = _python_calls(payload, names)
        if calls:
            spans.append(_Span(payload_at, len(text), calls))
    if tag_at >= 0 and spans:
        spans.append(_Span(tag_at, payload_at, []))
    return _assemble(text, spans)


_GLM_ASSISTANT: Final = "<|assistant|>"
_GLM_OBSERVATION: Final = "<|observation|>"


def _glm4_segment_call(segment: str, names: set[str]) -> ToolCall | None:
    """``NAME\\n{json}``: the function name is the turn's metadata line."""
    body = segment.replace(_GLM_OBSERVATION, "").strip()
    name, newline, rest = body.partition("\n")
    name = name.strip()
    if not newline or name not in names:
        return None
    args = _json_object(_strip_fence(rest))
    if args is None:
        return None
    # Some GLM-4 builds repeat the envelope: {"name": NAME, "arguments": {...}}.
    if args.get("name") == name and set(args) <= {"name", "arguments", "parameters"}:
        return _call_from_obj(args, names, require_args=False)
    return _make_call(name, args, names)


def _glm4_start(names: set[str]) -> tuple[str, ...]:
    return (*_JSON_START, *(f"{n}\n" for n in sorted(names)))


def _parse_glm4(text: str, names: set[str]) -> ParsedReply:
    marker_at = [m.start() for m in re.finditer(re.escape(_GLM_ASSISTANT), text)]
    bounds = [(0, 0)] + [(at, at + len(_GLM_ASSISTANT)) for at in marker_at]
    spans: list[_Span] = []
    for index, (marker_start, segment_start) in enumerate(bounds):
        segment_end = marker_at[index] if index < len(marker_at) else len(text)
        segment = text[segment_start:segment_end]
        first = index == 0
        if not first or _starts_with_any(segment.lstrip(), _glm4_start(names)):
            call = _glm4_segment_call(segment, names)
            if call is not None:
                spans.append(_Span(marker_start, segment_end, [call]))
                continue
        if not first:
            spans.append(_Span(marker_start, segment_start, []))  # drop the bare role marker
        for span in _tagged_spans(segment, names):
            spans.append(_Span(segment_start + span.start, segment_start + span.end, span.calls))
    if not any(span.calls for span in spans):
        whole = _whole_json_reply(text, names, _JSON_START)
        if whole is not None:
            return whole
    return _assemble(text, spans)


_GEMMA_BLOCKS: Final = ("```tool_code", "```tool_call")


def _gemma_start(names: set[str]) -> tuple[str, ...]:
    ordered = sorted(names)
    return (*_JSON_START, *(f"[{n}(" for n in ordered), *(f"{n}(" for n in ordered))


def _gemma_block_calls(inner: str, names: set[str]) -> list[ToolCall]:
    body = inner.strip()
    if body.startswith(("{", "[{")):
        return _block_calls(body, names)
    return _python_calls(body, names) or []


def _parse_gemma(text: str, names: set[str]) -> ParsedReply:
    spans: list[_Span] = []
    for open_tag in _GEMMA_BLOCKS:
        for start, end, inner in _tag_blocks(text, open_tag, "```"):
            calls = _gemma_block_calls(inner, names)
            if calls:
                spans.append(_Span(start, end, calls))
    if spans:
        return _assemble(text, spans)
    stripped = text.strip()
    if _starts_with_any(stripped, _JSON_START):
        whole = _whole_json_reply(text, names, _JSON_START)
        if whole is not None:
            return whole
    elif _starts_with_any(stripped, _gemma_start(names)):
        python_calls = _python_calls(stripped, names)
        if python_calls:
            return ParsedReply(None, python_calls)
    return _assemble(text, [])


_DS_BEGINS: Final = (
    "<｜tool▁calls▁begin｜>",
    # Variants the R1 distills produce; llama.cpp accepts the same list.
    "<｜tool_calls_begin｜>",
    "<｜tool calls begin｜>",
    "<｜tool\\_calls\\_begin｜>",
    "<｜tool▁calls｜>",
)
_DS_CALL_BEGIN: Final = "<｜tool▁call▁begin｜>"
_DS_CALL_END: Final = "<｜tool▁call▁end｜>"
_DS_SEP: Final = "<｜tool▁sep｜>"
_DS_END: Final = "<｜tool▁calls▁end｜>"
_DS_MARKERS: Final = (*_DS_BEGINS, _DS_CALL_BEGIN)


def _deepseek_call(piece: str, names: set[str]) -> ToolCall | None:
    kind, sep, rest = piece.partition(_DS_SEP)
    if not sep:
        return None
    kind = kind.strip()
    if kind == "function":
        # R1 / V3: function<sep>NAME\n```json\n{...}\n```
        name, _, args_text = rest.partition("\n")
    else:
        # V3.1: NAME<sep>{...}
        name, args_text = kind, rest
    args = _json_object(_strip_fence(args_text))
    return None if args is None else _make_call(name.strip(), args, names)


def _first_of(text: str, markers: Iterable[str], pos: int = 0) -> tuple[int, str]:
    best, which = -1, ""
    for marker in markers:
        at = text.find(marker, pos)
        if at >= 0 and (best < 0 or at < best):
            best, which = at, marker
    return best, which


def _parse_deepseek(text: str, names: set[str]) -> ParsedReply:
    spans: list[_Span] = []
    pos = 0
    while True:
        start, marker = _first_of(text, _DS_MARKERS, pos)
        if start < 0:
            break
        body_at = start + (0 if marker == _DS_CALL_BEGIN else len(marker))
        end_at = text.find(_DS_END, body_at)
        block_end = len(text) if end_at < 0 else end_at + len(_DS_END)
        body = text[body_at : len(text) if end_at < 0 else end_at]
        calls: list[ToolCall] = []
        for raw_piece in body.split(_DS_CALL_END):
            piece = raw_piece.strip()
            piece = piece.removeprefix(_DS_CALL_BEGIN)
            call = _deepseek_call(piece, names) if piece else None
            if call is not None:
                calls.append(call)
        if calls:
            spans.append(_Span(start, block_end, calls))
            pos = block_end
        else:
            pos = start + len(marker)
    return _assemble(text, spans)


_MISTRAL_TAG: Final = "[TOOL_CALLS]"
_MISTRAL_COMPACT_RE: Final = re.compile(
    r"([^\s\[\]{}]+)\s*(?:\[CALL_ID\]\s*[^\s\[]*\s*)?\[ARGS\]\s*"
)


def _mistral_start(names: set[str]) -> tuple[str, ...]:
    ordered = sorted(names)
    return ("[{", *(f"{n}[ARGS]" for n in ordered), *(f"{n}[CALL_ID]" for n in ordered))


def _mistral_chunk(text: str, pos: int, names: set[str]) -> tuple[int, list[ToolCall]]:
    """Read the calls after one ``[TOOL_CALLS]``; returns (end, calls)."""
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if text.startswith(("[", "{"), pos):
        # v3/v7: a JSON array of {"name", "arguments", "id"} objects (or a lone object).
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except _JSON_ERRORS:
            return pos, []
        items = value if isinstance(value, list) else [value]
        found = (_call_from_obj(item, names, require_args=False) for item in items)
        return end, [c for c in found if c is not None]
    # v11/v13: NAME[CALL_ID]id[ARGS]{...} or NAME[ARGS]{...}
    match = _MISTRAL_COMPACT_RE.match(text, pos)
    if match is None:
        return pos, []
    try:
        args, end = _DECODER.raw_decode(text, match.end())
    except _JSON_ERRORS:
        return pos, []
    call = _make_call(match.group(1), args, names)
    return (end, [call]) if call is not None else (pos, [])


def _parse_mistral(text: str, names: set[str]) -> ParsedReply:
    spans: list[_Span] = []
    pos = 0
    while (tag_at := text.find(_MISTRAL_TAG, pos)) >= 0:
        end, calls = _mistral_chunk(text, tag_at + len(_MISTRAL_TAG), names)
        if calls:
            spans.append(_Span(tag_at, end, calls))
            pos = end
        else:
            pos = tag_at + len(_MISTRAL_TAG)
    if not spans:
        # The engine may drop the [TOOL_CALLS] control token from the text; accept the call
        # shapes on their own when the reply starts with them.
        lead = len(text) - len(text.lstrip())
        if _starts_with_any(text[lead:], _mistral_start(names)):
            end, calls = _mistral_chunk(text, lead, names)
            if calls:
                spans.append(_Span(lead, end, calls))
    return _assemble(text, spans)


# -- gpt-oss (harmony) --------------------------------------------------------------------------

_H_START: Final = "<|start|>"
_H_CHANNEL: Final = "<|channel|>"
_H_MESSAGE: Final = "<|message|>"
_H_ENDS: Final = ("<|end|>", "<|call|>", "<|return|>")
_H_HEADERS: Final = (_H_START, _H_CHANNEL)
_H_PARTIAL_RE: Final = re.compile(r"<(?:\|[a-z_]*\|?)?\Z")
_H_RECIPIENT_RE: Final = re.compile(r"\bto=([^\s<]+)")
_H_CHANNEL_RE: Final = re.compile(r"<\|channel\|>\s*([A-Za-z_]+)")


def _hold_partial_token(text: str) -> str:
    """Drop a trailing ``<|...`` that may still become a harmony token."""
    match = _H_PARTIAL_RE.search(text)
    return text if match is None else text[: match.start()]


@dataclass
class _HarmonyScan:
    content: list[str]
    reasoning: list[str]
    calls: list[ToolCall]


def _scan_harmony(text: str, names: set[str], *, partial: bool) -> _HarmonyScan:
    """Walk harmony messages.

    With ``partial`` (streaming) the scan stops where the outcome is not known yet: inside a
    header, or inside a message addressed to a tool, whose JSON may still turn out malformed.
    """
    scan = _HarmonyScan([], [], [])
    pos, _ = _first_of(text, _H_HEADERS)
    if pos < 0:
        scan.content.append(_hold_partial_token(text) if partial else text)
        return scan
    scan.content.append(text[:pos])
    while pos < len(text):
        message_at = text.find(_H_MESSAGE, pos)
        if message_at < 0:
            # A header with no body yet (streaming) or a dangling one (dropped: no text in it).
            break
        header = text[pos:message_at]
        body_at = message_at + len(_H_MESSAGE)
        end_at, terminator = _first_of(text, (*_H_ENDS, _H_START), body_at)
        complete = end_at >= 0
        if not complete:
            # The engine usually stops on <|call|> or <|return|> without keeping the token.
            end_at = len(text)
        body = text[body_at:end_at]
        recipient = _H_RECIPIENT_RE.search(header)
        channel = _H_CHANNEL_RE.search(header)
        if recipient is not None:
            if partial and not complete:
                return scan
            target = recipient.group(1)
            call = None
            if target.startswith("functions."):
                args = _json_object(_strip_fence(body))
                if args is not None:
                    call = _make_call(target[len("functions.") :], args, names)
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
        pos = end_at if terminator == _H_START else end_at + len(terminator)
        next_at, _ = _first_of(text, _H_HEADERS, pos)
        if next_at < 0:
            rest = text[pos:]
            scan.content.append(_hold_partial_token(rest) if partial else rest)
            break
        scan.content.append(text[pos:next_at])
        pos = next_at
    return scan


def _join_parts(parts: list[str]) -> str:
    return "\n\n".join(p.strip() for p in parts if p.strip())


def _parse_harmony(text: str, names: set[str]) -> ParsedReply:
    scan = _scan_harmony(text, names, partial=False)
    content = _join_parts(scan.content)
    reasoning = _join_parts(scan.reasoning)
    return ParsedReply(content or None, scan.calls, reasoning or None)


def _harmony_stable(text: str, names: set[str]) -> tuple[str, bool]:
    return _join_parts(_scan_harmony(text, names, partial=True).content), False


# -- Format table -------------------------------------------------------------------------------


def _no_start(_names: set[str]) -> tuple[str, ...]:
    return ()


def _json_start(_names: set[str]) -> tuple[str, ...]:
    return _JSON_START


def _llama3_start(_names: set[str]) -> tuple[str, ...]:
    return ("{",)


@dataclass(frozen=True)
class _Format:
    parse: Callable[[str, set[str]], ParsedReply]
    anywhere: tuple[str, ...] = ()
    start: Callable[[set[str]], tuple[str, ...]] = _no_start
    # Formats that are not marker-driven (harmony) compute the stable content themselves.
    stable: Callable[[str, set[str]], tuple[str, bool]] | None = None


_FORMATS: Final[dict[str, _Format]] = {
    "qwen": _Format(_parse_hermes, (_TOOL_CALL_TAG,), _json_start),
    "generic": _Format(_parse_hermes, (_TOOL_CALL_TAG,), _json_start),
    "llama3": _Format(_parse_llama3, (_PYTHON_TAG,), _llama3_start),
    "glm4": _Format(_parse_glm4, (_GLM_ASSISTANT, _TOOL_CALL_TAG), _glm4_start),
    "gemma": _Format(_parse_gemma, _GEMMA_BLOCKS, _gemma_start),
    "deepseek": _Format(_parse_deepseek, _DS_MARKERS),
    "mistral": _Format(_parse_mistral, (_MISTRAL_TAG,), _mistral_start),
    "gpt-oss": _Format(_parse_harmony, stable=_harmony_stable),
}
if set(_FORMATS) != PARSERS:  # pragma: no cover - a guard for whoever adds a format
    raise RuntimeError("toolcalls: PARSERS and the format table disagree")


def _format_for(parser: str | None) -> _Format:
    name = "generic" if parser is None else parser
    fmt = _FORMATS.get(name)
    if fmt is None:
        supported = ", ".join(sorted(PARSERS))
        raise ValueError(f"Unknown tool-call parser {parser!r}; supported: {supported}.")
    return fmt


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


# -- Public parsing API -------------------------------------------------------------------------


def parse_tool_calls(text: str, parser: str | None, tool_names: set[str]) -> ParsedReply:
    """Extract tool calls from a finished model reply in the family's format.

    Args:
        text: The whole reply, with the family's special tokens kept in the text.
        parser: One of `PARSERS`; None means "generic".
        tool_names: Names of the request's tools. Calls to other names are not calls: their
            markup stays in the content.

    Returns:
        The content outside the markup (stripped, None when empty) and the calls found.
        Malformed markup leaves the text as content.

    Raises:
        ValueError: ``parser`` is not one of `PARSERS`.
    """
    return _format_for(parser).parse(text, set(tool_names))


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
        self._format = _format_for(parser)
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


# -- Forced calls (tool_choice "required" or a named function) ----------------------------------

_EMPTY_PARAMETERS: Final[dict[str, Any]] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class _FunctionSpec:
    name: str
    description: str
    parameters: dict[str, Any]


def _function_specs(tools: Iterable[Any]) -> list[_FunctionSpec]:
    """The function tools in a request, OpenAI-shaped or bare; anything else is skipped."""
    specs: list[_FunctionSpec] = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        nested = tool.get("function")
        spec: dict[str, Any] = nested if isinstance(nested, dict) else tool
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            continue
        params = spec.get("parameters")
        description = spec.get("description")
        specs.append(
            _FunctionSpec(
                name,
                description.strip() if isinstance(description, str) else "",
                params if isinstance(params, dict) and params else _EMPTY_PARAMETERS,
            )
        )
    return specs


def _choice_name(tool_choice: dict[str, Any]) -> str:
    nested = tool_choice.get("function")
    name = nested.get("name") if isinstance(nested, dict) else tool_choice.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(
            "tool_choice must name a function: "
            '{"type": "function", "function": {"name": "<tool name>"}}.'
        )
    return name


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                for old, new in renames.items():
                    if value == old or value.startswith(old + "/"):
                        value = new + value[len(old) :]
                        break
                out[key] = value
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _hoist_definitions(name: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move a tool's ``$defs`` to the root of the combined schema.

    Local refs such as ``#/$defs/Item`` resolve against the root document; once the parameters
    sit under ``arguments`` they would point nowhere. Definitions get a per-tool prefix so two
    tools may both have an ``Item``.
    """
    params = copy.deepcopy(params)
    renames: dict[str, str] = {}
    definitions: dict[str, Any] = {}
    for section in ("$defs", "definitions"):
        local = params.pop(section, None)
        if not isinstance(local, dict):
            continue
        for key, value in local.items():
            new_key = f"{name}__{key}"
            renames[f"#/{section}/{key}"] = f"#/$defs/{new_key}"
            definitions[new_key] = value
    if not renames:
        return params, {}
    return _rewrite_refs(params, renames), _rewrite_refs(definitions, renames)


def forced_call_schema(
    tools: list[dict[str, Any]], tool_choice: str | dict[str, Any]
) -> dict[str, Any]:
    """JSON schema a grammar can enforce when a tool call is mandatory.

    Args:
        tools: The request's ``tools`` (OpenAI shape; bare function objects are accepted too).
        tool_choice: ``"required"`` or ``{"type": "function", "function": {"name": ...}}``.

    Returns:
        ``{"name": <const tool name>, "arguments": <that tool's parameters schema>}`` as an
        object schema, or an ``anyOf`` over all tools for ``"required"``. ``name`` comes first so
        the model commits to a tool before writing arguments.

    Raises:
        ValueError: No tools, a ``tool_choice`` that forces nothing, or a named function that is
            not among ``tools``.
    """
    functions = [(f.name, f.parameters) for f in _function_specs(tools)]
    if tool_choice == "required":
        chosen = functions
        if not chosen:
            raise ValueError('tool_choice "required" needs at least one function in `tools`.')
    elif isinstance(tool_choice, dict):
        wanted = _choice_name(tool_choice)
        chosen = [f for f in functions if f[0] == wanted]
        if not chosen:
            available = ", ".join(repr(f[0]) for f in functions) or "none"
            raise ValueError(
                f"tool_choice names the function {wanted!r}, which is not among the request's "
                f"tools (available: {available})."
            )
    else:
        raise ValueError(
            f'tool_choice {tool_choice!r} does not force a call; use "required" or '
            '{"type": "function", "function": {"name": ...}}.'
        )
    variants: list[dict[str, Any]] = []
    definitions: dict[str, Any] = {}
    for name, params in chosen:
        arguments, own = _hoist_definitions(name, params)
        definitions.update(own)
        variants.append(
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "const": name},
                    "arguments": arguments,
                },
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    schema: dict[str, Any] = variants[0] if len(variants) == 1 else {"anyOf": variants}
    if definitions:
        schema = {**schema, "$defs": definitions}
    return schema


def forced_call_to_tool_call(json_text: str) -> ToolCall:
    """Turn text generated under `forced_call_schema` into a call.

    Args:
        json_text: ``{"name": ..., "arguments": {...}}``; arguments given as a JSON string, or
            under "parameters", are accepted too.

    Returns:
        The call, with a fresh id.

    Raises:
        ValueError: The text is not such an object (for example, generation was cut short).
    """
    value = _json_value(json_text)
    if not isinstance(value, dict):
        raise ValueError(f"The forced tool call is not a JSON object: {json_text[:200]!r}")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"The forced tool call has no function name: {json_text[:200]!r}")
    call = _call_from_obj(value, {name}, require_args=False)
    if call is None:
        raise ValueError(
            f"The forced tool call's arguments are not a JSON object: {json_text[:200]!r}"
        )
    return call


# -- Tools for templates that know nothing of them ---------------------------------------------


def generic_tool_prompt(tools: list[dict[str, Any]]) -> str:
    """System-prompt text that teaches any chat model the generic tool-call format.

    Args:
        tools: The request's ``tools``.

    Returns:
        Text listing each tool (name, description, JSON parameters schema) and asking for
        ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` when a tool is wanted, which
        the "generic" parser reads.
    """
    lines = [
        "# Tools",
        "",
        "You can call the following tools (functions) to help with the user's request.",
    ]
    for spec in _function_specs(tools):
        lines += ["", f"## {spec.name}"]
        if spec.description:
            lines.append(spec.description)
        parameters = json.dumps(spec.parameters, ensure_ascii=False)
        lines.append(f"Parameters (JSON Schema): {parameters}")
    lines += [
        "",
        "# How to call a tool",
        "",
        "To call a tool, write a JSON object with the tool's name and its arguments inside "
        "<tool_call></tool_call> tags, exactly like this:",
        '<tool_call>{"name": "<tool name>", "arguments": {"<parameter>": "<value>"}}</tool_call>',
        "",
        "- Write one <tool_call> block per call; to call several tools, write several blocks.",
        "- The arguments must be a valid JSON object that follows the tool's parameter schema.",
        "- After your tool calls, stop. The results will come back to you in "
        "<tool_response> blocks; then use them to answer.",
        "- If no tool is needed, answer normally without any <tool_call> block.",
    ]
    return "\n".join(lines)


def _message_text(content: Any) -> str:
    """The text of a message's content, whether a string or a list of OpenAI content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
        return "\n".join(texts)
    dumped = _dumps(content)
    return dumped if dumped is not None else str(content)


def _call_markup(name: str, arguments: Any) -> str:
    if isinstance(arguments, str):
        parsed = _json_value(arguments) if arguments.strip() else {}
        # Keep unparseable argument text as a string rather than dropping what the model wrote.
        arguments = arguments if parsed is _NO_VALUE else parsed
    body = _dumps({"name": name, "arguments": arguments})
    if body is None:
        body = json.dumps({"name": name, "arguments": str(arguments)}, ensure_ascii=False)
    return f"{_TOOL_CALL_TAG}{body}</tool_call>"


def tool_result_messages_to_text(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rewrite tool traffic as plain turns for templates without tool support.

    Assistant messages carrying ``tool_calls`` (or the legacy ``function_call``) become assistant
    text with ``<tool_call>`` blocks, in the same format `generic_tool_prompt` asks for; ``tool``
    (and legacy ``function``) results become user turns with ``<tool_response>`` blocks. Adjacent
    turns of the same role that this creates are merged, because many templates (Gemma, Mistral)
    insist on strict user/assistant alternation.

    Args:
        messages: OpenAI-style chat messages; not modified.

    Returns:
        A new list of messages with only plain ``content`` strings where tools were involved.
    """
    names_by_id: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    converted: list[bool] = []

    def add(message: dict[str, Any], was_converted: bool) -> None:
        if (
            out
            and (was_converted or converted[-1])
            and message.get("role") in ("user", "assistant")
            and out[-1].get("role") == message.get("role")
            and isinstance(out[-1].get("content"), str)
            and isinstance(message.get("content"), str)
        ):
            previous = out[-1]["content"]
            joined = f"{previous}\n\n{message['content']}" if previous else message["content"]
            out[-1] = {**out[-1], "content": joined}
            converted[-1] = True
            return
        out.append(message)
        converted.append(was_converted)

    for message in messages:
        role = message.get("role")
        calls = message.get("tool_calls")
        legacy_call = message.get("function_call")
        if role == "assistant" and (calls or isinstance(legacy_call, dict)):
            parts: list[str] = []
            text = _message_text(message.get("content")).strip()
            if text:
                parts.append(text)
            call_list = calls if isinstance(calls, list) else [{"function": legacy_call}]
            for call in call_list:
                if not isinstance(call, dict):
                    continue
                raw_function = call.get("function")
                function: dict[str, Any] = raw_function if isinstance(raw_function, dict) else {}
                call_name = str(function.get("name") or "")
                if isinstance(call.get("id"), str):
                    names_by_id[call["id"]] = call_name
                parts.append(_call_markup(call_name, function.get("arguments", {})))
            rewritten = {
                k: v
                for k, v in message.items()
                if k not in ("tool_calls", "function_call", "content")
            }
            rewritten["content"] = "\n".join(parts)
            add(rewritten, True)
        elif role in ("tool", "function"):
            call_id = message.get("tool_call_id")
            tool_name = message.get("name") or (
                names_by_id.get(call_id) if isinstance(call_id, str) else None
            )
            attribute = (
                f" name={json.dumps(str(tool_name), ensure_ascii=False)}" if tool_name else ""
            )
            result = _message_text(message.get("content"))
            block = f"<tool_response{attribute}>\n{result}\n</tool_response>"
            add({"role": "user", "content": block}, True)
        else:
            add(dict(message), False)
    return out
