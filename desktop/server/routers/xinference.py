"""Xinference's management routes: cluster, models, registrations, engines, cache."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

import psutil
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from desktop import __version__
from desktop.api.hubs import HUB_NAMES
from desktop.core.catalog.families import ENGINE_NAME, GGUF_FORMAT
from desktop.core.catalog.registry import parse_model_type
from desktop.core.errors import InvalidRequest
from desktop.server.deps import CatalogDep, StateDep, SupervisorDep, require_api_key

# The Xinference API version whose routes and shapes this server follows.
XINFERENCE_API_VERSION = "4.1.0"

public = APIRouter(tags=["xinference"])
router = APIRouter(dependencies=[Depends(require_api_key)], tags=["xinference"])


@public.get("/v1/cluster/auth")
async def cluster_auth(state: StateDep) -> dict[str, bool]:
    # xinference-client sends its key only when this says True.
    return {"auth": state.api_key is not None}


@public.get("/status")
async def status(state: StateDep) -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "uptime": int(time.time() - state.started_at),
        "workers": {
            state.supervisor.address: {
                "update_time": time.time(),
                "failure_remaining_count": 5,
                "status": {
                    "cpu": {
                        "usage": psutil.cpu_percent(interval=None) / 100.0,
                        "total": psutil.cpu_count() or 1,
                        "memory_used": memory.used,
                        "memory_available": memory.available,
                        "memory_total": memory.total,
                    }
                },
            }
        },
    }


class TokenRequest(BaseModel):
    username: str | None = None
    password: str


@public.post("/token")
async def token(body: TokenRequest, state: StateDep) -> dict[str, str]:
    """Xinference's login. XinDesk has no users: the password is the API key."""
    if state.api_key is None:
        raise HTTPException(400, detail="Authentication is off on this server; no login needed.")
    if not secrets.compare_digest(body.password.encode(), state.api_key.encode()):
        raise HTTPException(401, detail="Wrong password: use the server's API key.")
    return {"access_token": state.api_key, "token_type": "bearer"}


@router.get("/v1/cluster/version")
async def cluster_version() -> dict[str, str]:
    return {"version": XINFERENCE_API_VERSION, "full-revisionid": f"xindesk-{__version__}"}


@router.get("/v1/cluster/info")
async def cluster_info(supervisor: SupervisorDep) -> list[dict[str, Any]]:
    node = {"ip_address": supervisor.address, "gpu_count": 0, "gpu_vram_total": 0}
    return [{"node_type": "Supervisor", **node}, {"node_type": "Worker", **node}]


@router.get("/v1/cluster/devices")
async def cluster_devices() -> int:
    return 0


@router.get("/v1/address")
async def address(supervisor: SupervisorDep) -> str:
    return supervisor.address


@router.get("/v1/supervisor")
async def supervisor_info(supervisor: SupervisorDep) -> dict[str, str]:
    return {"supervisor_ip": supervisor.address}


@router.get("/v1/workers")
async def workers(supervisor: SupervisorDep) -> list[dict[str, Any]]:
    return [{"node_type": "Worker", "ip_address": supervisor.address}]


# -- models ------------------------------------------------------------------------------------


@router.get("/v1/models")
async def list_models(supervisor: SupervisorDep) -> dict[str, Any]:
    return {"object": "list", "data": supervisor.list_models()}


@router.post("/v1/models")
async def launch_model(
    supervisor: SupervisorDep,
    request: Request,
    wait_ready: bool = Query(True),
) -> dict[str, str]:
    body = await _json_object(request)
    uid = await supervisor.launch(body, wait_ready=wait_ready)
    return {"model_uid": uid}


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


@router.get("/v1/models/instances")
async def instances(
    supervisor: SupervisorDep, model_name: str | None = None, model_uid: str | None = None
) -> list[dict[str, Any]]:
    return supervisor.instances(model_name, model_uid)


@router.get("/v1/models/vllm-supported")
async def vllm_supported() -> dict[str, list[str]]:
    return {"chat": [], "generate": []}


@router.get("/v1/models/{model_uid}")
async def describe_model(model_uid: str, supervisor: SupervisorDep) -> dict[str, Any]:
    return supervisor.describe(model_uid)


@router.delete("/v1/models/{model_uid}")
async def terminate_model(model_uid: str, supervisor: SupervisorDep) -> None:
    await supervisor.terminate(model_uid)


@router.get("/v1/models/{model_uid}/progress")
async def launch_progress(model_uid: str, supervisor: SupervisorDep) -> dict[str, Any]:
    return supervisor.progress(model_uid)


@router.post("/v1/models/{model_uid}/cancel")
async def cancel_launch(model_uid: str, supervisor: SupervisorDep) -> None:
    await supervisor.cancel_launch(model_uid)


# -- registrations, engines, cache ------------------------------------------------------------


@router.get("/v1/model_registrations/{model_type}")
async def list_registrations(
    model_type: str, catalog: CatalogDep, detailed: bool = False
) -> list[dict[str, Any]]:
    kind = parse_model_type(model_type)
    out = []
    for family in catalog.families(kind):
        if detailed:
            out.append(
                {
                    **family.to_api(),
                    "is_builtin": family.is_builtin,
                    "download_hubs": list(HUB_NAMES),
                }
            )
        else:
            out.append({"model_name": family.model_name, "is_builtin": family.is_builtin})
    return out


