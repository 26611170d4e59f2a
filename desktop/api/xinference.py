"""Xinference's management routes: the cluster, launched models, registrations, engines, and the
cache of model files.

The shapes follow Xinference 4 (what `xinference-client` and FastGPT read), with XinDesk's own
fields added where a person needs more (a model's state, error, file and memory). Xinference is
loose about fields, so these models keep unknown ones (`extra="allow"`): a description read from a
real Xinference server parses, and XinDesk's additions reach clients that do not know them.

Field order is the order on the wire: each description lists Xinference's common fields, then
those of its model type, then XinDesk's (the classes below inherit in that order).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from desktop.api.common import InstanceStatus, JobState, ModelSize, ModelState
from desktop.api.downloads import DownloadFigures
from desktop.api.hubs import HubName

_LOOSE = ConfigDict(extra="allow", protected_namespaces=())


# -- the cluster --------------------------------------------------------------------------------


class ClusterAuth(BaseModel):
    auth: bool = Field(description="Whether requests need the API key (clients send it then).")


class CpuStatus(BaseModel):
    usage: float = Field(description="CPU use, 0-1.")
    total: int = Field(description="Logical CPUs.")
    memory_used: int
    memory_available: int
    memory_total: int


class NodeResources(BaseModel):
    cpu: CpuStatus


class WorkerStatus(BaseModel):
    update_time: float
    failure_remaining_count: int
    status: NodeResources


class ClusterStatus(BaseModel):
    """`GET /status`: how long the server has run and what its one worker has."""

    uptime: int = Field(description="Seconds since the server started.")
    workers: dict[str, WorkerStatus] = Field(description="By worker address.")


class TokenRequest(BaseModel):
    """Xinference's login; XinDesk has no users, so the password is the API key."""

    model_config = ConfigDict(extra="allow")

    username: str | None = None
    password: str


class TokenAnswer(BaseModel):
    access_token: str
    token_type: Literal["bearer"]


