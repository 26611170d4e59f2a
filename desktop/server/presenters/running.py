"""Launched models as Xinference describes them, with XinDesk's fields added."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from desktop.api.common import InstanceStatus, ModelState
from desktop.api.downloads import DownloadFigures
from desktop.api.xinference import (
    EmbeddingDescription,
    FileProgress,
    InstanceInfo,
    LaunchDownload,
    LaunchProgress,
    ListedEmbedding,
    ListedLLM,
    ListedModel,
    ListedRerank,
    LLMDescription,
    ModelDescription,
    ModelList,
    OffloadReport,
    ReplicaProgress,
    ReplicaStatus,
    RerankDescription,
    ServiceState,
    WorkerInfo,
)
from desktop.core.catalog.families import ENGINE_NAME, GGUF_FORMAT
from desktop.core.running.keep import loads_at_start
from desktop.core.running.supervisor import (
    DownloadState,
    PendingDownload,
    RunningModel,
    Supervisor,
    UnavailableModel,
)

# Xinference's InstanceInfo statuses for each state.
_INSTANCE_STATUS: dict[ModelState, InstanceStatus] = {
    ModelState.LOADING: "LOADING",
    ModelState.READY: "READY",
    # Unloaded models answer: the first request loads them.
    ModelState.UNLOADED: "READY",
    ModelState.ERROR: "ERROR",
}

# A launch's progress line for each state.
_STATE_INFO = {
    ModelState.LOADING: "Loading model",
    ModelState.READY: "Ready",
    ModelState.UNLOADED: "Unloaded; the next request loads it",
}

# Downloading is most of a launch's wait; loading takes the last few percent.
_DOWNLOAD_SHARE = 0.95


def accelerators(offload: object) -> list[str]:
    """Xinference's `accelerators`: the GPU indices the model uses ("CUDA0" -> "0")."""
    if not isinstance(offload, Mapping) or not offload.get("gpu_layers"):
        return []
    names = [str(row.get("name", "")) for row in offload.get("devices") or [] if row.get("layers")]
    return [name[len(name.rstrip("0123456789")) :] or name for name in names]


def _description_fields(record: RunningModel, supervisor: Supervisor) -> dict[str, Any]:
    """Every field of the model's description, in the wire's order."""
    address = supervisor.address
    plan = record.plan
    family = plan.family
    spec = plan.spec
    offload = record.info.get("offload")
    fields: dict[str, Any] = {
        "model_type": plan.model_type,
        "address": address,
        "accelerators": accelerators(offload),
        "model_name": family.model_name,
        "model_engine": ENGINE_NAME,
        "model_format": GGUF_FORMAT,
        "quantization": record.quantization,
        "replica": 1,
    }
    hub = spec.model_hub if spec else "local"
    revision = spec.model_revision if spec else None
    if plan.model_type == "LLM":
        fields |= {
            "model_lang": family.model_lang,
            "model_ability": family.model_ability,
            "model_description": family.model_description,
            "model_size_in_billions": record.size_in_billions,
            "model_family": family.model_family or family.model_name,
            "multimodal_projector": None,
            "model_hub": hub,
            "revision": revision,
            "context_length": record.context_length,
            "strict_system_first": False,
            "n_worker": 1,
            "parallel": record.parallel,
            "parallel_reason": plan.parallel_reason,
            "flash_attn": plan.worker.llama_kwargs.get("flash_attn", "auto"),
            "cache_type_k": plan.worker.llama_kwargs.get("type_k", "f16"),
            "cache_type_v": plan.worker.llama_kwargs.get("type_v", "f16"),
            "speculative": plan.worker.speculative,
            "draft_max": plan.worker.draft_max,
            "draft_model_path": plan.worker.draft_model_path,
        }
    elif plan.model_type == "embedding":
        fields |= {
            "dimensions": record.dimensions,
            "min_dimensions": plan.worker.matryoshka_min,
            "query_instruction": plan.worker.query_instruction is not None,
            "max_tokens": record.context_length,
            "language": family.language or ["en"],
            "model_hub": hub,
            "model_revision": revision,
        }
    else:
        fields |= {
            "type": "LLM-based" if plan.worker.rerank_kind == "llm-yes-no" else "normal",
            "language": family.language or ["en"],
            "model_revision": revision,
        }
    fields |= {
        "status": record.state,
        "error": record.error,
        "model_path": str(plan.model_path),
        "architecture": plan.gguf.architecture,
        "chat_template_source": record.info.get("template_source"),
        "worker_pid": record.pid,
        "memory_bytes": record.resident_bytes(),
        "offload": OffloadReport.model_validate(offload) if offload is not None else None,
    } | _keeping(record, supervisor)
    return fields


def _keeping(record: RunningModel, supervisor: Supervisor) -> dict[str, Any]:
    """How the model is kept: pinned, loaded at start, its idle time, how long it has idled."""
    limit = supervisor.idle_limit(record)
    idle = (
        round(time.monotonic() - record.last_used, 1)
        if record.state is ModelState.READY and record.in_flight == 0
        else None
    )
    return {
        "pinned": record.service.pinned,
        "load_at_start": loads_at_start(record.service, record.plan.model_type),
        "idle_minutes": round(limit / 60, 2) if limit is not None else None,
        "idle_seconds": idle,
        "memory_needed_bytes": record.needs or None,
    }


def _unavailable_fields(model: UnavailableModel, address: str) -> dict[str, Any]:
    """A remembered model that could not be brought back: what is known, and why."""
    return {
        "model_type": model.model_type,
        "address": address,
        "model_name": model.model_name,
        "status": ModelState.ERROR,
        "error": model.error,
        "model_path": model.model_path,
    }


