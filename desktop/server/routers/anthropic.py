"""Anthropic's Messages API on the served chat models: `POST /v1/messages` (also under
`/anthropic/v1/messages`, as Xinference serves it) and the model list.

A request becomes the chat request the OpenAI route would make (system prompt, text, tool_use
and tool_result blocks as messages and tool calls; tools and tool_choice), so templates, tools,
grammar and batching are the same. Streams follow Anthropic's event order: `message_start`,
`content_block_start`, `ping`, `content_block_delta`..., `content_block_stop`, `message_delta`,
`message_stop`; an error after the start is an `error` event.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from desktop.api.anthropic import (
    AnthropicCountRequest,
    AnthropicMessage,
    AnthropicModel,
    AnthropicModels,
    AnthropicRequest,
    AnthropicResponse,
    AnthropicTokenCount,
    AnthropicUsage,
)
from desktop.core.errors import InvalidRequest, XinDeskError
from desktop.server.deps import SupervisorDep, require_api_key
from desktop.server.streams import Events, collected
from desktop.server.streams import started as started_events

router = APIRouter(dependencies=[Depends(require_api_key)], tags=["anthropic"])

_STOP_REASONS: dict[str, Literal["end_turn", "max_tokens", "stop_sequence", "tool_use"]] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
}


def _text_of(blocks: str | list[dict[str, Any]], where: str) -> str:
    if isinstance(blocks, str):
        return blocks
    parts = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            parts.append(str(block.get("text", "")))
        elif kind == "image":
            raise InvalidRequest(
                f"{where}: this server reads text only; image blocks cannot be sent to it."
            )
        elif kind in ("thinking", "redacted_thinking"):
            continue
        else:
            raise InvalidRequest(f"{where}: a {kind!r} block cannot appear here.")
    return "".join(parts)


def _messages(body: AnthropicCountRequest) -> list[dict[str, Any]]:
    """Anthropic's conversation as OpenAI-style chat messages."""
    out: list[dict[str, Any]] = []
    if body.system:
        out.append({"role": "system", "content": _text_of(body.system, "system")})
    for number, message in enumerate(body.messages):
        where = f"messages[{number}]"
        if isinstance(message.content, str):
            out.append({"role": message.role, "content": message.content})
            continue
        if message.role == "assistant":
            out.append(_assistant(message, where))
            continue
        results = [b for b in message.content if b.get("type") == "tool_result"]
        others = [b for b in message.content if b.get("type") != "tool_result"]
        for block in results:
            content = block.get("content", "")
            text = content if isinstance(content, str) else _text_of(content, where)
            if block.get("is_error"):
                text = f"Error: {text}"
            out.append(
                {"role": "tool", "tool_call_id": str(block.get("tool_use_id", "")), "content": text}
            )
        if others or not results:
            out.append({"role": "user", "content": _text_of(others, where)})
    return out


def _assistant(message: AnthropicMessage, where: str) -> dict[str, Any]:
    blocks = message.content if isinstance(message.content, list) else []
    text = _text_of([b for b in blocks if b.get("type") != "tool_use"], where)
    item: dict[str, Any] = {"role": "assistant", "content": text}
    calls = [
        {
            "id": str(b.get("id") or f"toolu_{index}"),
            "type": "function",
            "function": {
                "name": str(b.get("name", "")),
                "arguments": json.dumps(b.get("input") or {}, ensure_ascii=False),
            },
        }
        for index, b in enumerate(blocks)
        if b.get("type") == "tool_use"
    ]
    if calls:
        item["tool_calls"] = calls
    return item


def _tool_choice(choice: dict[str, Any] | None) -> Any:
    if choice is None:
        return None
    kind = choice.get("type")
    if kind == "auto":
        return "auto"
    if kind == "any":
        return "required"
    if kind == "none":
        return "none"
    if kind == "tool":
        return {"type": "function", "function": {"name": str(choice.get("name", ""))}}
    raise InvalidRequest(f"tool_choice.type must be auto, any, tool or none, not {kind!r}.")