@router.get("/v1/model_registrations/{model_type}/{model_name}")
async def get_registration(model_type: str, model_name: str, catalog: CatalogDep) -> dict[str, Any]:
    return catalog.get(parse_model_type(model_type), model_name).to_api()


class RegisterRequest(BaseModel):
    model: str
    worker_ip: str | None = None
    persist: bool = False


@router.post("/v1/model_registrations/{model_type}")
async def register_model(model_type: str, body: RegisterRequest, catalog: CatalogDep) -> None:
    try:
        payload = json.loads(body.model)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"`model` must be the family as a JSON string: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidRequest("`model` must be a JSON object (as a string).")
    catalog.register(parse_model_type(model_type), payload, persist=body.persist)


@router.delete("/v1/model_registrations/{model_type}/{model_name}")
async def unregister_model(model_type: str, model_name: str, catalog: CatalogDep) -> None:
    catalog.unregister(parse_model_type(model_type), model_name)


def _engine_entries(catalog: CatalogDep, model_type: str, model_name: str) -> dict[str, Any] | None:
    kind = parse_model_type(model_type)
    family = catalog.find(kind, model_name)
    if family is None:
        return None
    entries: dict[tuple[str, str], list[str]] = {}
    for spec in family.model_specs:
        if spec.model_format != GGUF_FORMAT:
            continue
        key = (spec.model_format, str(spec.model_size_in_billions))
        quants = entries.setdefault(key, [])
        if spec.quantization not in quants:
            quants.append(spec.quantization)
    params: list[dict[str, Any]] = []
    sizes = {str(s.model_size_in_billions): s.model_size_in_billions for s in family.model_specs}
    for (fmt, size), quants in entries.items():
        if kind == "LLM":
            params.append(
                {
                    "model_name": model_name,
                    "model_format": fmt,
                    "model_size_in_billions": sizes[size],
                    "quantizations": quants,
                    "multimodal_projectors": None,
                    "support_draft_model": False,
                }
            )
        else:
            params.extend(
                {
                    "model_name": model_name,
                    "model_format": fmt,
                    "model_size_in_billions": None,
                    "quantization": q,
                    "support_draft_model": False,
                }
                for q in quants
            )
    return {ENGINE_NAME: params}


@router.get("/v1/engines/{model_name}")
async def engines_by_name(model_name: str, catalog: CatalogDep) -> dict[str, Any] | None:
    for kind in ("LLM", "embedding", "rerank"):
        found = _engine_entries(catalog, kind, model_name)
        if found is not None:
            return found
    return None


@router.get("/v1/engines/{model_type}/{model_name}")
async def engines_by_type(
    model_type: str, model_name: str, catalog: CatalogDep
) -> dict[str, Any] | None:
    return _engine_entries(catalog, model_type, model_name)


@router.get("/v1/cache/models")
async def cached_models(
    state: StateDep,
    catalog: CatalogDep,
    supervisor: SupervisorDep,
    model_name: str | None = None,
) -> dict[str, Any]:
    """GGUF files on this machine: downloaded and imported models, custom registrations'
    files, and models in use; catalog downloads under their catalog names."""
    seen: dict[str, dict[str, Any]] = {}
    for kind in ("LLM", "embedding", "rerank"):
        for family in catalog.families(parse_model_type(kind)):
            for spec in family.model_specs:
                if not spec.model_uri:
                    continue
                seen.setdefault(
                    spec.model_uri,
                    _cache_entry(
                        family.model_name,
                        kind,
                        spec.model_size_in_billions,
                        spec.quantization,
                        spec.model_uri,
                    ),
                )
    installed = await asyncio.to_thread(state.store.index)
    named = installed.catalog_specs(catalog)
    for model in installed.models:
        if not model.usable:
            continue
        if model.id in named:
            family, spec = named[model.id]
            family_name, kind, size = (
                family.model_name,
                family.model_type,
                spec.model_size_in_billions,
            )
        else:
            family_name, kind, size = (model.repo_id or model.path.stem).split("/")[-1], "LLM", None
        seen.setdefault(
            str(model.path),
            _cache_entry(family_name, kind, size, model.quantization or "unknown", str(model.path)),
        )
    for record, path in supervisor.running_files():
        desc = supervisor.describe(record.uid)
        seen.setdefault(
            str(path),
            _cache_entry(
                desc["model_name"],
                desc["model_type"],
                desc.get("model_size_in_billions"),
                desc["quantization"],
                str(path),
            ),
        )
    entries = [e for e in seen.values() if model_name is None or e["model_name"] == model_name]
    return {"list": sorted(entries, key=lambda e: e["model_name"])}


def _cache_entry(name: str, kind: str, size: Any, quant: str, path: str) -> dict[str, Any]:
    import os

    return {
        "model_name": name,
        "model_type": kind,
        "model_engine": [ENGINE_NAME],
        "model_size_in_billions": size,
        "model_format": GGUF_FORMAT,
        "quantization": quant,
        "model_version": f"{name}--{size}B--{GGUF_FORMAT}--{quant}",
        "path": path,
        "real_path": os.path.realpath(path),
        "actor_ip_address": "local",
        "size_bytes": os.path.getsize(path) if os.path.exists(path) else 0,
    }
