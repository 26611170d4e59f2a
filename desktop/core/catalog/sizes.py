"""Exact files, sizes and sha256 of the built-in catalog's GGUF specs.

A catalog spec names its files with templates (`model_file_name_template`,
`model_file_name_split_template` with `quantization_parts`, see `Spec.file_names`). This module
matches those names against the repository's listing from the hub, so a person sees "Q4_K_M,
2 parts, 4.68 GB" before downloading, and the download knows what to check each file against.

Listings are cached as JSON files (one per hub, repository and revision) under a folder the
caller passes (`AppPaths.hub_cache_dir`). A cached listing younger than the TTL is used as is;
an older one is refreshed, and when the hub cannot be reached it is used anyway and marked
stale, because a size from last week is more use offline than no size at all.
"""

from __future__ import annotations

import difflib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from desktop.api.hubs import HUB_NAMES, HubName
from desktop.core.catalog.families import GGUF_FORMAT, Spec
from desktop.core.catalog.files import group_gguf_files
from desktop.core.errors import HubUnreachable, InvalidRequest
from desktop.core.fileio import atomic_write_text
from desktop.core.hub.remote import RemoteFile, RemoteHub

__all__ = [
    "DEFAULT_TTL",
    "CatalogFiles",
    "Listing",
    "ListingCache",
    "SpecFiles",
    "match_spec_files",
]

log = logging.getLogger("xindesk.hub")

#: How long a cached listing is trusted without asking the hub again (seconds).
DEFAULT_TTL = 24 * 3600.0
_SCHEMA = 1


@dataclass(frozen=True)
class Listing:
    """A repository's files as one hub listed them.

    Attributes:
        fetched_at: When the hub gave this answer (seconds since the epoch).
        stale: True when this is an old cached answer, used because the hub was unreachable.
        note: Why a stale answer is used (the unreachable hub's message), for the person.
    """

    hub: HubName
    repo_id: str
    revision: str | None
    files: tuple[RemoteFile, ...]
    fetched_at: float
    stale: bool = False
    note: str | None = None


@dataclass(frozen=True)
class SpecFiles:
    """What one catalog spec (hub, repository, quantization) downloads.

    Attributes:
        expected: The file names the spec's templates give, in part order.
        files: The files to download, in part order, with sizes and sha256 from the listing:
            the expected ones, or, when the catalog's names no longer match the repository,
            the repository's own file(s) for that quantization (`exact` is False then).
        missing: Expected names the listing lacks (empty when the spec can be downloaded).
        projectors: The spec's vision projectors that the listing has.
        stale: The listing is an old cached one (the hub was unreachable); see `note`.
    """

    hub: HubName
    repo_id: str
    revision: str | None
    quantization: str
    expected: tuple[str, ...]
    files: tuple[RemoteFile, ...]
    missing: tuple[str, ...] = ()
    projectors: tuple[RemoteFile, ...] = ()
    exact: bool = True
    stale: bool = False
    note: str | None = None

    @property
    def complete(self) -> bool:
        """Every file is in the listing, so the download can start."""
        return bool(self.files) and not self.missing

    @property
    def size(self) -> int | None:
        """Bytes to download for the model itself (projectors not included); None if incomplete."""
        return sum(f.size for f in self.files) if self.complete else None

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


def match_spec_files(
    spec: Spec, files: Iterable[RemoteFile], *, stale: bool = False, note: str | None = None
) -> SpecFiles:
    """Match a spec's file names against a listing (pure: no hub, no cache).

    Names match exactly, then ignoring case, then by file name in any folder when exactly one
    file has it. If the names still do not match (a repository re-uploaded as split parts, or
    moved into a folder), the repository's own complete file set for the same quantization is
    offered instead, the one whose name is closest to the expected one.
    """
    listing = list(files)
    expected = tuple(spec.file_names())
    by_path = {f.path: f for f in listing}
    by_lower: dict[str, RemoteFile] = {}
    by_name: dict[str, list[RemoteFile]] = {}
    for f in listing:
        by_lower.setdefault(f.path.lower(), f)
        by_name.setdefault(f.path.rsplit("/", 1)[-1].lower(), []).append(f)

    def lookup(name: str) -> RemoteFile | None:
        found = by_path.get(name) or by_lower.get(name.lower())
        if found is not None:
            return found
        same_name = by_name.get(name.rsplit("/", 1)[-1].lower(), [])
        return same_name[0] if len(same_name) == 1 else None

    matched = [lookup(name) for name in expected]
    found = tuple(f for f in matched if f is not None)
    missing = tuple(name for name, f in zip(expected, matched, strict=True) if f is None)
    exact = True
    if missing or not expected:
        substitute = _closest_choice(spec, expected, listing)
        if substitute is not None:
            log.debug(
                "%s %s: catalog names %s not listed; using %s",
                spec.model_id,
                spec.quantization,
                list(missing),
                [f.path for f in substitute],
            )
            found, missing, exact = substitute, (), False

    projectors = tuple(
        projector
        for name in spec.multimodal_projectors or ()
        if (projector := lookup(name)) is not None
    )
    return SpecFiles(
        hub=_hub_name(spec),
        repo_id=spec.model_id or "",
        revision=spec.model_revision,
        quantization=spec.quantization,
        expected=expected,
        files=found,
        missing=missing,
        projectors=projectors,
        exact=exact,
        stale=stale,
        note=note,
    )


