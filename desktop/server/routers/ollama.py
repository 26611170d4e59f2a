"""Ollama's API (under /api) on the same served models and engine paths as the OpenAI routes.

Model names: a served model's uid, `uid:latest`, or a uid that holds a tag itself
(`qwen3:0.6b`). Streams are NDJSON lines, Ollama's default; `stream: false` answers once.
Errors carry Ollama's `error` field beside XinDesk's `detail` (`server/errors.py`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse

from desktop.api.common import MODEL_TYPES, ModelState, Null
from desktop.api.ollama import (
    OllamaChatRequest,
    OllamaChatResponse,
    OllamaDetails,
    OllamaEmbeddingResponse,
    OllamaEmbeddingsRequest,
    OllamaEmbedRequest,
    OllamaEmbedResponse,
    OllamaGenerateRequest,
    OllamaGenerateResponse,
    OllamaGeneration,
    OllamaMessage,
    OllamaModel,
    OllamaModelRef,
    OllamaModels,
    OllamaOptions,
    OllamaPullRequest,
    OllamaPullStatus,
    OllamaShow,
    OllamaToolCall,
    OllamaToolFunction,
    OllamaVersion,
)
from desktop.core.catalog.download import download_catalog_model, download_repo_quantization
from desktop.core.errors import (
    InvalidRequest,
    ModelLoadError,
    ModelNotFound,
    UnknownModelUID,
    XinDeskError,
)
from desktop.core.hub.jobs import DownloadJob, JobState
from desktop.core.hub.references import parse_repo_reference
from desktop.core.running.supervisor import RunningModel, Supervisor
from desktop.core.settings import models_dir_of
from desktop.server.deps import ServerState, StateDep, SupervisorDep, require_api_key
from desktop.server.streams import collected
from desktop.server.streams import started as started_events

router = APIRouter(prefix="/api", dependencies=[Depends(require_api_key)], tags=["ollama"])

#: What a pull of a hub repository without a tag downloads (Ollama's choice too).
DEFAULT_PULL_QUANT = "Q4_K_M"
#: The Ollama version this API follows; clients check it before using newer fields.
OLLAMA_API_VERSION = "0.9.0"
_NDJSON = "application/x-ndjson"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def served_uid(supervisor: Supervisor, name: str) -> str:
    """The served uid an Ollama model name means: the name itself, or without `:latest`; a
    pulled hub repository (`hf.co/owner/repo:Q4_K_M`) by its `repo:q4_k_m` uid."""
    uids = supervisor.uids()
    if name in uids:
        return name
    base, _, tag = name.partition(":")
    if tag in ("", "latest") and base in uids:
        return base
    if "/" in name:
        pulled = _pulled_uid(name)
        if pulled in uids:
            return pulled
    raise UnknownModelUID(name, uids)


def _pulled_uid(name: str) -> str:
    """The uid a hub repository pulled under Ollama's name is served as (a uid has no "/")."""
    _hub, repo, tag = parse_repo_reference(name)
    return f"{repo.rsplit('/', 1)[-1]}:{tag or DEFAULT_PULL_QUANT}".lower()


def _tagged(uid: str) -> str:
    return uid if ":" in uid else f"{uid}:latest"


def _sampling(options: OllamaOptions | None) -> dict[str, Any]:
    """Ollama's options as the engine's sampling parameters."""
    if options is None:
        return {}
    params: dict[str, Any] = {}
    if options.num_predict is not None and options.num_predict > 0:
        params["max_tokens"] = options.num_predict
    for key in (
        "temperature",
        "top_k",
        "top_p",
        "min_p",
        "seed",
        "repeat_penalty",
        "presence_penalty",
        "frequency_penalty",
    ):
        value = getattr(options, key)
        if value is not None:
            params[key] = value
    if options.stop:
        params["stop"] = options.stop
    return params


def _generation_params(body: OllamaGeneration) -> dict[str, Any]:
    params = _sampling(body.options)
    if body.format == "json":
        params["response_format"] = {"type": "json_object"}
    elif isinstance(body.format, dict):
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "format", "schema": body.format},
        }
    if isinstance(body.think, bool):
        params["chat_template_kwargs"] = {"enable_thinking": body.think}
    return params


def _refuse_images(images: list[str] | None) -> None:
    if images:
        raise InvalidRequest("This server reads text only; images cannot be sent to this model.")


