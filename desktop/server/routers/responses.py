"""OpenAI's Responses API (`POST /v1/responses`) on the served chat models.

Input items become the chat request the chat-completions route would make (instructions as
the system message, input_text parts, function_call items as tool calls, their outputs as tool
messages; function tools; `text.format` as the response format), so templates, tools, grammar
and batching are the same. A response is kept in memory (unless `store: false`) so the next
request can continue it with `previous_response_id`. Streams send the Responses events in
order, each with its `sequence_number`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from desktop.api.responses import (
    FunctionChoice,
    ResponseObject,
    ResponsesRequest,
    ResponsesUsage,
)
from desktop.core.errors import InvalidRequest, XinDeskError
from desktop.server.deps import StateDep, require_api_key
from desktop.server.streams import Events, collected
from desktop.server.streams import started as started_events

router = APIRouter(dependencies=[Depends(require_api_key)], tags=["responses"])


def _text_parts(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content must be text or a list of parts.")
    parts = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text"):
            parts.append(str(part.get("text", "")))
        elif kind in ("input_image", "input_file"):
            raise InvalidRequest(
                f"{where}: this server reads text only; {kind} parts cannot be sent to it."
            )
        else:
            raise InvalidRequest(f"{where}: a part of type {kind!r} cannot appear here.")
    return "".join(parts)


def _input_messages(items: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Responses input items as chat messages."""
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    messages: list[dict[str, Any]] = []
    for number, item in enumerate(items):
        where = f"input[{number}]"
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise InvalidRequest(f"{where}.role must be user, assistant, system or developer.")
            messages.append(
                {
                    "role": "system" if role == "developer" else role,
                    "content": _text_parts(item.get("content", ""), where),
                }
            )
        elif kind == "function_call":
            call = {
                "id": str(item.get("call_id") or item.get("id") or f"call_{number}"),
                "type": "function",
                "function": {
                    "name": str(item.get("name", "")),
                    "arguments": str(item.get("arguments") or "{}"),
                },
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output", "")
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": str(item.get("call_id", "")),
                    "content": output if isinstance(output, str) else json.dumps(output),
                }
            )
        elif kind == "reasoning":
            continue
        else:
            raise InvalidRequest(f"{where}: items of type {kind!r} are not supported.")
    return messages


def _tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if not tools:
        return None
    out = []
    for number, tool in enumerate(tools):
        if tool.get("type") != "function":
            raise InvalidRequest(
                f"tools[{number}]: only function tools are served here, not {tool.get('type')!r}."
            )
        out.append(
            {
                "type": "function",
                "function": {
                    "name": tool.get("name", ""),
                    "description": tool.get("description") or "",
                    "parameters": tool.get("parameters") or {"type": "object"},
                },
            }
        )
    return out


def _tool_choice(choice: str | FunctionChoice | None) -> Any:
    if choice is None or isinstance(choice, str):
        return choice
    return {"type": "function", "function": {"name": choice.name}}


def _response_format(text: dict[str, Any] | None) -> dict[str, Any] | None:
    fmt = (text or {}).get("format")
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    if fmt.get("type") == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": fmt.get("name", "answer"), "schema": fmt.get("schema", {})},
        }
    raise InvalidRequest("text.format.type must be text, json_object or json_schema.")


def _params(body: ResponsesRequest, history: list[dict[str, Any]]) -> dict[str, Any]:
    messages = list(history)
    if body.instructions:
        messages = [m for m in messages if m["role"] != "system"]
        messages.insert(0, {"role": "system", "content": body.instructions})
    messages += _input_messages(body.input)
    params: dict[str, Any] = {"messages": messages}
    if body.max_output_tokens is not None:
        params["max_tokens"] = body.max_output_tokens
    for key in ("temperature", "top_p"):
        value = getattr(body, key)
        if value is not None:
            params[key] = value
    tools = _tools(body.tools)
    if tools:
        params["tools"] = tools
        choice = _tool_choice(body.tool_choice)
        if choice is not None:
            params["tool_choice"] = choice
    response_format = _response_format(body.text)
    if response_format is not None:
        params["response_format"] = response_format
    return params


