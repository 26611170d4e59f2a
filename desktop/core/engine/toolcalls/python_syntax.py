"""Tool calls written as Python calls (Gemma, Llama's built-in tools).

``fn(a=1)`` lines or a ``[fn(a=1), g(b=2)]`` list are read with ``ast``, and only literal
arguments are accepted: nothing is evaluated.
"""

from __future__ import annotations

import ast
from typing import Any, Final

from desktop.core.engine.toolcalls.reply import ToolCall, make_call


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


def python_calls(code: str, names: set[str]) -> list[ToolCall] | None:
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
        call = None if name is None else make_call(name, kwargs, names)
        if call is not None:
            calls.append(call)
    return calls
