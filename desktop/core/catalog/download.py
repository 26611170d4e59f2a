"""Download a built-in catalog model (name, size, quantization) from the hub that answers.

The catalog lists each spec once per hub, sometimes under different repository ids and file
names, so "auto" cannot just swap the endpoint: when Hugging Face cannot be reached it takes the
ModelScope spec of the same model and quantization.
"""

from __future__ import annotations

import logging
from pathlib import Path

from desktop.api.hubs import HubName
from desktop.core.catalog import Catalog
from desktop.core.catalog.families import GGUF_FORMAT, ModelType, Spec
from desktop.core.errors import HubUnreachable, InvalidRequest, ModelNotFound
from desktop.core.hub.jobs import CatalogRef, DownloadJob
from desktop.core.hub.manager import DownloadManager
from desktop.core.hub.sources import hub_order
from desktop.core.safepaths import plain_name

log = logging.getLogger("xindesk.hub")


def repo_folder(models_dir: Path, repo_id: str) -> Path:
    """Where a repository's files go: `<models_dir>/<owner>/<repo>`, the same for both hubs."""
    parts = [part for part in repo_id.strip("/").split("/") if part]
    if len(parts) != 2:
        raise InvalidRequest(f"{repo_id!r} is not a repository id of the form owner/name.")
    for part in parts:
        plain_name(part, what=f"The repository id {repo_id!r} has the part")
    return models_dir.joinpath(*parts)


def spec_folder(spec: Spec, models_dir: Path) -> Path:
    if not spec.model_id:
        raise InvalidRequest("This catalog entry names no repository to download from.")
    return repo_folder(models_dir, spec.model_id)


def _spec_paths(manager: DownloadManager, spec: Spec, hub: HubName) -> list[str]:
    """The files to fetch for a catalog spec, checked against the repository's listing (a
    repository re-uploaded under other names still downloads the right quantization)."""
    from desktop.core.catalog.sizes import match_spec_files

    assert spec.model_id is not None
    remote, _pinned, listing = manager.list_repo(
        spec.model_id, hub=hub, revision=spec.model_revision
    )
    matched = match_spec_files(spec, listing)
    if not matched.complete:
        raise ModelNotFound(
            f"{spec.model_id} on {remote.name} lacks {', '.join(matched.missing)} for "
            f"{spec.quantization}; the catalog entry is out of date."
        )
    return matched.paths


def download_repo_quantization(
    manager: DownloadManager,
    models_dir: Path,
    repo_id: str,
    quantization: str,
    *,
    hub: HubName | None = None,
    revision: str | None = None,
) -> DownloadJob:
    """Queue every part of one quantization of any GGUF repository."""
    from desktop.core.catalog.files import group_gguf_files

    remote, _pinned, files = manager.list_repo(repo_id, hub=hub, revision=revision)
    grouped = group_gguf_files(files)
    matches = grouped.find(quantization)
    if not matches:
        offered = ", ".join(grouped.quants) or "none"
        raise ModelNotFound(
            f"{repo_id} on {remote.name} has no {quantization} GGUF. It offers: {offered}."
        )
    choice = matches[0]
    if not choice.complete:
        raise ModelNotFound(
            f"{repo_id} lists only some parts of its {choice.quant} split files; "
            "it cannot be downloaded whole."
        )
    return manager.add(
        repo_id,
        [file.path for file in choice.files],
        folder=repo_folder(models_dir, repo_id),
        hub=remote.name,
        revision=revision,
        label=f"{repo_id} {choice.quant}",
    )


def download_catalog_model(
    manager: DownloadManager,
    catalog: Catalog,
    models_dir: Path,
    *,
    model_type: ModelType,
    name: str,
    size: object = None,
    quantization: str | None = None,
    source: str | None = None,
) -> tuple[DownloadJob, Spec]:
    """Queue the download of a catalog model; the first hub that can be reached serves it."""
    last: HubUnreachable | None = None
    tried: list[str] = []
    order = hub_order(source)
    for hub in order:
        try:
            family, spec = catalog.match(
                model_type,
                name,
                model_format=GGUF_FORMAT,
                size=size,
                quantization=quantization,
                hubs=(hub,),
            )
        except ModelNotFound:
            if hub != order[-1]:
                continue
            raise
        if spec.model_hub != hub or not spec.model_id:
            continue
        tried.append(hub)
        try:
            files = _spec_paths(manager, spec, hub)
            job = manager.add(
                spec.model_id,
                files,
                folder=spec_folder(spec, models_dir),
                hub=hub,
                revision=spec.model_revision,
                label=f"{family.model_name} {spec.model_size_in_billions}B {spec.quantization}",
                model=CatalogRef(
                    model_name=family.model_name,
                    model_type=model_type,
                    model_size_in_billions=spec.size_key,
                    quantization=spec.quantization,
                ),
            )
        except HubUnreachable as exc:
            log.warning("%s cannot be reached (%s); trying the next hub", hub, exc)
            last = exc
            continue
        return job, spec
    if last is not None:
        raise HubUnreachable(
            f"No hub could be reached for {name} (tried {', '.join(tried)}): {last}"
        )
    raise ModelNotFound(f"{name} has no GGUF build on {', '.join(order)} in the catalog.")
