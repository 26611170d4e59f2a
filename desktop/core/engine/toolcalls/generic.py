"""Tools for chat templates that know nothing of them.

`generic_tool_prompt` teaches any chat model the ``generic`` format (the Hermes
``<tool_call>`` blocks the ``generic`` parser reads), and `tool_result_messages_to_text` rewrites
earlier calls and their results as plain turns such a template can render.
"""

from __future__ import annotations

import json
from typing import Any

from desktop.core.engine.toolcalls.forced import function_specs
from desktop.core.engine.toolcalls.hermes import TOOL_CALL_TAG
from desktop.core.engine.toolcalls.reply import NO_VALUE, dumps, json_value


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
    for spec in function_specs(tools):
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
    dumped = dumps(content)
    return dumped if dumped is not None else str(content)


def _call_markup(name: str, arguments: Any) -> str:
    if isinstance(arguments, str):
        parsed = json_value(arguments) if arguments.strip() else {}
        # Keep unparseable argument text as a string rather than dropping what the model wrote.
        arguments = arguments if parsed is NO_VALUE else parsed
    body = dumps({"name": name, "arguments": arguments})
    if body is None:
        body = json.dumps({"name": name, "arguments": str(arguments)}, ensure_ascii=False)
    return f"{TOOL_CALL_TAG}{body}</tool_call>"


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