def _params(body: AnthropicRequest) -> dict[str, Any]:
    params = _prompt_params(body) | {"max_tokens": body.max_tokens}
    for key in ("temperature", "top_p", "top_k"):
        value = getattr(body, key)
        if value is not None:
            params[key] = value
    if body.stop_sequences:
        params["stop"] = body.stop_sequences
    return params


def _prompt_params(body: AnthropicCountRequest) -> dict[str, Any]:
    """What decides the prompt: the messages, the system prompt, tools and thinking."""
    params: dict[str, Any] = {"messages": _messages(body)}
    if body.tools:
        params["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description or "",
                    "parameters": tool.input_schema,
                },
            }
            for tool in body.tools
        ]
        choice = _tool_choice(body.tool_choice)
        if choice is not None:
            params["tool_choice"] = choice
    if body.thinking is not None:
        enabled = body.thinking.get("type") == "enabled"
        params["chat_template_kwargs"] = {"enable_thinking": enabled}
    return params


def _tool_use(call: dict[str, Any]) -> dict[str, Any]:
    try:
        arguments = json.loads(call.get("arguments") or "{}")
    except json.JSONDecodeError:
        arguments = {"value": call.get("arguments")}
    return {"type": "tool_use", "id": call["id"], "name": call["name"], "input": arguments}


def _stop_reason(
    done: dict[str, Any], calls: bool
) -> Literal["end_turn", "max_tokens", "stop_sequence", "tool_use"]:
    if calls:
        return "tool_use"
    return _STOP_REASONS.get(str(done.get("finish_reason") or "stop"), "end_turn")


def _usage(done: dict[str, Any]) -> AnthropicUsage:
    usage = done.get("usage") or {}
    return AnthropicUsage(
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
    )


@router.post("/v1/messages/count_tokens")
@router.post("/anthropic/v1/messages/count_tokens", include_in_schema=False)
async def count_tokens(
    body: AnthropicCountRequest, supervisor: SupervisorDep
) -> AnthropicTokenCount:
    """The prompt's length in the model's tokens, laid out by its chat template with the
    tools, as a message would send it."""
    counted = await supervisor.call(body.model, "count", _prompt_params(body))
    return AnthropicTokenCount(input_tokens=int(counted["prompt_tokens"]))


@router.post("/v1/messages", response_model=AnthropicResponse)
@router.post("/anthropic/v1/messages", response_model=AnthropicResponse, include_in_schema=False)
async def messages(body: AnthropicRequest, supervisor: SupervisorDep) -> Any:
    params = _params(body)
    events = await started_events(supervisor.stream(body.model, "chat", params))
    mid = f"msg_{uuid.uuid4().hex}"
    if body.stream:
        return EventSourceResponse(
            _stream(events, mid, body), headers={"Cache-Control": "no-store"}, ping=600
        )
    reply = await collected(events)
    text, calls = reply.text, reply.calls
    content: list[dict[str, Any]] = []
    if reply.reasoning and _shows_thinking(body):
        content.append(_thinking_block(reply.reasoning))
    if text or not calls:
        content.append({"type": "text", "text": text})
    content += [_tool_use(call) for call in calls]
    answer = AnthropicResponse(
        id=mid,
        model=body.model,
        content=content,
        stop_reason=_stop_reason(reply.done, bool(calls)),
        usage=_usage(reply.done),
    )
    return JSONResponse(answer.model_dump(mode="json"))


def _shows_thinking(body: AnthropicRequest) -> bool:
    """Thinking blocks are sent when the request turned thinking on, as Anthropic does; the
    reasoning of a model that thinks regardless stays out of the text either way."""
    return body.thinking is not None and body.thinking.get("type") == "enabled"