def _chat_messages(messages: list[OllamaMessage]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for number, message in enumerate(messages):
        _refuse_images(message.images)
        item: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            item["tool_calls"] = [
                {
                    "id": f"call_{number}_{index}",
                    "type": "function",
                    "function": {
                        "name": call.function.name,
                        "arguments": json.dumps(call.function.arguments, ensure_ascii=False),
                    },
                }
                for index, call in enumerate(message.tool_calls)
            ]
        if message.role == "tool" and message.tool_name:
            item["name"] = message.tool_name
        out.append(item)
    return out


def _tool_calls(calls: list[dict[str, Any]]) -> list[OllamaToolCall]:
    result = []
    for call in calls:
        try:
            arguments = json.loads(call.get("arguments") or "{}")
        except json.JSONDecodeError:
            arguments = {"value": call.get("arguments")}
        if not isinstance(arguments, dict):
            arguments = {"value": arguments}
        result.append(
            OllamaToolCall(function=OllamaToolFunction(name=call["name"], arguments=arguments))
        )
    return result


def _timings(done: dict[str, Any], started: float) -> dict[str, int]:
    usage = done.get("usage") or {}
    timings = usage.get("timings") or {}
    figures = {
        "total_duration": int((time.perf_counter() - started) * 1e9),
        "load_duration": 0,
        "prompt_eval_count": int(usage.get("prompt_tokens") or 0),
        "eval_count": int(usage.get("completion_tokens") or 0),
    }
    if isinstance(timings.get("prompt_ms"), int | float):
        figures["prompt_eval_duration"] = int(timings["prompt_ms"] * 1e6)
    if isinstance(timings.get("predicted_ms"), int | float):
        figures["eval_duration"] = int(timings["predicted_ms"] * 1e6)
    return figures


def _line(payload: OllamaChatResponse | OllamaGenerateResponse) -> bytes:
    return (payload.model_dump_json(exclude_none=True) + "\n").encode("utf-8")


@router.get("/version")
async def version() -> OllamaVersion:
    """The Ollama API version this server follows."""
    return OllamaVersion(version=OLLAMA_API_VERSION)


@router.post("/chat", response_model=OllamaChatResponse)
async def chat(body: OllamaChatRequest, supervisor: SupervisorDep) -> Any:
    uid = served_uid(supervisor, body.model)
    params = _generation_params(body) | {"messages": _chat_messages(body.messages)}
    if body.tools:
        params["tools"] = body.tools
    started = time.perf_counter()
    events = await started_events(
        supervisor.stream(uid, "chat", params, keep_alive=body.keep_alive)
    )

    # Ollama sends a thinking model's reasoning as `thinking`, unless `think` turned it off.
    show_thinking = body.think is not False

    def message(
        content: str, calls: list[dict[str, Any]] | None = None, thinking: str | None = None
    ) -> OllamaMessage:
        return OllamaMessage(
            role="assistant",
            content=content,
            tool_calls=_tool_calls(calls) if calls else None,
            thinking=thinking if thinking and show_thinking else None,
        )

    if body.stream:

        async def lines() -> AsyncIterator[bytes]:
            async for kind, payload in events:
                if kind == "delta":
                    yield _line(
                        OllamaChatResponse(
                            model=body.model,
                            created_at=_now(),
                            message=message(payload["text"]),
                            done=False,
                        )
                    )
                elif kind == "reasoning" and show_thinking:
                    yield _line(
                        OllamaChatResponse(
                            model=body.model,
                            created_at=_now(),
                            message=message("", thinking=payload["text"]),
                            done=False,
                        )
                    )
                elif kind == "tool_calls":
                    yield _line(
                        OllamaChatResponse(
                            model=body.model,
                            created_at=_now(),
                            message=message("", payload["calls"]),
                            done=False,
                        )
                    )
                elif kind == "done":
                    yield _line(_chat_done(body.model, message(""), payload, started))

        return StreamingResponse(lines(), media_type=_NDJSON)
    answer = await collected(events)
    reply = message(answer.text, answer.calls, answer.reasoning)
    return JSONResponse(
        _chat_done(body.model, reply, answer.done, started).model_dump(
            mode="json", exclude_none=True
        )
    )


def _chat_done(
    model: str, message: OllamaMessage, done: dict[str, Any], started: float
) -> OllamaChatResponse:
    return OllamaChatResponse(
        model=model,
        created_at=_now(),
        message=message,
        done=True,
        done_reason=str(done.get("finish_reason") or "stop"),
        **_timings(done, started),
    )


@router.post("/generate", response_model=OllamaGenerateResponse)
async def generate(body: OllamaGenerateRequest, supervisor: SupervisorDep) -> Any:
    uid = served_uid(supervisor, body.model)
    _refuse_images(body.images)
    params = _generation_params(body)
    record = supervisor.get(uid)
    chats = "chat" in record.plan.family.model_ability
    if not body.prompt and not body.raw:
        # Ollama loads the model and answers at once when the prompt is empty.
        await supervisor.ready_for(uid, "chat" if chats else "complete")
        return JSONResponse(
            OllamaGenerateResponse(
                model=body.model, created_at=_now(), response="", done=True, done_reason="load"
            ).model_dump(mode="json", exclude_none=True)
        )
    if body.raw or not chats:
        op, params = "complete", params | {"prompt": body.prompt}
    else:
        messages = [{"role": "system", "content": body.system}] if body.system else []
        messages.append({"role": "user", "content": body.prompt})
        op, params = "chat", params | {"messages": messages}
    started = time.perf_counter()
    events = await started_events(supervisor.stream(uid, op, params, keep_alive=body.keep_alive))

    def done_line(done: dict[str, Any], text: str) -> OllamaGenerateResponse:
        return OllamaGenerateResponse(
            model=body.model,
            created_at=_now(),
            response=text,
            done=True,
            done_reason=str(done.get("finish_reason") or "stop"),
            context=[],
            **_timings(done, started),
        )

    if body.stream:

        async def lines() -> AsyncIterator[bytes]:
            async for kind, payload in events:
                if kind == "delta":
                    yield _line(
                        OllamaGenerateResponse(
                            model=body.model,
                            created_at=_now(),
                            response=payload["text"],
                            done=False,
                        )
                    )
                elif kind == "done":
                    yield _line(done_line(payload, ""))

        return StreamingResponse(lines(), media_type=_NDJSON)
    answer = await collected(events)
    return JSONResponse(
        done_line(answer.done, answer.text).model_dump(mode="json", exclude_none=True)
    )


@router.post("/embed")
async def embed(body: OllamaEmbedRequest, supervisor: SupervisorDep) -> OllamaEmbedResponse:
    uid = served_uid(supervisor, body.model)
    started = time.perf_counter()
    inputs = [body.input] if isinstance(body.input, str) else body.input
    params: dict[str, Any] = {"input": inputs}
    if body.dimensions is not None:
        params["dimensions"] = body.dimensions
    result = await supervisor.call(uid, "embed", params, keep_alive=body.keep_alive)
    return OllamaEmbedResponse(
        model=body.model,
        embeddings=result["embeddings"],
        total_duration=int((time.perf_counter() - started) * 1e9),
        load_duration=0,
        prompt_eval_count=int(result["prompt_tokens"]),
    )


@router.post("/embeddings")
async def embeddings(
    body: OllamaEmbeddingsRequest, supervisor: SupervisorDep
) -> OllamaEmbeddingResponse:
    uid = served_uid(supervisor, body.model)
    result = await supervisor.call(
        uid, "embed", {"input": [body.prompt]}, keep_alive=body.keep_alive
    )
    return OllamaEmbeddingResponse(embedding=result["embeddings"][0])


def _details(record: RunningModel) -> OllamaDetails:
    size = record.size_in_billions
    if isinstance(size, str):
        size = float(size.replace("_", "."))
    parameters = ""
    if isinstance(size, int | float):
        parameters = f"{size:g}B" if size >= 1 else f"{size * 1000:g}M"
    family = record.plan.gguf.architecture
    return OllamaDetails(
        family=family,
        families=[family],
        parameter_size=parameters,
        quantization_level=record.quantization,
    )


def _listed(record: RunningModel, *, loaded: bool) -> OllamaModel:
    path = record.plan.model_path
    try:
        stat = path.stat()
        size, modified = stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)
    except OSError:
        size, modified = 0, datetime.fromtimestamp(record.created_ts, UTC)
    # Ollama's digest is its blob's sha256; a hash of the file's identity serves clients that
    # only compare digests, without reading gigabytes.
    digest = hashlib.sha256(f"{path}:{size}:{modified.timestamp()}".encode()).hexdigest()
    model = OllamaModel(
        name=_tagged(record.uid),
        model=_tagged(record.uid),
        modified_at=modified.isoformat().replace("+00:00", "Z"),
        size=size,
        digest=digest,
        details=_details(record),
    )
    if loaded:
        model.expires_at = _now()
        model.size_vram = 0
        model.size = record.needs or size
    return model


