"""XinDesk's model library (under /v1/xindesk): this machine's hardware, hub search, a
repository's or a catalog model's GGUF files by quantization with a memory-fit verdict for this
machine, and the models installed here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from desktop.api.common import ModelType, Verdict
from desktop.api.hubs import HubName

# -- hardware -----------------------------------------------------------------------------------


class GPUView(BaseModel):
    index: int = Field(description="The device's position as its backend counts it.")
    name: str
    backend: str = Field(description="CUDA, HIP, Metal, Vulkan...")
    total_bytes: int | None = Field(description="Memory it can use; None when unknown.")
    free_bytes: int | None
    unified_memory: bool = Field(description="It uses system RAM (Apple Silicon, integrated).")
    source: str = Field(description="Where the memory figures came from.")


class HardwareView(BaseModel):
    """`GET /v1/xindesk/hardware`: RAM, GPUs and the llama.cpp backend of this build, with
    where each figure came from."""

    os: str
    os_version: str
    machine: str
    cpu_name: str
    cpu_physical_cores: int | None
    cpu_logical_cores: int | None
    ram_total_bytes: int
    ram_available_bytes: int
    backend: str = Field(description="What this build of llama.cpp runs on: CPU, CUDA, Metal...")
    gpu_offload: bool = Field(description="Whether layers can go to a GPU here.")
    gpus: list[GPUView]
    cpu_features: list[str]
    unified_memory: bool
    ram_source: str
    cpu_source: str
    backend_source: str
    notes: list[str]
    gpu_total_bytes: int | None = Field(description="All GPUs together; None without one.")
    gpu_free_bytes: int | None


# -- hub search and repository files ------------------------------------------------------------


class SearchHit(BaseModel):
    hub: HubName
    repo_id: str
    downloads: int
    likes: int
    updated: str | None = Field(description="ISO 8601 time of the last change.")
    tags: list[str]
    gguf_files: int | None = Field(description="GGUF files in it, when the hub said.")


class SearchResults(BaseModel):
    """`GET /v1/xindesk/search`: GGUF repositories; a hub that could not be reached is noted."""

    results: list[SearchHit]
    notes: list[str] = Field(description="Hubs that could not be searched, and why.")


class RemoteFileView(BaseModel):
    path: str = Field(description="Path inside the repository.")
    size: int
    sha256: str | None


class FitVerdict(BaseModel):
    """Whether (and how) a file runs on this machine, with the numbers behind the answer."""

    verdict: Verdict
    n_gpu_layers: int = Field(description="The offload the verdict is for.")
    ram_needed: int
    ram_budget: int = Field(description="RAM available after headroom.")
    vram_needed: int
    vram_budget: int | None = Field(description="GPU memory available; None without a GPU.")
    message: str = Field(description="One sentence for a person.")


class QuantChoiceView(BaseModel):
    """One file (or split set) at one quantization level."""

    quantization: str = Field(description="The canonical level name, e.g. Q4_K_M.")
    label: str = Field(description="The file name without folder, parts or .gguf.")
    files: list[RemoteFileView]
    size: int
    complete: bool = Field(description="Every part of a split file is there.")
    parts: int
    bits_per_weight: float | None
    fit: FitVerdict | None = Field(description="None when it could not be judged.")
    recommended: bool


class RepoFiles(BaseModel):
    """`GET /v1/xindesk/repo`: a repository's GGUF files grouped by quantization (best
    quality first), each with a memory fit for this machine and the recommended one marked."""

    hub: HubName
    repo_id: str
    revision: str | None
    context_length: int = Field(description="The context the fit is judged at.")
    choices: list[QuantChoiceView]
    recommended: str | None
    assumptions: list[str]
    fit_note: str | None = Field(description="Why there is no fit, when there is none.")
    projectors: list[RemoteFileView] = Field(description="Vision projectors (mmproj).")
    unknown: list[RemoteFileView] = Field(description="GGUF files of no known level.")


class CatalogFileRow(BaseModel):
    """One quantization of a catalog model, with its exact files; `fit` and `recommended`
    only when a context length was given."""

    model_config = ConfigDict(protected_namespaces=())

    hub: HubName
    repo_id: str
    model_size_in_billions: str | None
    quantization: str
    files: list[RemoteFileView]
    size: int | None = Field(description="None while files are missing from the listing.")
    missing: list[str]
    bits_per_weight: float | None
    downloaded: bool
    stale: bool = Field(description="From an old listing (no hub could be reached).")
    note: str | None
    fit: FitVerdict | None = None
    recommended: bool | None = None


class SizeSummary(BaseModel):
    """The fit of one model size of a catalog model."""

    model_config = ConfigDict(protected_namespaces=())

    model_size_in_billions: str | None
    recommended: str | None = Field(description="The quantization to pick.")
    assumptions: list[str]
    fit_note: str | None


class CatalogModelFiles(BaseModel):
    """`GET /v1/xindesk/catalog/{type}/{name}`: a catalog model's quantizations with their
    files; `context_length` and `sizes` only when a fit was asked for."""

    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_type: ModelType
    specs: list[CatalogFileRow]
    context_length: int | None = None
    sizes: list[SizeSummary] | None = None


class RegisterRepo(BaseModel):
    """A hub repository to make launchable by name."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    repo_id: str = Field(description="owner/name, or the repository's URL.")
    hub: HubName | None = None
    model_name: str | None = Field(None, description="Name to launch it by; default from the repo.")
    model_type: ModelType = "LLM"
    context_length: int | None = Field(None, ge=16)


# -- installed models ---------------------------------------------------------------------------


class InstalledModelView(BaseModel):
    """One model on disk (a single GGUF file or a whole split set)."""

    id: str = Field(description="Stable id; downloads are <owner>/<repo>/<file>.")
    path: str = Field(description="The file to load (the first part of a split set).")
    parts: list[str]
    size: int
    source: Literal["download", "import", "hf-cache"]
    repo_id: str | None
    quantization: str | None
    architecture: str | None
    context_length: int | None
    block_count: int | None
    is_projector: bool
    complete: bool
    problem: str | None = Field(description="What is wrong, in words; None when nothing is.")
    usable: bool = Field(description="Whole, readable, and a model of its own.")


class InstalledModels(BaseModel):
    models: list[InstalledModelView]


class ImportModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="A .gguf file on this machine (any part of a split set).")


class MoveModelsFolder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="The new models folder.")
    mode: Literal["move", "link"] = Field(
        "move", description="move: the files go there; link: they stay and are linked from there."
    )


class ModelsFolderMoved(BaseModel):
    models_dir: str
    mode: Literal["move", "link"]
