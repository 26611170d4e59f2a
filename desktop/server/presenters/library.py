"""The model library's views: this machine's hardware, hub search hits, a repository's or a
catalog model's files by quantization with their memory fit, and installed models."""

from __future__ import annotations

from collections.abc import Iterable

from desktop.api.hubs import HubName
from desktop.api.library import (
    CatalogFileRow,
    FitVerdict,
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
from desktop.core.memory.hardware import Hardware
from desktop.core.memory.quant import quant_level
from desktop.core.store import InstalledModel
from desktop.server.presenters.attributes import view_of


def hardware(found: Hardware) -> HardwareView:
    return view_of(HardwareView, found)


def search_hit(found: RepoSummary) -> SearchHit:
    return view_of(SearchHit, found)


def remote_file(file: RemoteFile) -> RemoteFileView:
    return view_of(RemoteFileView, file)


def remote_files(files: Iterable[RemoteFile]) -> list[RemoteFileView]:
    return [remote_file(file) for file in files]


def fit_verdict(result: FitResult | None) -> FitVerdict | None:
    return None if result is None else view_of(FitVerdict, result)


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
