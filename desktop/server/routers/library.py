"""The model library (under /v1/xindesk): hardware, hub search, a repository's GGUF files by
quantization with a memory fit, registering a searched repository, and installed models."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Depends, Query

from desktop.api.common import Null
from desktop.api.hubs import HubName
from desktop.api.library import (
    CatalogFileRow,
    CatalogModelFiles,
    HardwareView,
    ImportModel,
    InstalledModels,
    InstalledModelView,
    ModelsFolderMoved,
    MoveModelsFolder,
    RegisterRepo,
    RepoFiles,
    SearchHit,
    SearchResults,
    SizeSummary,
)
from desktop.api.xinference import Registration
from desktop.core.catalog.choice_fit import fit_choices
from desktop.core.catalog.families import Family
from desktop.core.catalog.files import QuantChoice, group_gguf_files
from desktop.core.catalog.from_repo import registration_from_repo
from desktop.core.errors import HubUnreachable
from desktop.core.hub.references import parse_repo_reference
from desktop.core.hub.remote import RemoteHub
from desktop.core.memory.hardware import Hardware, probe_hardware
from desktop.core.memory.quant import quant_from_filename
from desktop.core.running.named_files import user_path
from desktop.server.deps import StateDep, require_api_key
from desktop.server.presenters import library as present
from desktop.server.presenters.registry import registration

if TYPE_CHECKING:
    from desktop.core.catalog.sizes import SpecFiles

router = APIRouter(prefix="/v1/xindesk", dependencies=[Depends(require_api_key)], tags=["library"])

HubParam = HubName | None


@router.get("/hardware")
async def hardware() -> HardwareView:
    """RAM, GPUs and the llama.cpp backend of this build, with where each figure came from."""
    return present.hardware(await asyncio.to_thread(probe_hardware))


@router.get("/search")
async def search(
    state: StateDep,
    q: str = Query(..., min_length=1, description="Words, owner/repo, or a hub URL."),
    hub: HubParam = None,
    limit: int = Query(30, ge=1, le=100),
) -> SearchResults:
    """GGUF repositories on the hubs; a hub that cannot be reached is noted, not an error
    (unless every hub failed)."""
    wanted_hub, text, _extra = (None, q.strip(), None)
    if "/" in q:
        wanted_hub, text, _extra = parse_repo_reference(q)
    hubs = state.downloads.hubs(hub or wanted_hub)
    results: list[SearchHit] = []
    notes: list[str] = []
    for remote in hubs:
        try:
            found = await asyncio.to_thread(remote.search, text, limit=limit)
        except HubUnreachable as exc:
            notes.append(str(exc))
            continue
        results.extend(present.search_hit(item) for item in found)
    if not results and len(notes) == len(hubs):
        raise HubUnreachable(" ".join(notes))
    return SearchResults(results=results, notes=notes)


@router.get("/repo")
async def repo_files(
    state: StateDep,
    repo_id: str = Query(..., description="owner/repo or a hub URL."),
    hub: HubParam = None,
    revision: str | None = None,
    context_length: int | None = Query(None, ge=16, description="Plan the fit for this context."),
) -> RepoFiles:
    """A repository's GGUF files grouped by quantization (best quality first), split parts
    together, vision projectors apart; each with a memory fit for this machine and the
    recommended choice marked."""
    named_hub, repo, _extra = parse_repo_reference(repo_id)
    remote, pinned, files = await asyncio.to_thread(
        state.downloads.list_repo, repo, hub=hub or named_hub, revision=revision
    )
    grouped = group_gguf_files(files)
    n_ctx = context_length or state.settings.models.default_context_length
    fit = await asyncio.to_thread(
        lambda: fit_choices(remote, repo, pinned, grouped.choices, n_ctx, probe_hardware())
    )
    return present.repo_files(remote.name, repo, pinned, n_ctx, grouped, fit)


@router.post("/repo/register", response_model_exclude_unset=True)
async def register_repo(body: RegisterRepo, state: StateDep) -> Registration:
    """Make a searched repository launchable by name (a custom registration): launching it
    downloads the chosen quantization first, like a catalog model."""
    named_hub, repo, _extra = parse_repo_reference(body.repo_id)
    remote, _pinned, files = await asyncio.to_thread(
        state.downloads.list_repo, repo, hub=body.hub or named_hub
    )
    payload = registration_from_repo(
        repo,
        remote.name,
        group_gguf_files(files),
        model_name=body.model_name,
        model_type=body.model_type,
        context_length=body.context_length,
    )
    family = state.catalog.register(body.model_type, payload, persist=True)
    return registration(family)


@router.get("/installed")
async def installed(state: StateDep) -> InstalledModels:
    """GGUF models on this machine: downloaded, imported in place, and found in the Hugging
    Face cache."""
    found = await asyncio.to_thread(state.store.installed)
    return InstalledModels(models=[present.installed_model(model) for model in found])


@router.post("/installed/import")
async def import_model(body: ImportModel, state: StateDep) -> InstalledModelView:
    """Register a local .gguf (or a split set) where it is, without copying it."""
    path = user_path(body.path, "path")
    model = await asyncio.to_thread(lambda: state.store.import_path(path))
    return present.installed_model(model)


@router.delete("/installed/{model_id:path}", response_model=Null)
async def delete_installed(
    model_id: str, state: StateDep, delete_files: bool = Query(False)
) -> None:
    """Delete a downloaded model's files, or forget an imported one (its file stays unless
    `delete_files`). A model that is running cannot be deleted."""
    await asyncio.to_thread(state.store.remove, model_id, delete_files=delete_files)


@router.get("/catalog/{model_type}/{model_name}", response_model_exclude_unset=True)
async def catalog_files(
    model_type: Literal["LLM", "embedding", "rerank"],
    model_name: str,
    state: StateDep,
    hub: HubParam = None,
    size: str | None = Query(None, description="Only this size in billions."),
    refresh: bool = False,
    context_length: int | None = Query(
        None, ge=16, description="Judge each row's memory fit at this context, mark the pick."
    ),
) -> CatalogModelFiles:
    """A catalog model's quantizations with their exact files and sizes in bytes, from the
    first hub that answers (cached for a day; an old listing is used, and says so, when no hub
    can be reached). With `context_length`, every row also gets a memory fit for this machine
    and the recommended row per size is marked, as the repo route does."""
    from desktop.core.catalog.families import normalize_size
    from desktop.core.catalog.sizes import CatalogFiles, ListingCache
    from desktop.core.hub.remote import first_reachable

    family = state.catalog.get(model_type, model_name)
    wanted = normalize_size(size) if size is not None else None
    specs = [
        spec
        for spec in family.model_specs
        if spec.model_format == "ggufv2" and (wanted is None or spec.size_key == wanted)
    ]
    files = CatalogFiles(ListingCache(state.paths.hub_cache_dir))
    installed = await asyncio.to_thread(state.store.index)
    n_ctx = _catalog_fit_context(family, context_length)
    hardware = await asyncio.to_thread(probe_hardware) if n_ctx is not None else None
    sizes: list[SizeSummary] = []

    def table(remote: RemoteHub) -> list[CatalogFileRow]:
        rows = []
        on_hub = [spec for spec in specs if spec.model_hub == remote.name and spec.model_id]
        entries = files.for_hub(on_hub, remote, refresh=refresh)
        for spec, entry in zip(on_hub, entries, strict=True):
            on_disk = installed.serving(entry.repo_id, [f.path for f in entry.files]) is not None
            rows.append(present.catalog_row(spec.size_key, entry, downloaded=on_disk))
        if n_ctx is not None and hardware is not None:
            sizes[:] = _fit_catalog_rows(remote, rows, entries, n_ctx, hardware)
        return rows

    rows = await asyncio.to_thread(first_reachable, state.downloads.hubs(hub), table)
    answer = CatalogModelFiles(model_name=family.model_name, model_type=model_type, specs=rows)
    if n_ctx is not None:
        answer.context_length = n_ctx
        answer.sizes = sizes
    return answer


def _catalog_fit_context(family: Family, asked: int | None) -> int | None:
    """The context a fit is judged at: what was asked, capped at the model's own (a launch
    caps it the same way); None when no fit was asked for."""
    if asked is None:
        return None
    limits = [asked]
    if family.context_length:
        limits.append(family.context_length)
    if family.model_type != "LLM" and family.max_tokens:
        limits.append(family.max_tokens)
    return min(limits)


def _fit_catalog_rows(
    remote: RemoteHub,
    rows: list[CatalogFileRow],
    entries: list[SpecFiles],
    n_ctx: int,
    hardware: Hardware,
) -> list[SizeSummary]:
    """Add `fit` and `recommended` to each row, one model size at a time (each size is its own
    model, so its own header); returns the recommended choice, assumptions and note per size."""
    by_size: dict[str | None, list[int]] = {}
    for index, row in enumerate(rows):
        by_size.setdefault(row.model_size_in_billions, []).append(index)
    summaries: list[SizeSummary] = []
    for size_key, indexes in by_size.items():
        # The catalog spells levels its own way ("q4_k_m", "UD-Q4_K_XL"); the fit ranks
        # canonical names, so rows are judged under those and mapped back.
        choices = [
            QuantChoice(
                quant=quant_from_filename(entries[i].quantization) or entries[i].quantization,
                files=entries[i].files,
                size=sum(f.size for f in entries[i].files),
                complete=entries[i].complete,
                folder=None,
                parts=max(1, len(entries[i].files)),
            )
            for i in indexes
        ]
        repo = entries[indexes[0]].repo_id
        revision = entries[indexes[0]].revision
        fit = fit_choices(remote, repo, revision, choices, n_ctx, hardware)
        picked: str | None = None
        for i, choice, verdict in zip(indexes, choices, fit.verdicts, strict=True):
            rows[i].fit = present.fit_verdict(verdict)
            mark = picked is None and choice.quant == fit.recommended and verdict is not None
            rows[i].recommended = mark
            if mark:
                picked = rows[i].quantization
        summaries.append(
            SizeSummary(
                model_size_in_billions=size_key,
                recommended=picked,
                assumptions=list(fit.assumptions),
                fit_note=fit.note,
            )
        )
    return summaries


@router.post("/models-folder")
async def move_models_folder(body: MoveModelsFolder, state: StateDep) -> ModelsFolderMoved:
    """Change the models folder, moving (or linking) every downloaded model so none is lost,
    then save the setting. Refused while downloads are unfinished or a model file is in use."""
    from desktop.core.errors import InvalidRequest

    unfinished = [job.label for job in state.downloads.list() if not job.state.finished]
    if unfinished:
        raise InvalidRequest(
            "Finish or cancel these downloads before moving the models folder: "
            + ", ".join(unfinished)
        )
    target = user_path(body.path, "path")
    if not target.is_absolute():
        # Relative to what? The server's working folder is no place a person chose.
        raise InvalidRequest(f"path must be an absolute folder, not {body.path[:100]!r}.")
    new_dir = await asyncio.to_thread(lambda: state.store.move_models_dir(target, mode=body.mode))
    await asyncio.to_thread(state.settings_store.update, {"models": {"models_dir": str(new_dir)}})
    return ModelsFolderMoved(models_dir=str(new_dir), mode=body.mode)
