"""Xinference's management routes: cluster, models, registrations, engines, cache."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

import psutil
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from desktop import __version__
from desktop.api.common import MODEL_TYPES, Null
from desktop.api.xinference import (
    CachedModels,
    CacheEntry,
    ClusterAuth,
    ClusterStatus,
    ClusterVersion,
    CpuStatus,
    DetailedRegistration,
    EngineOptions,
    InstanceInfo,
    LaunchAnswer,
    LaunchProgress,
    LaunchRequest,
    ModelDescription,
    ModelList,
    NodeInfo,
    NodeResources,
    RegisterRequest,
    Registration,
    RegistrationName,
    SupervisorInfo,
    TokenAnswer,
    TokenRequest,
    VllmSupported,
    WorkerNode,
    WorkerStatus,
)
from desktop.core.catalog.registry import parse_model_type
from desktop.core.errors import InvalidRequest
from desktop.server.deps import CatalogDep, StateDep, SupervisorDep, require_api_key
from desktop.server.errors import BODY_NOT_UTF8, BODY_TOO_DEEP
from desktop.server.presenters import registry, running

# The Xinference API version whose routes and shapes this server follows.
XINFERENCE_API_VERSION = "4.1.0"

public = APIRouter(tags=["xinference"])
router = APIRouter(dependencies=[Depends(require_api_key)], tags=["xinference"])


@public.get("/v1/cluster/auth")
async def cluster_auth(state: StateDep) -> ClusterAuth:
    # xinference-client sends its key only when this says True.
    return ClusterAuth(auth=state.api_key is not None)


@public.get("/status")
async def status(state: StateDep) -> ClusterStatus:
    memory = psutil.virtual_memory()
    cpu = CpuStatus(
        usage=psutil.cpu_percent(interval=None) / 100.0,
        total=psutil.cpu_count() or 1,
        memory_used=memory.used,
        memory_available=memory.available,
        memory_total=memory.total,
    )
    worker = WorkerStatus(
        update_time=time.time(), failure_remaining_count=5, status=NodeResources(cpu=cpu)
    )
    return ClusterStatus(
        uptime=int(time.time() - state.started_at), workers={state.supervisor.address: worker}
    )


@public.post("/token")
async def token(body: TokenRequest, state: StateDep) -> TokenAnswer:
    """Xinference's login. XinDesk has no users: the password is the API key."""
    if state.api_key is None:
        raise HTTPException(400, detail="Authentication is off on this server; no login needed.")
    if not secrets.compare_digest(body.password.encode(), state.api_key.encode()):
        raise HTTPException(401, detail="Wrong password: use the server's API key.")
    return TokenAnswer(access_token=state.api_key, token_type="bearer")


@router.get("/v1/cluster/version")
async def cluster_version() -> ClusterVersion:
    return ClusterVersion(version=XINFERENCE_API_VERSION, full_revisionid=f"xindesk-{__version__}")


@router.get("/v1/cluster/info")
async def cluster_info(supervisor: SupervisorDep) -> list[NodeInfo]:
    return [
        NodeInfo(node_type=kind, ip_address=supervisor.address, gpu_count=0, gpu_vram_total=0)
        for kind in ("Supervisor", "Worker")
    ]


@router.get("/v1/cluster/devices")
async def cluster_devices() -> int:
    """GPUs of the cluster as Xinference counts them."""
    return 0


@router.get("/v1/address")
async def address(supervisor: SupervisorDep) -> str:
    return supervisor.address


@router.get("/v1/supervisor")
async def supervisor_info(supervisor: SupervisorDep) -> SupervisorInfo:
    return SupervisorInfo(supervisor_ip=supervisor.address)


@router.get("/v1/workers")
async def workers(supervisor: SupervisorDep) -> list[WorkerNode]:
    return [WorkerNode(node_type="Worker", ip_address=supervisor.address)]


# -- models ------------------------------------------------------------------------------------


@router.get("/v1/models")
async def list_models(supervisor: SupervisorDep) -> ModelList:
    return running.model_list(supervisor)


# The body is read as it comes so that the launch planner words every error itself (a missing
# name, a wrong size); the schema below only documents it.
_LAUNCH_BODY = {
    "requestBody": {
        "content": {"application/json": {"schema": LaunchRequest.model_json_schema()}},
        "required": True,
    }
}


@router.post("/v1/models", openapi_extra=_LAUNCH_BODY)
async def launch_model(
    supervisor: SupervisorDep,
    request: Request,
    wait_ready: bool = Query(True),
) -> LaunchAnswer:
    body = await _json_object(request)
    uid = await supervisor.launch(body, wait_ready=wait_ready)
    return LaunchAnswer(model_uid=uid)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}.") from exc
    except UnicodeDecodeError as exc:
        raise InvalidRequest(BODY_NOT_UTF8) from exc
    except RecursionError as exc:
        raise InvalidRequest(BODY_TOO_DEEP) from exc
    except ValueError as exc:
        # A number of more than 4,300 digits, say.
        raise InvalidRequest(f"The request body is not valid JSON here: {exc}.") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


@router.get("/v1/models/instances")
async def instances(
    supervisor: SupervisorDep, model_name: str | None = None, model_uid: str | None = None
) -> list[InstanceInfo]:
    return running.instances(
        supervisor.pending_downloads(),
        supervisor.models(),
        supervisor.address,
        model_name=model_name,
        model_uid=model_uid,
    )


