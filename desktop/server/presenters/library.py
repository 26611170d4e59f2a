"""The model library's views: this machine's hardware, hub search hits, a repository's or a
catalog model's files by quantization with their memory fit, and installed models."""

from __future__ import annotations

from collections.abc import Iterable

from desktop.api.common import Verdict
from desktop.api.hubs import HubName
from desktop.api.library import (
    CatalogFileRow,
    FitVerdict,
    GPUView,
    HardwareView,
    InstalledModelView,
    QuantChoiceView,
    RemoteFileView,
    RepoFiles,
    SearchHit,
)
from desktop.core.catalog.choice_fit import ChoicesFit
from desktop.core.catalog.files import QuantChoice, RepoGGUFs
from desktop.core.catalog.sizes import SpecFiles
from desktop.core.hub.remote import RemoteFile, RepoSummary
from desktop.core.memory.fit import FitResult
from desktop.core.memory.gpus import GPU
from desktop.core.memory.hardware import Hardware
from desktop.core.memory.quant import quant_level
from desktop.core.store import InstalledModel


def _gpu(gpu: GPU) -> GPUView:
    return GPUView(
        index=gpu.index,
        name=gpu.name,
        backend=gpu.backend,
        total_bytes=gpu.total_bytes,
        free_bytes=gpu.free_bytes,
        unified_memory=gpu.unified_memory,
        source=gpu.source,
    )


def hardware(found: Hardware) -> HardwareView:
    return HardwareView(
        os=found.os,
        os_version=found.os_version,
        machine=found.machine,
        cpu_name=found.cpu_name,
        cpu_physical_cores=found.cpu_physical_cores,
        cpu_logical_cores=found.cpu_logical_cores,
        ram_total_bytes=found.ram_total_bytes,
        ram_available_bytes=found.ram_available_bytes,
        backend=found.backend,
        gpu_offload=found.gpu_offload,
        gpus=[_gpu(gpu) for gpu in found.gpus],
        cpu_features=list(found.cpu_features),
        unified_memory=found.unified_memory,
        ram_source=found.ram_source,
        cpu_source=found.cpu_source,
        backend_source=found.backend_source,
        notes=list(found.notes),
        gpu_total_bytes=found.gpu_total_bytes,
        gpu_free_bytes=found.gpu_free_bytes,
    )


def search_hit(found: RepoSummary) -> SearchHit:
    return SearchHit(
        hub=found.hub,
        repo_id=found.repo_id,
        downloads=found.downloads,
        likes=found.likes,
        updated=found.updated,
        tags=list(found.tags),
        gguf_files=found.gguf_files,
    )


def remote_file(file: RemoteFile) -> RemoteFileView:
    return RemoteFileView(path=file.path, size=file.size, sha256=file.sha256)


def remote_files(files: Iterable[RemoteFile]) -> list[RemoteFileView]:
    return [remote_file(file) for file in files]


def fit_verdict(result: FitResult | None) -> FitVerdict | None:
    if result is None:
        return None
    return FitVerdict(
        verdict=Verdict(str(result.verdict)),
        n_gpu_layers=result.n_gpu_layers,
        ram_needed=result.ram_needed,
        ram_budget=result.ram_budget,
        vram_needed=result.vram_needed,
        vram_budget=result.vram_budget,
        message=result.message,
    )


def _bits_per_weight(quantization: str) -> float | None:
    level = quant_level(quantization)
    return level.bits_per_weight if level else None


def quant_choice(
    choice: QuantChoice, verdict: FitResult | None, *, recommended: bool
) -> QuantChoiceView:
    return QuantChoiceView(
        quantization=choice.quant,
        label=choice.label,
        files=remote_files(choice.files),
        size=choice.size,
        complete=choice.complete,
        parts=choice.parts,
        bits_per_weight=_bits_per_weight(choice.quant),
        fit=fit_verdict(verdict),
        recommended=recommended,
    )


def repo_files(
    hub: HubName,
    repo_id: str,
    revision: str | None,
    context_length: int,
    grouped: RepoGGUFs,
    fit: ChoicesFit,
) -> RepoFiles:
    """A repository's choices, each with its fit; the recommended one is marked where it
    could be judged."""
    choices = [
        quant_choice(
            choice,
            verdict,
            recommended=choice.quant == fit.recommended and verdict is not None,
        )
        for choice, verdict in zip(grouped.choices, fit.verdicts, strict=True)
    ]
    return RepoFiles(
        hub=hub,
        repo_id=repo_id,
        revision=revision,
        context_length=context_length,
        choices=choices,
        recommended=fit.recommended,
        assumptions=list(fit.assumptions),
        fit_note=fit.note,
        projectors=remote_files(grouped.projectors),
        unknown=remote_files(grouped.unknown),
    )


def catalog_row(size_key: str | None, entry: SpecFiles, *, downloaded: bool) -> CatalogFileRow:
    """One quantization of a catalog model with its exact files (its fit is added by the
    route when one was asked for)."""
    return CatalogFileRow(
        hub=entry.hub,
        repo_id=entry.repo_id,
        model_size_in_billions=size_key,
        quantization=entry.quantization,
        files=remote_files(entry.files),
        size=entry.size,
        missing=list(entry.missing),
        bits_per_weight=_bits_per_weight(entry.quantization),
        downloaded=downloaded,
        stale=entry.stale,
        note=entry.note,
    )


def installed_model(model: InstalledModel) -> InstalledModelView:
    return InstalledModelView(
        id=model.id,
        path=str(model.path),
        parts=[str(part) for part in model.parts],
        size=model.size,
        source=model.source,
        repo_id=model.repo_id,
        quantization=model.quantization,
        architecture=model.architecture,
        context_length=model.context_length,
        block_count=model.block_count,
        is_projector=model.is_projector,
        complete=model.complete,
        problem=model.problem,
        usable=model.usable,
    )
