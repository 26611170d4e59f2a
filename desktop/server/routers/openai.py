"""OpenAI-compatible inference routes, with Xinference's streaming details.

Chat streams: the first chunk carries the role, the finishing chunk's delta is exactly
`{"content": ""}`, a usage chunk with empty `choices` follows when asked for, then `data: [DONE]`.
Completion streams end without `[DONE]`, as Xinference's do. An error after the stream started
is sent in-band as `data: {"error": "..."}` (the status line is already 200 by then).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import struct
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sse_starlette import EventSourceResponse

from desktop.api.openai import (
    AssistantMessage,
    ChatChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    ChunkChoice,
    ChunkDelta,
    Completion,
    CompletionChoice,
    CompletionRequest,
    Embedding,
    EmbeddingList,
    EmbeddingRequest,
    EmbeddingUsage,
    FunctionCall,
    RerankAnswer,
    RerankDocument,
    RerankMeta,
    RerankRequest,
    RerankResult,
    RerankTokens,
    StreamError,
    StreamToolCall,
    ToolCall,
    Usage,
)
from desktop.core.errors import InvalidRequest, XinDeskError
from desktop.core.running.supervisor import Supervisor
from desktop.server.deps import SupervisorDep, require_api_key
from desktop.server.openapi import streamed

log = logging.getLogger("xindesk.server")

router = APIRouter(dependencies=[Depends(require_api_key)], tags=["openai"])

_SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
# Fields of the request body that are routing, not generation parameters.
_NOT_PARAMS = {
    "model",
    "stream",
    "stream_options",
    "messages",
    "prompt",
    "user",
    "n",
    "echo",
    "keep_alive",
}

#: While a model loads for a streamed request, a comment line this often keeps proxies and
#: FastGPT's client from giving up on a quiet connection.
LOAD_KEEPALIVE_S = 5.0


def _event(payload: BaseModel) -> dict[str, str]:
    """One `data:` event; only the fields that were given (OpenAI leaves the others out)."""
    return {
        "data": json.dumps(payload.model_dump(mode="json", exclude_unset=True), ensure_ascii=False)
    }


def _answer(payload: BaseModel) -> JSONResponse:
    return JSONResponse(payload.model_dump(mode="json", exclude_unset=True))


def _text_content(message: ChatMessage) -> str | None:
    content = message.content
    if content is None or isinstance(content, str):
        return content
    parts = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            parts.append(str(part.get("text", "")))
        else:
            raise InvalidRequest(
                f"This server reads text only; a message part of type {kind!r} cannot be used."
            )
    return "".join(parts)


def _chat_params(body: ChatRequest) -> dict[str, Any]:
    if not body.messages:
        raise InvalidRequest("Invalid input. Please specify the prompt.")
    if body.logit_bias:
        raise InvalidRequest("logit_bias is not supported by XinDesk.")
    params = {k: v for k, v in body.model_dump(exclude_none=True).items() if k not in _NOT_PARAMS}
    messages = []
    for message in body.messages:
        item = message.model_dump(exclude_none=True)
        item["role"] = "system" if message.role == "developer" else message.role
        item["content"] = _text_content(message) or ""
        messages.append(item)
    params["messages"] = messages
    kwargs = params.get("chat_template_kwargs")
    if isinstance(kwargs, str):
        try:
            kwargs = json.loads(kwargs)
        except (ValueError, RecursionError) as exc:
            raise InvalidRequest(f"chat_template_kwargs is not valid JSON: {exc}") from exc
        if not isinstance(kwargs, dict):
            raise InvalidRequest(
                "chat_template_kwargs must be a JSON object of template variables, such as "
                '{"enable_thinking": false}.'
            )
        params["chat_template_kwargs"] = kwargs
    return params


def _sampling_params(body: CompletionRequest) -> dict[str, Any]:
    if body.logit_bias:
        raise InvalidRequest("logit_bias is not supported by XinDesk.")
    params = {k: v for k, v in body.model_dump(exclude_none=True).items() if k not in _NOT_PARAMS}
    params["prompt"] = body.prompt
    return params


def _tool_calls(calls: list[dict[str, str]]) -> list[ToolCall]:
    return [
        ToolCall(
            id=call["id"],
            type="function",
            function=FunctionCall(name=call["name"], arguments=call["arguments"]),
        )
        for call in calls
    ]


def _stream_tool_calls(calls: list[dict[str, str]]) -> list[StreamToolCall]:
    return [
        StreamToolCall(
            index=index,
            id=call["id"],
            type="function",
            function=FunctionCall(name=call["name"], arguments=call["arguments"]),
        )
        for index, call in enumerate(calls)
    ]


Events = AsyncIterator[tuple[str, dict[str, Any]]]


async def started_events(events: AsyncGenerator[tuple[str, dict[str, Any]], None]) -> Events:
    """Pull the first event before answering, so errors found up front (a prompt too long, an
    unknown tool) get a real HTTP status; return all the events, that one included."""
    try:
        first: tuple[str, dict[str, Any]] | None = await events.__anext__()
    except StopAsyncIteration:
        first = None

    async def replay() -> Events:
        try:
            if first is not None:
                yield first
            async for item in events:
                yield item
        finally:
            # A client that goes away closes this; close the request too, which cancels it in
            # the worker at once.
            await events.aclose()

    return replay()


def _sse(items: AsyncIterator[dict[str, str]]) -> EventSourceResponse:
    return EventSourceResponse(items, headers=_SSE_HEADERS, ping=600, sep="\r\n")


async def _after_load(
    supervisor: Supervisor,
    uid: str,
    op: str,
    answer: Callable[[], Awaitable[AsyncIterator[dict[str, str]]]],
) -> AsyncIterator[dict[str, str]]:
    """A stream whose model loads first: SSE comments while it loads (the status line is
    sent at once, so FastGPT and proxies see a live answer), then the answer's events; a load
    that fails ends the stream with the error."""
    load = asyncio.ensure_future(supervisor.ready_for(uid, op))
    try:
        while not load.done():
            await asyncio.wait({load}, timeout=LOAD_KEEPALIVE_S)
            if not load.done():
                yield {"comment": "loading the model"}
        load.result()
        async for item in await answer():
            yield item
    except XinDeskError as exc:
        log.warning("stream for %s ended with an error: %s", uid, exc)
        yield _event(StreamError(error=str(exc)))
    finally:
        load.cancel()


@router.post(
    "/v1/chat/completions",
    response_model=None,
    responses=streamed(ChatCompletion, ChatCompletionChunk, ends_with_done=True),
)
async def chat_completions(body: ChatRequest, supervisor: SupervisorDep) -> Any:
    params = _chat_params(body)
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    include_usage = bool((body.stream_options or {}).get("include_usage"))

    async def answer() -> AsyncIterator[dict[str, str]]:
        events = await started_events(
            supervisor.stream(body.model, "chat", params, keep_alive=body.keep_alive)
        )
        return _chat_stream(events, cid, created, body.model, include_usage)

    if body.stream and supervisor.needs_load(body.model, "chat"):
        return _sse(_after_load(supervisor, body.model, "chat", answer))
    events = await started_events(
        supervisor.stream(body.model, "chat", params, keep_alive=body.keep_alive)
    )
    if body.stream:
        return _sse(_chat_stream(events, cid, created, body.model, include_usage))
    text, calls, done = "", [], {}
    async for kind, payload in events:
        if kind == "delta":
            text += payload["text"]
        elif kind == "tool_calls":
            calls.extend(payload["calls"])
        elif kind == "done":
            done = payload
    message = AssistantMessage(role="assistant", content=text if (text or not calls) else None)
    if calls:
        message.tool_calls = _tool_calls(calls)
    return _answer(
        ChatCompletion(
            id=cid,
            object="chat.completion",
            created=created,
            model=body.model,
            choices=[
                ChatChoice(
                    index=0,
                    message=message,
                    logprobs=None,
                    finish_reason=done.get("finish_reason", "stop"),
                )
            ],
            usage=Usage.model_validate(done.get("usage", {})),
        )
    )


async def _chat_stream(
    events: Events,
    cid: str,
    created: int,
    model: str,
    include_usage: bool,
) -> AsyncIterator[dict[str, str]]:
    def chunk(delta: ChunkDelta, finish: str | None = None) -> dict[str, str]:
        return _event(
            ChatCompletionChunk(
                id=cid,
                model=model,
                object="chat.completion.chunk",
                created=created,
                choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish)],
            )
        )

    yield chunk(ChunkDelta(role="assistant", content=None))
    try:
        async for kind, payload in events:
            if kind == "delta":
                yield chunk(ChunkDelta(content=payload["text"]))
            elif kind == "tool_calls":
                yield chunk(ChunkDelta(tool_calls=_stream_tool_calls(payload["calls"])))
            elif kind == "done":
                yield chunk(ChunkDelta(content=""), payload.get("finish_reason", "stop"))
                if include_usage:
                    yield _event(
                        ChatCompletionChunk(
                            id=cid,
                            model=model,
                            object="chat.completion.chunk",
                            created=created,
                            choices=[],
                            usage=Usage.model_validate(payload.get("usage", {})),
                        )
                    )
    except XinDeskError as exc:
        log.warning("chat stream %s ended with an error: %s", cid, exc)
        yield _event(StreamError(error=str(exc)))
        return
    yield {"data": "[DONE]"}


@router.post(
    "/v1/completions",
    response_model=None,
    responses=streamed(Completion, Completion, ends_with_done=False),
)
async def completions(body: CompletionRequest, supervisor: SupervisorDep) -> Any:
    params = _sampling_params(body)
    cid = f"cmpl-{uuid.uuid4().hex}"
    created = int(time.time())

    def completion(text: str, finish: str | None, usage: Usage | None) -> Completion:
        answer = Completion(
            id=cid,
            object="text_completion",
            created=created,
            model=body.model,
            choices=[CompletionChoice(text=text, index=0, logprobs=None, finish_reason=finish)],
        )
        if usage is not None:
            answer.usage = usage
        return answer

    async def stream(events: Events) -> AsyncIterator[dict[str, str]]:
        try:
            async for kind, payload in events:
                if kind == "delta":
                    yield _event(completion(payload["text"], None, None))
                elif kind == "done":
                    usage = payload.get("usage")
                    yield _event(
                        completion(
                            "",
                            payload.get("finish_reason", "stop"),
                            Usage.model_validate(usage) if usage is not None else None,
                        )
                    )
        except XinDeskError as exc:
            yield _event(StreamError(error=str(exc)))

    async def answer() -> AsyncIterator[dict[str, str]]:
        return stream(await started_events(started()))

    def started() -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        return supervisor.stream(body.model, "complete", params, keep_alive=body.keep_alive)

    if body.stream and supervisor.needs_load(body.model, "complete"):
        return _sse(_after_load(supervisor, body.model, "complete", answer))
    events = await started_events(started())
    if body.stream:
        return _sse(stream(events))
    text, done = "", {}
    async for kind, payload in events:
        if kind == "delta":
            text += payload["text"]
        elif kind == "done":
            done = payload
    if body.echo and isinstance(body.prompt, str):
        text = body.prompt + text
    return _answer(
        completion(
            text, done.get("finish_reason", "stop"), Usage.model_validate(done.get("usage", {}))
        )
    )


@router.post("/v1/embeddings")
async def embeddings(body: EmbeddingRequest, supervisor: SupervisorDep) -> EmbeddingList:
    if body.dimensions is not None:
        raise InvalidRequest(
            "This embedding model has a fixed size; leave `dimensions` out of the request."
        )
    result = await supervisor.call(
        body.model, "embed", {"input": body.input}, keep_alive=body.keep_alive
    )
    data = []
    for index, vector in enumerate(result["embeddings"]):
        value: list[float] | str = vector
        if body.encoding_format == "base64":
            # The openai client asks for base64 by default: little-endian float32 bytes.
            # struct rather than numpy: the server process does not load numpy at all.
            packed = struct.pack(f"<{len(vector)}f", *vector)
            value = base64.b64encode(packed).decode("ascii")
        data.append(Embedding(index=index, object="embedding", embedding=value))
    tokens = int(result["prompt_tokens"])
    return EmbeddingList(
        object="list",
        model=body.model,
        model_replica=f"{body.model}-rep0",
        data=data,
        usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
    )


def _doc_text(document: str | dict[str, Any], what: str) -> str:
    if isinstance(document, str):
        return document
    text = document.get("text")
    if isinstance(text, str):
        return text
    raise InvalidRequest(f"Each {what} must be a string or an object with a `text` field.")


@router.post("/v1/rerank")
async def rerank(body: RerankRequest, supervisor: SupervisorDep) -> RerankAnswer:
    query = _doc_text(body.query, "query")
    documents = [_doc_text(d, "document") for d in body.documents]
    result = await supervisor.call(
        body.model,
        "rerank",
        {"query": query, "documents": documents},
        keep_alive=body.keep_alive,
    )
    scores: list[float] = result["scores"]
    order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
    if body.top_n is not None:
        order = order[: body.top_n]
    tokens = int(result["tokens"])
    return RerankAnswer(
        id=str(uuid.uuid4()),
        results=[
            RerankResult(
                index=i,
                relevance_score=scores[i],
                document=RerankDocument(text=documents[i]) if body.return_documents else None,
            )
            for i in order
        ],
        meta=RerankMeta(
            api_version=None,
            billed_units=None,
            warnings=None,
            tokens=RerankTokens(input_tokens=tokens, output_tokens=tokens)
            if body.return_len
            else None,
        ),
    )