class ClusterVersion(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    version: str = Field(description="The Xinference API version this server follows.")
    full_revisionid: str = Field(alias="full-revisionid", description="XinDesk's own version.")


class NodeInfo(BaseModel):
    node_type: Literal["Supervisor", "Worker"]
    ip_address: str
    gpu_count: int
    gpu_vram_total: int


class SupervisorInfo(BaseModel):
    supervisor_ip: str


class WorkerNode(BaseModel):
    node_type: Literal["Worker"]
    ip_address: str


class VllmSupported(BaseModel):
    """Models vLLM would serve: none, XinDesk runs llama.cpp."""

    chat: list[str]
    generate: list[str]


# -- launching ----------------------------------------------------------------------------------


class LaunchRequest(BaseModel):
    """`POST /v1/models`: Xinference's launch body. Every other key is an engine argument
    (`n_ctx`, `n_gpu_layers`, `n_parallel`, ...); unknown ones are reported and ignored."""

    model_config = _LOOSE

    model_uid: str | None = Field(None, description="The uid to serve it as; default its name.")
    model_name: str | None = Field(None, description="A registered (catalog or custom) name.")
    model_type: str | None = Field(None, description="LLM (default), embedding or rerank.")
    model_engine: str | None = Field(None, description="llama.cpp (the only engine here).")
    model_format: str | None = Field(None, description="ggufv2 (the only format here).")
    model_size_in_billions: int | float | str | None = None
    quantization: str | None = None
    model_path: str | None = Field(None, description="A .gguf file to serve instead.")
    download_hub: HubName | None = Field(None, description="Where a missing model comes from.")
    n_ctx: int | None = Field(None, description="Context length (default from the settings).")
    force: bool = Field(
        False, description="Launch even where the memory check says the model does not fit."
    )


class LaunchAnswer(BaseModel):
    model_uid: str


class WorkerInfo(BaseModel):
    """XinDesk's `GET /v1/xindesk/models/{uid}/worker`: the model's process."""

    pid: int | None = Field(description="The worker process; None once it ended.")
    status: ModelState
    error: str | None


# -- launched models ----------------------------------------------------------------------------


class OffloadDevice(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(description="The ggml device, e.g. CUDA0.")
    description: str | None = None
    backend: str | None = None
    layers: int = 0
    bytes: int = 0


class OffloadReport(BaseModel):
    """Where llama.cpp put a loaded model's layers (from its load log)."""

    model_config = ConfigDict(extra="allow")

    backend: str = "CPU"
    gpu_layers: int = 0
    total_layers: int = 0
    requested_gpu_layers: int = -1
    devices: list[OffloadDevice] = Field(default_factory=list)
    gpu_bytes: int = 0
    cpu_bytes: int = 0
    source: str | None = None
    summary: str | None = Field(None, description='In words: "CPU", "19/19 layers on CUDA0".')
    note: str | None = Field(None, description="Why the model runs on the CPU, when it does.")


class _Listing(BaseModel):
    """OpenAI's model-list fields, first in each `GET /v1/models` item."""

    model_config = _LOOSE

    id: str = Field(description="The model uid.")
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "xinference"


class _Common(BaseModel):
    """Xinference's fields of every model description."""

    model_config = _LOOSE

    model_type: str
    address: str = ""
    accelerators: list[str] = Field(default_factory=list, description="GPU indices the model uses.")
    model_name: str
    model_engine: str = "llama.cpp"
    model_format: str = "ggufv2"
    quantization: str = "unknown"
    replica: int = 1


class _LLMFields(BaseModel):
    model_config = _LOOSE

    model_type: Literal["LLM"]
    model_lang: list[str] = Field(default_factory=list)
    model_ability: list[str] = Field(
        default_factory=list, description="chat, generate, tools, vision, reasoning..."
    )
    model_description: str | None = None
    model_size_in_billions: ModelSize | None = None
    model_family: str | None = None
    multimodal_projector: str | None = None
    model_hub: str | None = None
    revision: str | None = None
    context_length: int | None = Field(None, description="The context it was launched with.")
    strict_system_first: bool = False
    n_worker: int = 1
    parallel: int | None = Field(
        None, description="XinDesk: requests decoded together, each with the whole context."
    )
    parallel_reason: str | None = None
    # The engine settings that decide speed and memory (XinDesk's).
    flash_attn: str | bool | None = Field(None, description="auto, on or off.")
    cache_type_k: str | int | None = Field(
        None, description="The KV cache's K type (f16, q8_0...)."
    )
    cache_type_v: str | int | None = Field(None, description="The KV cache's V type.")
    speculative: str | None = Field(None, description="ngram (prompt lookup) or off.")
    draft_max: int | None = Field(None, description="The most tokens drafted per step.")
    draft_model_path: str | None = Field(None, description="The draft model, when one drafts.")


class _EmbeddingFields(BaseModel):
    model_config = _LOOSE

    model_type: Literal["embedding"]
    dimensions: int | None = Field(None, description="Length of its vectors.")
    min_dimensions: int | None = Field(
        None,
        description="XinDesk: the shortest `dimensions` a request may ask for (Matryoshka "
        "models); None: the length is fixed.",
    )
    query_instruction: bool = Field(
        False, description="XinDesk: `input_type: query` puts the family's instruction first."
    )
    max_tokens: int | None = Field(None, description="The longest input it takes.")
    language: list[str] = Field(default_factory=list)
    model_hub: str | None = None
    model_revision: str | None = None


class _RerankFields(BaseModel):
    model_config = _LOOSE

    model_type: Literal["rerank"]
    type: str | None = Field(None, description="normal (a cross-encoder) or LLM-based.")
    language: list[str] = Field(default_factory=list)
    model_revision: str | None = None


class _XinDeskFields(BaseModel):
    """XinDesk's own fields, last in every description; clients that do not know them
    ignore them."""

    model_config = _LOOSE

    status: ModelState = ModelState.READY
    error: str | None = Field(None, description="Why it stopped, when it did.")
    model_path: str | None = Field(None, description="The GGUF file it serves.")
    architecture: str | None = Field(None, description="general.architecture of the file.")
    chat_template_source: str | None = Field(None, description="Where its chat template came from.")
    worker_pid: int | None = None
    memory_bytes: int | None = Field(None, description="Resident RAM of its worker process.")
    offload: OffloadReport | None = Field(None, description="Layer placement; None until loaded.")
    pinned: bool = Field(False, description="Never unloaded for idleness or to make room.")
    load_at_start: bool = Field(False, description="Loaded when the server starts.")
    idle_minutes: float | None = Field(
        None,
        description="Unused this long, it is unloaded (the next request loads it); None: never.",
    )
    idle_seconds: float | None = Field(
        None, description="Seconds since a request last used it; None while not loaded or busy."
    )
    memory_needed_bytes: int | None = Field(
        None, description="RAM the memory estimate gives it; checked before each load."
    )


# The inheritance order sets the field order: common, then by type, then XinDesk's.
class LLMDescription(_XinDeskFields, _LLMFields, _Common):
    """`GET /v1/models/{uid}` of a chat or text-generation model."""


class EmbeddingDescription(_XinDeskFields, _EmbeddingFields, _Common):
    """`GET /v1/models/{uid}` of an embedding model."""


class RerankDescription(_XinDeskFields, _RerankFields, _Common):
    """`GET /v1/models/{uid}` of a rerank model."""


ModelDescription = Annotated[
    LLMDescription | EmbeddingDescription | RerankDescription,
    Field(discriminator="model_type"),
]


# A listed model is its description with OpenAI's listing fields first.
class ListedLLM(LLMDescription, _Listing):
    """A chat or text-generation model in `GET /v1/models`."""


class ListedEmbedding(EmbeddingDescription, _Listing):
    """An embedding model in `GET /v1/models`."""


class ListedRerank(RerankDescription, _Listing):
    """A rerank model in `GET /v1/models`."""


ListedModel = Annotated[
    ListedLLM | ListedEmbedding | ListedRerank, Field(discriminator="model_type")
]


class ServiceChange(BaseModel):
    """`PATCH /v1/xindesk/models/{uid}/service`: how a served model is kept; fields left out
    keep their values."""

    model_config = ConfigDict(extra="forbid")

    pinned: bool | None = None
    load_at_start: bool | None = None
    idle_minutes: float | None = Field(
        None, ge=0, le=7 * 24 * 60, description="0 never unloads it for idleness."
    )


class ServiceState(BaseModel):
    """How a served model is kept, and where it is."""

    model_uid: str
    status: ModelState
    pinned: bool
    load_at_start: bool
    idle_minutes: float | None


class ModelList(BaseModel):
    """`GET /v1/models`: every served model, loaded or not (not those still downloading)."""

    object: Literal["list"] = "list"
    data: list[ListedModel]


class ReplicaStatus(BaseModel):
    model_config = _LOOSE

    replica_id: int
    replica_model_uid: str
    worker_address: str
    status: InstanceStatus
    model_state: ModelState
    created_ts: int
    error_message: str | None
    replica_uid: str | None = None
    gpu_idx: list[int] | None = None


class InstanceInfo(BaseModel):
    """`GET /v1/models/instances`: one launched (or downloading) model."""

    model_config = _LOOSE

    model_name: str
    model_uid: str
    model_version: str | None = None
    model_ability: list[str] = Field(default_factory=list)
    replica: int = 1
    status: InstanceStatus
    instance_created_ts: int
    n_worker: int = 1
    replica_statuses: list[ReplicaStatus] = Field(
        default_factory=list, description="Empty while the files download."
    )


class FileProgress(BaseModel):
    file: str = Field(description="Path inside the repository.")
    size: int
    downloaded: int | None = Field(description="Bytes on disk; None until the file is whole.")


class ReplicaProgress(BaseModel):
    replica_id: int
    replica_model_uid: str
    progress: float
    stage: str
    info: str
    updated_at: float
    download_files: list[FileProgress]


class _JobRef(BaseModel):
    job_id: str
    state: JobState


class LaunchDownload(DownloadFigures, _JobRef):
    """XinDesk: the download a launch waits for (the job, then its figures)."""


class LaunchProgress(BaseModel):
    """`GET /v1/models/{uid}/progress`: how far a launch is (downloading, then loading)."""

    progress: float = Field(description="0-1; downloading counts for 95 %.")
    stage: Literal["pending", "downloading", "loading", "launching"] = Field(
        description="XinDesk says the first three; a real Xinference also launching."
    )
    download_files: list[FileProgress]
    replicas: list[ReplicaProgress]
    download: LaunchDownload | None = Field(
        None, description="XinDesk: the download's figures, only while downloading."
    )


# -- registrations, engines, cache --------------------------------------------------------------


class RegistrationSpec(BaseModel):
    """One downloadable variant of a registered model (Xinference's flattened form)."""

    model_config = _LOOSE

    model_format: str
    model_size_in_billions: ModelSize | None = None
    quantization: str
    model_hub: str
    model_id: str | None = None
    model_uri: str | None = Field(None, description="A local file, for custom registrations.")
    model_revision: str | None = None
    model_file_name_template: str | None = None
    model_file_name_split_template: str | None = None
    quantization_parts: dict[str, list[str]] | None = None
    multimodal_projectors: list[str] | None = None


class Registration(BaseModel):
    """A registered model family as Xinference shows it: LLMs carry the LLM fields, embedding
    and rerank models theirs (the others are left out); unknown fields are kept."""

    model_config = _LOOSE

    model_name: str
    version: int = 2
    model_specs: list[RegistrationSpec] = Field(default_factory=list)
    is_builtin: bool = False
    context_length: int | None = None
    model_lang: list[str] | None = None
    model_ability: list[str] | None = None
    model_description: str | None = None
    model_family: str | None = None
    chat_template: str | None = None
    stop_token_ids: list[int] | None = None
    stop: list[str] | None = None
    tool_parser: str | None = None
    architectures: list[str] | None = None
    reasoning_start_tag: str | None = None
    reasoning_end_tag: str | None = None
    dimensions: int | None = None
    max_tokens: int | None = None
    language: list[str] | None = None
    type: str | None = None


class RegistrationName(BaseModel):
    """`GET /v1/model_registrations/{type}` without `detailed`."""

    model_name: str
    is_builtin: bool


class DetailedRegistration(Registration):
    """`GET /v1/model_registrations/{type}?detailed=true`."""

    download_hubs: list[HubName] = Field(default_factory=list)


class RegisterRequest(BaseModel):
    """`POST /v1/model_registrations/{type}`: a family as a JSON string (Xinference's form)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="The model family, as a JSON string.")
    worker_ip: str | None = None
    persist: bool = False


class LLMEngineParams(BaseModel):
    """How an LLM can be launched with the llama.cpp engine: a format and size, any of its
    quantizations."""

    model_config = _LOOSE

    model_name: str
    model_format: str
    model_size_in_billions: ModelSize | None
    quantizations: list[str]
    multimodal_projectors: list[str] | None = None
    support_draft_model: bool = False


class EngineParams(BaseModel):
    """How an embedding or rerank model can be launched: one entry per quantization."""

    model_config = _LOOSE

    model_name: str
    model_format: str
    model_size_in_billions: ModelSize | None
    quantization: str
    support_draft_model: bool = False


#: `GET /v1/engines/...`: launch parameters by engine name; null for an unknown model.
EngineOptions = dict[str, list[LLMEngineParams | EngineParams]]


class CacheEntry(BaseModel):
    """A model file on this machine, as Xinference's cache route lists it."""

    model_config = _LOOSE

    model_name: str
    model_type: str
    model_engine: list[str]
    model_size_in_billions: ModelSize | None
    model_format: str
    quantization: str
    model_version: str
    path: str
    real_path: str
    actor_ip_address: str
    size_bytes: int


class CachedModels(BaseModel):
    """`GET /v1/cache/models`."""

    model_config = ConfigDict(populate_by_name=True)

    entries: list[CacheEntry] = Field(alias="list")
