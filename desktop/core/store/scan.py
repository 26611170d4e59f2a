"""Reading what is installed: the models folder, the imports and the Hugging Face cache, each
file group turned into an `InstalledModel` with the facts of its GGUF header.

Headers are cached by (path, mtime, size), so listing a folder of large models again stays
cheap; a file that changes is read again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from desktop.core.catalog.splits import FileGroup, group_files, group_of, is_gguf_name
from desktop.core.errors import GGUFTruncated, NotAGGUF, PathTimeout
from desktop.core.memory.gguf_info import GGUFInfo, read_gguf_info
from desktop.core.memory.quant import quant_from_file_type, quant_from_filename
from desktop.core.safepaths import FileProbe
from desktop.core.store.files import walk_files
from desktop.core.store.record import InstalledModel, ModelSource

log = logging.getLogger("xindesk.store")

HF_CACHE_PREFIX = "hf-cache/"
IMPORT_PREFIX = "local/"


def import_id(first: Path) -> str:
    """An import's id: stable for its path, and telling nothing about the user's folders."""
    digest = hashlib.sha1(str(first).encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{IMPORT_PREFIX}{digest[:12]}"


class Scanner:
    """Turns file groups into installed-model records, remembering the headers it read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._headers: dict[tuple[str, int, int], GGUFInfo | str] = {}

    def downloads(self, root: Path) -> Iterator[InstalledModel]:
        """Every GGUF below the models folder, laid out `<owner>/<repo>/<path in repo>`."""
        files = (path for path in walk_files(root) if is_gguf_name(path.name))
        for group in group_files(files):
            relative = group.first.relative_to(root).as_posix()
            folders = relative.split("/")
            repo_id = "/".join(folders[:2]) if len(folders) >= 3 else None
            yield self.entry(relative, group, "download", repo_id)

    def imports(self, firsts: Iterable[Path], probe: FileProbe) -> Iterator[InstalledModel]:
        """The imported files, each with the other parts of its split set found beside it.

        Imports live wherever the user keeps them, a network drive included, so each is looked
        at within `probe`'s time bound: one that does not answer is listed with that problem
        instead of holding up the whole listing.
        """
        for first in firsts:
            model_id = import_id(first)

            def look(first: Path = first, model_id: str = model_id) -> InstalledModel:
                return self.entry(model_id, group_of(first), "import", None)

            try:
                yield probe.call(look, path=first)
            except PathTimeout as exc:
                group = FileGroup(first=first, parts=(), count=1, missing=())
                yield replace(self.entry(model_id, group, "import", None), problem=str(exc))

    def hf_cache(self, cache: Path | None) -> list[InstalledModel]:
        """The GGUFs of the Hugging Face cache (huggingface_hub's default one when None)."""
        from huggingface_hub import scan_cache_dir
        from huggingface_hub.errors import CacheNotFound, CorruptedCacheException

        if cache is None:
            from huggingface_hub import constants

            cache = Path(constants.HF_HUB_CACHE)
        if not cache.is_dir():
            return []
        try:
            info = scan_cache_dir(cache)
        except (CacheNotFound, CorruptedCacheException, OSError, ValueError) as exc:
            # The cache belongs to other tools too; a broken one must not hide our models.
            log.warning("cannot read the Hugging Face cache %s: %s", cache, exc)
            return []
        for warning in info.warnings:
            log.debug("Hugging Face cache: %s", warning)

        entries: list[InstalledModel] = []
        for repo in sorted(info.repos, key=lambda repo: repo.repo_id):
            if repo.repo_type != "model":
                continue
            # The revision `main` points at first, then newer ones: an older revision only
            # adds files the newer ones no longer have.
            revisions = sorted(
                repo.revisions, key=lambda rev: ("main" not in rev.refs, -rev.last_modified)
            )
            seen: set[str] = set()
            for revision in revisions:
                files = [
                    file.file_path for file in revision.files if is_gguf_name(file.file_path.name)
                ]
                for group in group_files(files):
                    relative = group.first.relative_to(revision.snapshot_path).as_posix()
                    if relative in seen:
                        continue
                    seen.add(relative)
                    model_id = f"{HF_CACHE_PREFIX}{repo.repo_id}/{relative}"
                    entries.append(self.entry(model_id, group, "hf-cache", repo.repo_id))
        return entries

    def entry(
        self, model_id: str, group: FileGroup, source: ModelSource, repo_id: str | None
    ) -> InstalledModel:
        """The record of one file group, with what is wrong with it in words."""
        problems: list[str] = []
        if group.missing and group.parts:
            problems.append(group.missing_text())
        size = 0
        info: GGUFInfo | None = None
        for part in group.parts:
            header = self._header(part)
            if isinstance(header, str):
                problems.append(header)
            elif part == group.first:
                info = header
            with contextlib.suppress(OSError):
                size += part.stat().st_size
        if not group.parts:
            problems.append(
                f"file is missing: {group.first} was moved or deleted. Import it again from "
                "its new place, or remove this entry."
            )
        quantization = quant_from_filename(group.first.name)
        if quantization is None and info is not None and info.file_type is not None:
            quantization = quant_from_file_type(info.file_type)
        architecture = (info.architecture or None) if info is not None else None
        return InstalledModel(
            id=model_id,
            path=group.first,
            parts=group.parts,
            size=size,
            source=source,
            repo_id=repo_id,
            quantization=quantization,
            architecture=architecture,
            context_length=info.context_length if info is not None else None,
            block_count=info.block_count if info is not None else None,
            is_projector="mmproj" in group.first.name.lower() or architecture == "clip",
            complete=bool(group.parts) and not group.missing,
            problem="; ".join(problems) or None,
        )

    def _header(self, path: Path) -> GGUFInfo | str:
        """The header facts, or the problem that stops reading them; cached per file state."""
        try:
            stat = path.stat()
        except OSError as exc:
            return f"cannot read {path}: {exc.strerror or exc}"
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._headers.get(key)
        if cached is not None:
            return cached
        result: GGUFInfo | str
        try:
            result = read_gguf_info(path)
        except GGUFTruncated as exc:
            result = str(exc)
        except NotAGGUF as exc:
            result = f"not a GGUF file: {exc}"
        with self._lock:
            self._headers[key] = result
        return result
