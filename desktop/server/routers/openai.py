"""OpenAI-compatible inference routes, with Xinference's streaming details.

Chat streams: the first chunk carries the role, the finishing chunk's delta is exactly
`{"content": ""}`, a usage chunk with empty `choices` follows when asked for, then `data: [DONE]`.
Completion streams end without `[DONE]`, as Xinference's do. A stream that cannot finish (the
model's worker crashed or was stopped, the server is shutting down) ends with an error event in
OpenAI's shape, `data: {"error": {"message", "type", "code"}}` (the status line is already 200
by then; openai-python raises it as an `APIError`), then `data: [DONE]`. `n` asks for that many
independent choices (`server.streams`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import struct
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
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
    StreamToolCall,
    ToolCall,
    Usage,
)
from desktop.core.errors import InvalidRequest, XinDeskError
from desktop.core.running.supervisor import Supervisor
from desktop.server.deps import SupervisorDep, require_api_key
from desktop.server.errors import stream_error
from desktop.server.openapi import streamed
from desktop.server.streams import (
    SHUTDOWN_GRACE_S,
    Events,
    choices_asked,
    merged,
    merged_usage,
    open_choices,
)

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


@router.post(
    "/v1/chat/completions",
    response_model=None,
    responses=streamed(ChatCompletion, ChatCompletionChunk, ends_with_done=True),
)
async def chat_completions(body: ChatRequest, supervisor: SupervisorDep) -> Any:
    params = _chat_params(body)
    n = choices_asked(body.model_extra)
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    include_usage = bool((body.stream_options or {}).get("include_usage"))
    shutdown = anyio.Event()

    async def opened() -> list[Events]:
        return await open_choices(
            supervisor, body.model, "chat", params, n, keep_alive=body.keep_alive
        )

    async def stream_when_loaded() -> AsyncIterator[dict[str, str]]:
        return _chat_stream(await opened(), shutdown, cid, created, body.model, include_usage)

    if body.stream and supervisor.needs_load(body.model, "chat"):
        loading = _loading_first(supervisor, body.model, "chat", stream_when_loaded, cid)
        return _sse(loading, shutdown)
    choices = await opened()
    if body.stream:
        return _sse(
            _chat_stream(choices, shutdown, cid, created, body.model, include_usage), shutdown
        )
    texts = [""] * n
    thoughts = [""] * n
    calls: list[list[dict[str, str]]] = [[] for _ in range(n)]
    dones: list[dict[str, Any]] = [{} for _ in range(n)]
    async for index, kind, payload in merged(choices):
        if kind == "delta":
            texts[index] += payload["text"]
        elif kind == "reasoning":
            thoughts[index] += payload["text"]
        elif kind == "tool_calls":
            calls[index].extend(payload["calls"])
        elif kind == "done":
            dones[index] = payload
    answers = []
    for index in range(n):
        text, called = texts[index], calls[index]
        message = AssistantMessage(role="assistant", content=text if (text or not called) else None)
        if thoughts[index]:
            message.reasoning_content = thoughts[index]
        if called:
            message.tool_calls = _tool_calls(called)
        answers.append(
            ChatChoice(
                index=index,
                message=message,
                logprobs=None,
                finish_reason=dones[index].get("finish_reason", "stop"),
            )
        )
    return _answer(
        ChatCompletion(
            id=cid,
            object="chat.completion",
            created=created,
            model=body.model,
            choices=answers,
            usage=Usage.model_validate(merged_usage(dones)),
        )
    )


async def _chat_stream(
    choices: list[Events],
    shutdown: anyio.Event,
    cid: str,
    created: int,
    model: str,
    include_usage: bool,
) -> AsyncIterator[dict[str, str]]:
    def chunk(index: int, delta: ChunkDelta, finish: str | None = None) -> dict[str, str]:
        return _event(
            ChatCompletionChunk(
                id=cid,
                model=model,
                object="chat.completion.chunk",
                created=created,
                choices=[ChunkChoice(index=index, delta=delta, finish_reason=finish)],
            )
        )

    for index in range(len(choices)):
        yield chunk(index, ChunkDelta(role="assistant", content=None))
    dones: list[dict[str, Any]] = [{} for _ in choices]
    try:
        async for index, kind, payload in merged(choices, shutdown):
            if kind == "delta":
                yield chunk(index, ChunkDelta(content=payload["text"]))
            elif kind == "reasoning":
                yield chunk(index, ChunkDelta(reasoning_content=payload["text"]))
            elif kind == "tool_calls":
                yield chunk(index, ChunkDelta(tool_calls=_stream_tool_calls(payload["calls"])))
            elif kind == "done":
                dones[index] = payload
                yield chunk(index, ChunkDelta(content=""), payload.get("finish_reason", "stop"))
        if include_usage:
            yield _event(
                ChatCompletionChunk(
                    id=cid,
                    model=model,
                    object="chat.completion.chunk",
                    created=created,
                    choices=[],
                    usage=Usage.model_validate(merged_usage(dones)),
                )
            )
    except Exception as exc:  # noqa: BLE001 - a stream that fails for any reason says why
        yield _stream_failed(cid, exc)
    yield {"data": "[DONE]"}


def _sse(items: AsyncIterator[dict[str, str]], shutdown: anyio.Event) -> EventSourceResponse:
    return EventSourceResponse(
        items,
        headers=_SSE_HEADERS,
        ping=600,
        sep="\r\n",
        shutdown_event=shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_S,
    )


async def _loading_first(
    supervisor: Supervisor,
    uid: str,
    op: str,
    then: Callable[[], Awaitable[AsyncIterator[dict[str, str]]]],
    cid: str,
) -> AsyncIterator[dict[str, str]]:
    """A stream whose model loads first: SSE comments while it loads (the status line is
    sent at once, so FastGPT and proxies see a live answer), then the answer's events; a load
    that fails ends the stream with the error and `[DONE]`."""
    load = asyncio.ensure_future(supervisor.ready_for(uid, op))
    try:
        while not load.done():
            await asyncio.wait({load}, timeout=LOAD_KEEPALIVE_S)
            if not load.done():
                yield {"comment": "loading the model"}
        load.result()
        answer = await then()
    except Exception as exc:  # noqa: BLE001 - a stream that fails for any reason says why
        yield _stream_failed(cid, exc)
        yield {"data": "[DONE]"}
        return
    finally:
        load.cancel()
    async for item in answer:
        yield item


def _stream_failed(cid: str, exc: Exception) -> dict[str, str]:
    """The error event that ends a stream the server could not finish."""
    if isinstance(exc, XinDeskError):
        log.warning("stream %s ended with an error: %s", cid, exc)
    else:
        log.error("stream %s failed", cid, exc_info=exc)
    return _event(stream_error(exc))


@router.post(
    "/v1/completions",
    response_model=None,
    responses=streamed(Completion, Completion, ends_with_done=False),
)
async def completions(body: CompletionRequest, supervisor: SupervisorDep) -> Any:
    params = _sampling_params(body)
    n = choices_asked(body.model_extra)
    cid = f"cmpl-{uuid.uuid4().hex}"
    created = int(time.time())

    def completion(
        texts: list[tuple[int, str, str | None]], usage: dict[str, Any] | None
    ) -> Completion:
        answer = Completion(
            id=cid,
            object="text_completion",
            created=created,
            model=body.model,
            choices=[
                CompletionChoice(text=text, index=index, logprobs=None, finish_reason=finish)
                for index, text, finish in texts
            ],
        )
        if usage is not None:
            answer.usage = Usage.model_validate(usage)
        return answer

    shutdown = anyio.Event()

    async def stream(choices: list[Events]) -> AsyncIterator[dict[str, str]]:
        dones: list[dict[str, Any] | None] = [None] * n
        try:
            async for index, kind, payload in merged(choices, shutdown):
                if kind == "delta":
                    yield _event(completion([(index, payload["text"], None)], None))
                elif kind == "done":
                    dones[index] = payload
                    finished = [done for done in dones if done is not None]
                    # The usage (of every choice) rides on the last chunk only.
                    last = len(finished) == n and payload.get("usage") is not None
                    yield _event(
                        completion(
                            [(index, "", payload.get("finish_reason", "stop"))],
                            merged_usage(finished) if last else None,
                        )
                    )
        except Exception as exc:  # noqa: BLE001 - a stream that fails says why
            # Completion streams end without [DONE] (as Xinference's do), but one that
            # fails says so, then [DONE], as a chat stream does.
            yield _stream_failed(cid, exc)
            yield {"data": "[DONE]"}

    async def opened() -> list[Events]:
        return await open_choices(
            supervisor, body.model, "complete", params, n, keep_alive=body.keep_alive
        )

    async def stream_when_loaded() -> AsyncIterator[dict[str, str]]:
        return stream(await opened())

    if body.stream and supervisor.needs_load(body.model, "complete"):
        loading = _loading_first(supervisor, body.model, "complete", stream_when_loaded, cid)
        return _sse(loading, shutdown)
    choices = await opened()
    if body.stream:
        return _sse(stream(choices), shutdown)
    texts = [""] * n
    dones: list[dict[str, Any]] = [{} for _ in range(n)]
    async for index, kind, payload in merged(choices):
        if kind == "delta":
            texts[index] += payload["text"]
        elif kind == "done":
            dones[index] = payload
    if body.echo and isinstance(body.prompt, str):
        texts = [body.prompt + text for text in texts]
    return _answer(
        completion(
            [(i, texts[i], dones[i].get("finish_reason", "stop")) for i in range(n)],
            merged_usage(dones),
        )
    )


@router.post("/v1/embeddings")
async def embeddings(body: EmbeddingRequest, supervisor: SupervisorDep) -> EmbeddingList:
    params: dict[str, Any] = {"input": body.input}
    if body.dimensions is not None:
        params["dimensions"] = body.dimensions
    if body.input_type is not None:
        params["input_type"] = body.input_type
    result = await supervisor.call(body.model, "embed", params, keep_alive=body.keep_alive)
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