# A thinking block's signature lets Anthropic's servers check a block sent back to them; this
# server keeps no secret to sign with, and takes blocks back unchecked.
_NO_SIGNATURE = ""


def _thinking_block(reasoning: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": reasoning, "signature": _NO_SIGNATURE}


def _sse(kind: str, payload: dict[str, Any] | None = None) -> dict[str, str]:
    data = {"type": kind, **(payload or {})}
    return {"event": kind, "data": json.dumps(data, ensure_ascii=False)}


async def _stream(
    events: Events, mid: str, body: AnthropicRequest
) -> AsyncIterator[dict[str, str]]:
    start = AnthropicResponse(
        id=mid,
        model=body.model,
        content=[],
        stop_reason=None,
        usage=AnthropicUsage(input_tokens=0, output_tokens=0),
    )
    yield _sse("message_start", {"message": start.model_dump(mode="json")})
    index = 0
    text_open = False
    thinking_open = False
    calls = False
    done: dict[str, Any] = {}
    show_thinking = _shows_thinking(body)

    def close_thinking() -> list[dict[str, str]]:
        nonlocal index, thinking_open
        if not thinking_open:
            return []
        thinking_open = False
        signed = {"type": "signature_delta", "signature": _NO_SIGNATURE}
        closing = [
            _sse("content_block_delta", {"index": index, "delta": signed}),
            _sse("content_block_stop", {"index": index}),
        ]
        index += 1
        return closing

    try:
        async for kind, payload in events:
            if kind == "reasoning" and show_thinking and payload["text"]:
                if not thinking_open:
                    block = _thinking_block("")
                    yield _sse("content_block_start", {"index": index, "content_block": block})
                    thinking_open = True
                delta = {"type": "thinking_delta", "thinking": payload["text"]}
                yield _sse("content_block_delta", {"index": index, "delta": delta})
                continue
            if kind in ("delta", "tool_calls"):
                for event in close_thinking():
                    yield event
            if kind == "delta" and payload["text"]:
                if not text_open:
                    block = {"type": "text", "text": ""}
                    yield _sse("content_block_start", {"index": index, "content_block": block})
                    yield _sse("ping")
                    text_open = True
                delta = {"type": "text_delta", "text": payload["text"]}
                yield _sse("content_block_delta", {"index": index, "delta": delta})
            elif kind == "tool_calls":
                if text_open:
                    yield _sse("content_block_stop", {"index": index})
                    index, text_open = index + 1, False
                for call in payload["calls"]:
                    calls = True
                    use = _tool_use(call)
                    opened: dict[str, Any] = {**use, "input": {}}
                    yield _sse("content_block_start", {"index": index, "content_block": opened})
                    partial = json.dumps(use["input"], ensure_ascii=False)
                    delta = {"type": "input_json_delta", "partial_json": partial}
                    yield _sse("content_block_delta", {"index": index, "delta": delta})
                    yield _sse("content_block_stop", {"index": index})
                    index += 1
            elif kind == "done":
                done = payload
    except XinDeskError as exc:
        error = {"type": "api_error", "message": str(exc)}
        yield _sse("error", {"error": error})
        return
    for event in close_thinking():
        yield event
    if text_open:
        yield _sse("content_block_stop", {"index": index})
    usage = _usage(done)
    reason = _stop_reason(done, calls)
    yield _sse(
        "message_delta",
        {
            "delta": {"stop_reason": reason, "stop_sequence": None},
            "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
        },
    )
    yield _sse("message_stop")


@router.get("/anthropic/v1/models")
async def models(supervisor: SupervisorDep) -> AnthropicModels:
    """The served chat models, as Anthropic lists models."""
    data = [
        AnthropicModel(
            id=record.uid,
            display_name=record.plan.family.model_name,
            created_at=datetime.fromtimestamp(record.created_ts, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
        )
        for record in supervisor.models()
        if record.plan.model_type == "LLM"
    ]
    return AnthropicModels(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
    )