@router.get("/tags")
async def tags(supervisor: SupervisorDep) -> OllamaModels:
    """The served models, loaded or not (what a request may name)."""
    return OllamaModels(models=[_listed(r, loaded=False) for r in supervisor.models()])


@router.get("/ps")
async def ps(supervisor: SupervisorDep) -> OllamaModels:
    """The models loaded now."""
    return OllamaModels(
        models=[_listed(r, loaded=True) for r in supervisor.models() if r.state is ModelState.READY]
    )


@router.post("/show")
async def show(body: OllamaModelRef, supervisor: SupervisorDep) -> OllamaShow:
    record = supervisor.get(served_uid(supervisor, body.wanted))
    plan = record.plan
    abilities = set(plan.family.model_ability)
    capabilities = {"LLM": ["completion"], "embedding": ["embedding"], "rerank": []}[
        plan.model_type
    ]
    capabilities += [name for name in ("tools", "vision", "thinking") if name in abilities]
    if "reasoning" in abilities:
        capabilities.append("thinking")
    listed = _listed(record, loaded=False)
    return OllamaShow(
        modelfile=f"FROM {plan.model_path}\n",
        parameters=f"num_ctx {record.context_length}",
        template=plan.worker.chat_template or "",
        details=listed.details,
        model_info={
            "general.architecture": plan.gguf.architecture,
            f"{plan.gguf.architecture}.context_length": plan.gguf.context_length,
            "general.parameter_count": None,
            "xindesk.uid": record.uid,
            "xindesk.status": record.state.value,
        },
        capabilities=sorted(set(capabilities)),
        modified_at=listed.modified_at,
    )


