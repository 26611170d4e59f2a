"""Forced tool calls (``tool_choice`` "required" or a named function), and the shape of a
request's tools (`check_tools`).

The grammar enforces a JSON schema built from the request's tools (`forced_call_schema`); the text
generated under it becomes one call (`forced_call_to_tool_call`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from desktop.core.engine.toolcalls.reply import ToolCall, call_from_obj, json_value
from desktop.core.errors import InvalidRequest

_EMPTY_PARAMETERS: Final[dict[str, Any]] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class FunctionSpec:
    """One function tool of a request; an empty ``description`` when it has none."""

    name: str
    description: str
    parameters: dict[str, Any]


TOOL_CHOICES = ("none", "auto", "required")


def check_tools(tools: Any, field: str) -> list[tuple[str, Any]]:
    """A request's `tools` (or legacy `functions`) in the shapes OpenAI defines, or an
    `InvalidRequest` that names the first wrong one. Returns each function's `parameters`
    with the field it came from (None where a function takes none)."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise InvalidRequest(f"{field} must be a list of tools.")
    found: list[tuple[str, Any]] = []
    for index, tool in enumerate(tools):
        where = f"{field}[{index}]"
        if not isinstance(tool, dict):
            raise InvalidRequest(
                f'{where} must be an object: {{"type": "function", "function": {{"name": ...}}}}.'
            )
        kind = tool.get("type", "function")
        if kind != "function":
            raise InvalidRequest(f"{where}.type {kind!r} is not served: XinDesk calls functions.")
        if "function" in tool:
            spec, where = tool["function"], f"{where}.function"
            if not isinstance(spec, dict):
                raise InvalidRequest(
                    f"{where} must be an object with a name, description and parameters, not "
                    f"{type(spec).__name__}."
                )
        else:
            spec = tool
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequest(f"{where}.name must be a non-empty string.")
        description = spec.get("description")
        if description is not None and not isinstance(description, str):
            raise InvalidRequest(f"{where}.description must be a string.")
        parameters = spec.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise InvalidRequest(f"{where}.parameters must be a JSON schema object.")
        found.append((f"{where}.parameters", parameters))
    return found


def check_tool_choice(tool_choice: Any) -> None:
    """`tool_choice` is none, auto, required, or an object that names a function."""
    if tool_choice is None or tool_choice in TOOL_CHOICES:
        return
    if isinstance(tool_choice, dict):
        try:
            _choice_name(tool_choice)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from exc
        return
    raise InvalidRequest(
        f"tool_choice {tool_choice!r}: use none, auto, required or "
        '{"type": "function", "function": {"name": ...}}.'
    )


def function_specs(tools: Iterable[Any]) -> list[FunctionSpec]:
    """The function tools in a request, OpenAI-shaped or bare; anything else is skipped."""
    specs: list[FunctionSpec] = []
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
            FunctionSpec(
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
    functions = [(f.name, f.parameters) for f in function_specs(tools)]
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
    value = json_value(json_text)
    if not isinstance(value, dict):
        raise ValueError(f"The forced tool call is not a JSON object: {json_text[:200]!r}")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"The forced tool call has no function name: {json_text[:200]!r}")
    call = call_from_obj(value, {name}, require_args=False)
    if call is None:
        raise ValueError(
            f"The forced tool call's arguments are not a JSON object: {json_text[:200]!r}"
        )
    return call