def _call_item(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{uuid.uuid4().hex}",
        "call_id": call["id"],
        "name": call["name"],
        "arguments": call.get("arguments") or "{}",
        "status": "completed",
    }


def _message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}] if text else [],
    }


def _usage(done: dict[str, Any]) -> ResponsesUsage:
    usage = done.get("usage") or {}
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    reasoning = int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
    return ResponsesUsage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=prompt + completion,
        input_tokens_details={"cached_tokens": cached},
        output_tokens_details={"reasoning_tokens": reasoning},
    )


def _response(
    rid: str,
    body: ResponsesRequest,
    created: int,
    output: list[dict[str, Any]],
    done: dict[str, Any] | None,
) -> ResponseObject:
    finished = done is not None
    cut = done is not None and done.get("finish_reason") == "length"
    return ResponseObject(
        id=rid,
        created_at=created,
        status=("incomplete" if cut else "completed") if finished else "in_progress",
        model=body.model,
        output=output,
        usage=_usage(done) if done is not None else None,
        incomplete_details={"reason": "max_output_tokens"} if cut else None,
        instructions=body.instructions,
        tools=body.tools or [],
        tool_choice=body.tool_choice or "auto",
        previous_response_id=body.previous_response_id,
        text=body.text or {"format": {"type": "text"}},
        temperature=body.temperature,
        top_p=body.top_p,
        max_output_tokens=body.max_output_tokens,
        metadata=body.metadata or {},
    )


@router.post("/v1/responses", response_model=ResponseObject)
async def responses(body: ResponsesRequest, state: StateDep) -> Any:
    history: list[dict[str, Any]] = []
    if body.previous_response_id:
        found = state.conversations.get(body.previous_response_id)
        if found is None:
            raise InvalidRequest(
                f"Previous response {body.previous_response_id!r} is not known here (responses "
                "are kept in memory, the latest few hundred, until the server restarts)."
            )
        history = found
    params = _params(body, history)
    events = await started_events(state.supervisor.stream(body.model, "chat", params))
    rid = f"resp_{uuid.uuid4().hex}"
    created = int(time.time())

    def keep(text: str, calls: list[dict[str, Any]]) -> None:
        if body.store is False:
            return
        answer: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            answer["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call.get("arguments") or "{}"},
                }
                for call in calls
            ]
        state.conversations.keep(rid, [*params["messages"], answer])

    if body.stream:
        return EventSourceResponse(
            _stream(events, rid, created, body, keep),
            headers={"Cache-Control": "no-store"},
            ping=600,
        )
    reply = await collected(events)
    text, calls = reply.text, reply.calls
    output = [_reasoning_item(_new_id("rs"), reply.reasoning)] if reply.reasoning else []
    if text or not calls:
        output.append(_message_item(_new_id("msg"), text))
    output += [_call_item(call) for call in calls]
    keep(text, calls)
    answer = _response(rid, body, created, output, reply.done)
    return JSONResponse(answer.model_dump(mode="json"))


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _reasoning_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    """A thinking model's reasoning as an output item (its text, no summary)."""
    content = [{"type": "reasoning_text", "text": text}] if text else []
    return {"id": item_id, "type": "reasoning", "summary": [], "content": content, "status": status}