def _closest_choice(
    spec: Spec, expected: tuple[str, ...], listing: list[RemoteFile]
) -> tuple[RemoteFile, ...] | None:
    candidates = [c for c in group_gguf_files(listing).find(spec.quantization) if c.complete]
    if not candidates:
        return None
    target = (expected[0] if expected else spec.quantization).rsplit("/", 1)[-1].lower()

    def likeness(label: str) -> float:
        return difflib.SequenceMatcher(None, label.lower(), target).ratio()

    best = max(candidates, key=lambda c: likeness(c.label))
    return best.files


def _hub_name(spec: Spec) -> HubName:
    for name in HUB_NAMES:
        if spec.model_hub == name:
            return name
    raise InvalidRequest(f"Spec of {spec.model_id} names an unknown hub {spec.model_hub!r}.")


class ListingCache:
    """Hub listings cached as JSON files, with a time to live.

    One instance per folder; it holds no state besides the folder, so several may share one.
    """

    def __init__(
        self,
        folder: Path,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._folder = folder
        self._ttl = ttl
        self._clock = clock

    def get(
        self,
        hub: RemoteHub,
        repo_id: str,
        revision: str | None = None,
        *,
        refresh: bool = False,
    ) -> Listing:
        """The listing of `repo_id` on `hub`: cached if fresh, else asked (and cached).

        Raises the hub's error (ModelNotFound, HubError) as is; HubUnreachable only when no
        cached listing exists at all.
        """
        cached = self.load(hub.name, repo_id, revision)
        if cached is not None and not refresh and self._clock() - cached.fetched_at < self._ttl:
            return cached
        try:
            files = hub.list_files(repo_id, revision)
        except HubUnreachable as exc:
            if cached is None:
                raise
            age_hours = max(0.0, self._clock() - cached.fetched_at) / 3600
            note = f"{exc} Showing the file list from {age_hours:.0f} hours ago."
            log.warning("using a stale listing of %s on %s: %s", repo_id, hub.name, exc)
            return replace(cached, stale=True, note=note)
        listing = Listing(
            hub=hub.name,
            repo_id=repo_id,
            revision=revision,
            files=tuple(files),
            fetched_at=self._clock(),
        )
        self.store(listing)
        return listing

    def load(self, hub: HubName, repo_id: str, revision: str | None) -> Listing | None:
        """The cached listing, however old, or None (also for an unreadable file)."""
        file = self._file(hub, repo_id, revision)
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring the unreadable cached listing %s: %s", file, exc)
            return None
        try:
            if raw.get("schema") != _SCHEMA:
                return None
            return Listing(
                hub=hub,
                repo_id=str(raw["repo_id"]),
                revision=raw.get("revision"),
                files=tuple(
                    RemoteFile(path=str(f["path"]), size=int(f["size"]), sha256=f.get("sha256"))
                    for f in raw["files"]
                ),
                fetched_at=float(raw["fetched_at"]),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.warning("ignoring the malformed cached listing %s: %s", file, exc)
            return None

    def store(self, listing: Listing) -> None:
        """Write atomically, so a crash never leaves half a listing to be trusted later."""
        file = self._file(listing.hub, listing.repo_id, listing.revision)
        data: dict[str, Any] = {
            "schema": _SCHEMA,
            "hub": listing.hub,
            "repo_id": listing.repo_id,
            "revision": listing.revision,
            "fetched_at": listing.fetched_at,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in listing.files],
        }
        try:
            atomic_write_text(file, json.dumps(data, ensure_ascii=False))
        except OSError as exc:
            # The cache only saves time; a read-only or full disk must not fail the lookup.
            log.warning("cannot cache the listing of %s: %s", listing.repo_id, exc)

    def _file(self, hub: HubName, repo_id: str, revision: str | None) -> Path:
        # Keyed by hub name, not address: a mirror serves the same repository as the hub.
        key = quote(f"{repo_id}@{revision or ''}", safe="@._-")
        return self._folder / hub / f"{key}.json"


class CatalogFiles:
    """Files and sizes of catalog specs, through a listing cache.

    Example: the quantization table of one family size on the configured hubs::

        files = CatalogFiles(ListingCache(paths.hub_cache_dir))
        specs = [s for s in family.model_specs if s.size_key == "7"]
        table = first_reachable(hubs_for(settings), lambda hub: files.for_hub(specs, hub))
    """

    def __init__(self, cache: ListingCache) -> None:
        self.cache = cache

    def spec_files(self, spec: Spec, hub: RemoteHub, *, refresh: bool = False) -> SpecFiles:
        """The files of one spec, which must live on `hub`."""
        if spec.model_hub != hub.name:
            raise InvalidRequest(
                f"The spec of {spec.model_id} {spec.quantization} is on {spec.model_hub}, "
                f"not {hub.name}."
            )
        if spec.model_format != GGUF_FORMAT or not spec.model_id:
            raise InvalidRequest(f"Only GGUF specs with a model_id have files on a hub: {spec}.")
        listing = self.cache.get(hub, spec.model_id, spec.model_revision, refresh=refresh)
        return match_spec_files(spec, listing.files, stale=listing.stale, note=listing.note)

    def for_hub(
        self, specs: Iterable[Spec], hub: RemoteHub, *, refresh: bool = False
    ) -> list[SpecFiles]:
        """The files of every GGUF spec on `hub` (others are skipped), one listing per
        repository, in the order given."""
        listings: dict[tuple[str, str | None], Listing] = {}
        table: list[SpecFiles] = []
        for spec in specs:
            if spec.model_hub != hub.name or spec.model_format != GGUF_FORMAT:
                continue
            if not spec.model_id:
                continue
            key = (spec.model_id, spec.model_revision)
            if key not in listings:
                listings[key] = self.cache.get(hub, *key, refresh=refresh)
            listing = listings[key]
            table.append(
                match_spec_files(spec, listing.files, stale=listing.stale, note=listing.note)
            )
        return table