@router.delete("/delete", response_model=Null)
async def delete(body: OllamaModelRef, supervisor: SupervisorDep) -> None:
    """Stop serving a model and forget it; its file stays (delete files from the library)."""
    await supervisor.terminate(served_uid(supervisor, body.wanted))


@dataclass(frozen=True)
class _Pull:
    job: DownloadJob
    uid: str
    request: dict[str, Any]


def _queue_pull(state: ServerState, name: str) -> _Pull:
    """Queue the download an Ollama name asks for: a hub repository and quantization, or a
    catalog model by `name:size` (`qwen3:0.6b`; `latest` is the catalog's first size)."""
    manager, models_dir = state.downloads, models_dir_of(state.settings, state.paths)
    if "/" in name:
        hub, repo, tag = parse_repo_reference(name)
        quant = tag or DEFAULT_PULL_QUANT
        job = download_repo_quantization(manager, models_dir, repo, quant, hub=hub)
        uid = _pulled_uid(name)
        return _Pull(job, uid, {"model_name": uid, "model_type": "LLM", "quantization": quant})
    base, _, tag = name.partition(":")
    for model_type in MODEL_TYPES:
        family = state.catalog.find(model_type, base)
        if family is None:
            continue
        size = None if tag in ("", "latest") else tag.lower().removesuffix("b")
        job, spec = download_catalog_model(
            manager,
            state.catalog,
            models_dir,
            model_type=model_type,
            name=family.model_name,
            size=size,
            source=state.settings.downloads.source,
        )
        request = {
            "model_name": family.model_name,
            "model_type": model_type,
            "model_size_in_billions": spec.model_size_in_billions,
            "quantization": spec.quantization,
        }
        return _Pull(job, name if tag else f"{name}:latest", request)
    raise ModelNotFound(
        f"{name!r} is neither a catalog model (e.g. qwen3:0.6b) nor a hub repository "
        "(e.g. hf.co/bartowski/Qwen_Qwen3-0.6B-GGUF:Q4_K_M)."
    )


@router.post("/pull")
async def pull(body: OllamaPullRequest, state: StateDep) -> Any:
    """Download a model with XinDesk's downloader (the download source's hub order, so
    ModelScope where Hugging Face cannot be reached) and serve it unloaded under the name."""
    queued = await asyncio.to_thread(_queue_pull, state, body.model or body.name or "")
    manager = state.downloads

    async def statuses() -> AsyncIterator[OllamaPullStatus]:
        yield OllamaPullStatus(status="pulling manifest")
        digest = f"sha256:{hashlib.sha256(queued.job.id.encode()).hexdigest()}"
        while True:
            job = await asyncio.to_thread(manager.wait, queued.job.id, 0.5)
            figures = manager.progress(job.id)
            yield OllamaPullStatus(
                status=f"pulling {digest[7:19]}",
                digest=digest,
                total=int(figures["total_bytes"]),
                completed=int(figures["downloaded_bytes"]),
            )
            if job.state is JobState.COMPLETED:
                break
            if job.state in (JobState.FAILED, JobState.CANCELLED, JobState.PAUSED):
                raise ModelLoadError(f"The download {job.state}: {job.error or 'stopped'}")
        yield OllamaPullStatus(status="verifying sha256 digest")
        await state.supervisor.serve_unloaded(
            {
                **queued.request,
                "model_uid": queued.uid,
                "model_path": str(job.destination(job.files[0])),
            }
        )
        yield OllamaPullStatus(status="writing manifest")
        yield OllamaPullStatus(status="success")

    if not body.stream:
        said = [status async for status in statuses()]
        return JSONResponse(said[-1].model_dump(exclude_none=True))

    async def lines() -> AsyncIterator[bytes]:
        try:
            async for status in statuses():
                yield (status.model_dump_json(exclude_none=True) + "\n").encode()
        except XinDeskError as exc:
            yield (json.dumps({"error": str(exc)}) + "\n").encode()

    return StreamingResponse(lines(), media_type=_NDJSON)