@router.get("/v1/models/vllm-supported")
async def vllm_supported() -> VllmSupported:
    return VllmSupported(chat=[], generate=[])


@router.get("/v1/models/{model_uid}")
async def describe_model(model_uid: str, supervisor: SupervisorDep) -> ModelDescription:
    return running.description(supervisor.find(model_uid), supervisor)


@router.delete("/v1/models/{model_uid}", response_model=Null)
async def terminate_model(model_uid: str, supervisor: SupervisorDep) -> None:
    await supervisor.terminate(model_uid)


@router.get("/v1/models/{model_uid}/progress", response_model_exclude_unset=True)
async def launch_progress(model_uid: str, supervisor: SupervisorDep) -> LaunchProgress:
    """Where a launch is. A uid nothing is known by answers 200 with stage "pending" and progress
    0, as Xinference 4.1 does on purpose ("not launched perhaps"): clients choose the uid, post the
    launch and poll its progress side by side, so the first polls may come before the launch is
    registered. Describe and terminate answer an unknown uid with a 400, as Xinference does."""
    return running.launch_progress(supervisor.launch_state(model_uid), model_uid)


@router.post("/v1/models/{model_uid}/cancel", response_model=Null)
async def cancel_launch(model_uid: str, supervisor: SupervisorDep) -> None:
    await supervisor.cancel_launch(model_uid)


# -- registrations, engines, cache ------------------------------------------------------------


@router.get("/v1/model_registrations/{model_type}", response_model_exclude_unset=True)
async def list_registrations(
    model_type: str, catalog: CatalogDep, detailed: bool = False
) -> list[DetailedRegistration] | list[RegistrationName]:
    families = catalog.families(parse_model_type(model_type))
    if detailed:
        return [registry.detailed_registration(family) for family in families]
    return [registry.registration_name(family) for family in families]


@router.get("/v1/model_registrations/{model_type}/{model_name}", response_model_exclude_unset=True)
async def get_registration(model_type: str, model_name: str, catalog: CatalogDep) -> Registration:
    return registry.registration(catalog.get(parse_model_type(model_type), model_name))


@router.post("/v1/model_registrations/{model_type}", response_model=Null)
async def register_model(model_type: str, body: RegisterRequest, catalog: CatalogDep) -> None:
    try:
        payload = json.loads(body.model)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"`model` must be the family as a JSON string: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidRequest("`model` must be a JSON object (as a string).")
    catalog.register(parse_model_type(model_type), payload, persist=body.persist)


@router.delete("/v1/model_registrations/{model_type}/{model_name}", response_model=Null)
async def unregister_model(model_type: str, model_name: str, catalog: CatalogDep) -> None:
    catalog.unregister(parse_model_type(model_type), model_name)


def _engine_entries(catalog: CatalogDep, model_type: str, model_name: str) -> EngineOptions | None:
    kind = parse_model_type(model_type)
    family = catalog.find(kind, model_name)
    if family is None:
        return None
    return registry.engine_options(family, kind)


@router.get("/v1/engines/{model_name}")
async def engines_by_name(model_name: str, catalog: CatalogDep) -> EngineOptions | None:
    """How a model launches with llama.cpp, by model name; null for an unknown model.

    Null (200) is Xinference 4.1's answer to an unknown name (recorded), and what
    xinference-client's `query_engine_by_model_name` hands its caller as None; a 4xx would make
    that call raise where Xinference's does not.
    """
    for kind in MODEL_TYPES:
        found = _engine_entries(catalog, kind, model_name)
        if found is not None:
            return found
    return None


@router.get("/v1/engines/{model_type}/{model_name}")
async def engines_by_type(
    model_type: str, model_name: str, catalog: CatalogDep
) -> EngineOptions | None:
    """How a model of this type launches with llama.cpp; null for an unknown model."""
    return _engine_entries(catalog, model_type, model_name)


@router.get("/v1/cache/models")
async def cached_models(
    state: StateDep,
    catalog: CatalogDep,
    supervisor: SupervisorDep,
    model_name: str | None = None,
) -> CachedModels:
    """GGUF files on this machine: downloaded and imported models, custom registrations'
    files, and models in use; catalog downloads under their catalog names."""
    seen: dict[str, CacheEntry] = {}
    for kind in ("LLM", "embedding", "rerank"):
        for family in catalog.families(parse_model_type(kind)):
            for spec in family.model_specs:
                if not spec.model_uri:
                    continue
                seen.setdefault(
                    spec.model_uri,
                    registry.cache_entry(
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
            registry.cache_entry(
                family_name, kind, size, model.quantization or "unknown", str(model.path)
            ),
        )
    for record, path in supervisor.running_files():
        seen.setdefault(
            str(path),
            registry.cache_entry(
                record.plan.family.model_name,
                record.plan.model_type,
                record.size_in_billions if record.plan.model_type == "LLM" else None,
                record.quantization,
                str(path),
            ),
        )
    entries = [e for e in seen.values() if model_name is None or e.model_name == model_name]
    return CachedModels(entries=sorted(entries, key=lambda e: e.model_name))