def _fields_of(model: RunningModel | UnavailableModel, supervisor: Supervisor) -> dict[str, Any]:
    if isinstance(model, UnavailableModel):
        return _unavailable_fields(model, supervisor.address)
    return _description_fields(model, supervisor)


def description(model: RunningModel | UnavailableModel, supervisor: Supervisor) -> ModelDescription:
    """`GET /v1/models/{uid}`."""
    fields = _fields_of(model, supervisor)
    if fields["model_type"] == "LLM":
        return LLMDescription(**fields)
    if fields["model_type"] == "embedding":
        return EmbeddingDescription(**fields)
    return RerankDescription(**fields)


def listed(model: RunningModel | UnavailableModel, supervisor: Supervisor) -> ListedModel:
    """One item of `GET /v1/models`: OpenAI's listing fields, then the description."""
    fields = {
        "id": model.uid,
        "object": "model",
        "created": 0,
        "owned_by": "xinference",
        **_fields_of(model, supervisor),
    }
    if fields["model_type"] == "LLM":
        return ListedLLM(**fields)
    if fields["model_type"] == "embedding":
        return ListedEmbedding(**fields)
    return ListedRerank(**fields)


def model_list(supervisor: Supervisor) -> ModelList:
    """Every served model, loaded or not, then the remembered ones that could not be brought
    back (with why)."""
    served: list[RunningModel | UnavailableModel] = [*supervisor.models()]
    served += supervisor.unavailable()
    return ModelList(object="list", data=[listed(model, supervisor) for model in served])


def service_state(record: RunningModel, supervisor: Supervisor) -> ServiceState:
    keeping = _keeping(record, supervisor)
    return ServiceState(
        model_uid=record.uid,
        status=record.state,
        pinned=keeping["pinned"],
        load_at_start=keeping["load_at_start"],
        idle_minutes=keeping["idle_minutes"],
    )


def worker(record: RunningModel) -> WorkerInfo:
    return WorkerInfo(pid=record.pid, status=record.state, error=record.error)


def _pending_instance(pending: PendingDownload) -> InstanceInfo:
    return InstanceInfo(
        model_name=pending.model_name,
        model_uid=pending.uid,
        model_version=None,
        model_ability=pending.model_ability,
        replica=1,
        status="CREATING",
        instance_created_ts=pending.created_ts,
        n_worker=1,
        replica_statuses=[],
    )


def _instance(record: RunningModel, address: str) -> InstanceInfo:
    status = _INSTANCE_STATUS[record.state]
    return InstanceInfo(
        model_name=record.plan.family.model_name,
        model_uid=record.uid,
        model_version=None,
        model_ability=record.plan.family.model_ability,
        replica=1,
        status=status,
        instance_created_ts=record.created_ts,
        n_worker=1,
        replica_statuses=[
            ReplicaStatus(
                replica_id=0,
                replica_model_uid=f"{record.uid}-rep0",
                worker_address=address,
                status=status,
                model_state=record.state,
                created_ts=record.created_ts,
                error_message=record.error,
                replica_uid=None,
                gpu_idx=None,
            )
        ],
    )


def instances(
    pending: Iterable[PendingDownload],
    records: Iterable[RunningModel],
    address: str,
    *,
    model_name: str | None = None,
    model_uid: str | None = None,
) -> list[InstanceInfo]:
    """`GET /v1/models/instances`: downloading launches first, then launched models; only
    those of `model_name` and `model_uid` when given."""
    out = [
        _pending_instance(p)
        for p in pending
        if not (model_uid and p.uid != model_uid)
        and not (model_name and p.model_name != model_name)
    ]
    out += [
        _instance(r, address)
        for r in records
        if not (model_uid and r.uid != model_uid)
        and not (model_name and r.plan.family.model_name != model_name)
    ]
    return out


def _download_progress(state: DownloadState) -> LaunchProgress:
    job = state.job
    figures = DownloadFigures.model_validate(state.figures)
    progress = round(_DOWNLOAD_SHARE * figures.progress, 4)
    files = [
        FileProgress(file=file.path, size=file.size, downloaded=on_disk)
        for file, on_disk in zip(job.files, state.on_disk, strict=True)
    ]
    info = f"Downloading {job.label} from {job.hub}: {job.state}"
    if job.error:
        info += f" ({job.error})"
    replica = ReplicaProgress(
        replica_id=0,
        replica_model_uid=f"{state.pending.uid}-rep0",
        progress=progress,
        stage="downloading",
        info=info,
        updated_at=time.time(),
        download_files=files,
    )
    return LaunchProgress(
        progress=progress,
        stage="downloading",
        download_files=files,
        replicas=[replica],
        download=LaunchDownload(job_id=job.id, state=job.state, **figures.model_dump()),
    )


def launch_progress(state: DownloadState | RunningModel | None, uid: str) -> LaunchProgress:
    """`GET /v1/models/{uid}/progress`: downloading, then loading; "pending" for a uid that
    is not known (Xinference's answer before a launch registers)."""
    if isinstance(state, DownloadState):
        return _download_progress(state)
    if state is None:
        return LaunchProgress(progress=0.0, stage="pending", download_files=[], replicas=[])
    progress = 1.0 if state.state is ModelState.READY else 0.0
    info = _STATE_INFO.get(state.state) or state.error or "Error"
    return LaunchProgress(
        progress=progress,
        stage="loading",
        download_files=[],
        replicas=[
            ReplicaProgress(
                replica_id=0,
                replica_model_uid=f"{uid}-rep0",
                progress=progress,
                stage="loading",
                info=info,
                updated_at=state.updated_at,
                download_files=[],
            )
        ],
    )