async def _stream(
    events: Events,
    rid: str,
    created: int,
    body: ResponsesRequest,
    keep: Callable[[str, list[dict[str, Any]]], None],
) -> AsyncIterator[dict[str, str]]:
    number = 0

    def event(kind: str, **payload: Any) -> dict[str, str]:
        nonlocal number
        data = {"type": kind, "sequence_number": number, **payload}
        number += 1
        return {"event": kind, "data": json.dumps(data, ensure_ascii=False)}

    def snapshot(output: list[dict[str, Any]], done: dict[str, Any] | None) -> dict[str, Any]:
        return _response(rid, body, created, output, done).model_dump(mode="json")

    yield event("response.created", response=snapshot([], None))
    yield event("response.in_progress", response=snapshot([], None))
    output: list[dict[str, Any]] = []
    message_id = _new_id("msg")
    reasoning_id = _new_id("rs")
    text = ""
    reasoning = ""
    calls: list[dict[str, Any]] = []
    message_open = False
    reasoning_open = False
    done: dict[str, Any] = {}

    def close_reasoning() -> list[dict[str, str]]:
        nonlocal reasoning_open
        if not reasoning_open:
            return []
        reasoning_open = False
        index = len(output)
        item = _reasoning_item(reasoning_id, reasoning)
        output.append(item)
        common = {"item_id": reasoning_id, "output_index": index, "content_index": 0}
        return [
            event("response.reasoning_text.done", **common, text=reasoning),
            event("response.output_item.done", output_index=index, item=item),
        ]

    def close_message() -> list[dict[str, str]]:
        nonlocal message_open
        message_open = False
        index = len(output)
        part = {"type": "output_text", "text": text, "annotations": []}
        item = _message_item(message_id, text)
        output.append(item)
        common = {"item_id": message_id, "output_index": index, "content_index": 0}
        return [
            event("response.output_text.done", **common, text=text),
            event("response.content_part.done", **common, part=part),
            event("response.output_item.done", output_index=index, item=item),
        ]

    try:
        async for kind, payload in events:
            if kind == "reasoning" and payload["text"]:
                if not reasoning_open:
                    reasoning_open = True
                    opened = _reasoning_item(reasoning_id, "", status="in_progress")
                    yield event("response.output_item.added", output_index=len(output), item=opened)
                reasoning += payload["text"]
                yield event(
                    "response.reasoning_text.delta",
                    item_id=reasoning_id,
                    output_index=len(output),
                    content_index=0,
                    delta=payload["text"],
                )
                continue
            if kind in ("delta", "tool_calls"):
                for closing in close_reasoning():
                    yield closing
            if kind == "delta" and payload["text"]:
                if not message_open:
                    message_open = True
                    index = len(output)
                    opened = _message_item(message_id, "", status="in_progress")
                    yield event("response.output_item.added", output_index=index, item=opened)
                    part = {"type": "output_text", "text": "", "annotations": []}
                    yield event(
                        "response.content_part.added",
                        item_id=message_id,
                        output_index=index,
                        content_index=0,
                        part=part,
                    )
                text += payload["text"]
                yield event(
                    "response.output_text.delta",
                    item_id=message_id,
                    output_index=len(output),
                    content_index=0,
                    delta=payload["text"],
                )
            elif kind == "tool_calls":
                if message_open:
                    for closing in close_message():
                        yield closing
                for call in payload["calls"]:
                    calls.append(call)
                    item = _call_item(call)
                    index = len(output)
                    added = {**item, "arguments": "", "status": "in_progress"}
                    yield event("response.output_item.added", output_index=index, item=added)
                    yield event(
                        "response.function_call_arguments.delta",
                        item_id=item["id"],
                        output_index=index,
                        delta=item["arguments"],
                    )
                    yield event(
                        "response.function_call_arguments.done",
                        item_id=item["id"],
                        output_index=index,
                        arguments=item["arguments"],
                    )
                    output.append(item)
                    yield event("response.output_item.done", output_index=index, item=item)
            elif kind == "done":
                done = payload
    except XinDeskError as exc:
        failed = snapshot(output, None) | {
            "status": "failed",
            "error": {"code": "server_error", "message": str(exc)},
        }
        yield event("response.failed", response=failed)
        return
    for closing in close_reasoning():
        yield closing
    if message_open:
        for closing in close_message():
            yield closing
    keep(text, calls)
    yield event("response.completed", response=snapshot(output, done))
