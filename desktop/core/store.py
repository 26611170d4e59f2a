"""Installed models: what is on disk, which local files were imported, and whether they are whole.

Three kinds of model count as installed:

- downloads: every `*.gguf` below the models folder, laid out `<owner>/<repo>/<path in repo>` by
  `desktop.core.hub`. A file still downloading is `<name>.part` and never counts; a file without
  that suffix was size- and sha256-checked before it took its name.
- imports: local GGUF files the user registered in place (no copy), remembered in
  `<data_dir>/imports.json`.
- the Hugging Face cache (`~/.cache/huggingface/hub`): GGUFs other tools already downloaded.
  They are offered for launch but never deleted here, since other programs share that cache.

Split GGUFs (`name-00001-of-00003.gguf` ...) are one model whose `path` is the first part,
because that is the file llama.cpp opens; it finds the other parts by name in the same folder.

Nothing is cached across instances; within one, GGUF headers are cached by (path, mtime, size),
so listing a folder of large models stays cheap.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from desktop.core.errors import (
    InvalidRequest,
    ModelNotFound,
    NotAGGUF,
    NotEnoughDiskSpace,
    XinDeskError,
)
from desktop.core.memory.gguf_info import GGUFInfo, check_gguf_file, read_gguf_info
from desktop.core.memory.quant import quant_from_file_type, quant_from_filename

__all__ = [
    "IMPORTS_FILE",
    "InstalledModel",
    "ModelSource",
    "ModelStore",
    "find_installed",
]

log = logging.getLogger("xindesk.store")

ModelSource = Literal["download", "import", "hf-cache"]

#: Where imports are remembered, inside the data folder.
IMPORTS_FILE = "imports.json"
_IMPORTS_SCHEMA = 1
PART_SUFFIX = ".part"
_GGUF_SUFFIX = ".gguf"
# Suffix of a file being copied across disks by `move_models_dir`; it never counts as a model.
_MOVING_SUFFIX = ".moving"
# llama.cpp's own naming for split files (`llama_split_path`: "%s-%05d-of-%05d.gguf"); it finds
# the parts by this name, so the name, not the header, decides what belongs together.
_SPLIT_RE = re.compile(r"^(?P<prefix>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)
_HF_CACHE_PREFIX = "hf-cache/"
_IMPORT_PREFIX = "local/"
# How many ids a "not found" message lists.
_IDS_IN_MESSAGE = 5
# Order used when the same file is reachable in more than one way.
_SOURCE_ORDER: dict[str, int] = {"download": 0, "import": 1, "hf-cache": 2}


@dataclass(frozen=True)
class InstalledModel:
    """One model on disk (a single GGUF file or a whole split set).

    Attributes:
        id: Stable id. Downloads: `<owner>/<repo>/<file>` relative to the models folder
            (the first part for split sets). Imports: `local/<sha1 of the path>[:12]`.
            Hugging Face cache: `hf-cache/<owner>/<repo>/<file>`.
        path: The file to load: the first part of a split set (where it is, or would be
            when it is missing).
        parts: The parts that are on disk, in order (one for a single file).
        size: Bytes of all parts on disk.
        source: How it got here.
        repo_id: `<owner>/<repo>` for downloads and the Hugging Face cache, else None.
        quantization: The level named in the file name (the header's file type otherwise).
        architecture: `general.architecture` from the header, None when unreadable.
        context_length: The trained context length from the header.
        block_count: Layer count from the header.
        is_projector: A vision projector (`mmproj-*`, architecture `clip`), not a model
            that runs on its own.
        complete: Every part is present (always true for a single file that exists).
        problem: What is wrong, in words a person can act on; None when nothing is.
    """

    id: str
    path: Path
    parts: tuple[Path, ...]
    size: int
    source: ModelSource
    repo_id: str | None
    quantization: str | None
    architecture: str | None
    context_length: int | None
    block_count: int | None
    is_projector: bool
    complete: bool
    problem: str | None

    @property
    def usable(self) -> bool:
        """Whole, readable, and a model of its own (not a projector)."""
        return self.complete and self.problem is None and not self.is_projector


@dataclass(frozen=True)
class _Group:
    """The files of one model: a single file, or the parts of a split set."""

    first: Path
    parts: tuple[Path, ...]
    count: int
    missing: tuple[int, ...]


class ModelStore:
    """The installed models of one XinDesk installation.

    Args:
        models_dir: The folder downloads go to (`Settings.models_dir(paths)`).
        data_dir: Where `imports.json` lives (`AppPaths.data_dir`).
        hf_cache_dir: The Hugging Face hub cache to offer models from; None means
            huggingface_hub's default (`HF_HUB_CACHE`), looked up on first use.
        in_use: Answers whether a running model has a file open; files in use are never
            deleted or moved. None means nothing is ever in use.
    """

    def __init__(
        self,
        models_dir: Path,
        data_dir: Path,
        *,
        hf_cache_dir: Path | None = None,
        in_use: Callable[[Path], bool] | None = None,
    ) -> None:
        self._models_dir = Path(models_dir).expanduser().absolute()
        self._data_dir = Path(data_dir).expanduser().absolute()
        self._hf_cache_dir = hf_cache_dir
        self._in_use = in_use
        # One lock for the imports file and the header cache: the server calls in from
        # several threads, and two imports at once must not lose one another's record.
        self._lock = threading.RLock()
        self._headers: dict[tuple[str, int, int], GGUFInfo | str] = {}

    @property
    def models_dir(self) -> Path:
        return self._models_dir

    @property
    def imports_file(self) -> Path:
        return self._data_dir / IMPORTS_FILE

    # -- listing -------------------------------------------------------------------------

    def list(self) -> builtins.list[InstalledModel]:
        """Every installed model: downloads, then imports, then the Hugging Face cache.

        A file reachable in more than one way (an import of a file that later landed in the
        models folder) is listed once, under the first of those.
        """
        entries = [*self._downloads(), *self._imports(), *self._hf_cache()]
        seen: set[str] = set()
        unique: builtins.list[InstalledModel] = []
        for entry in entries:
            key = os.path.realpath(entry.path)
            if key in seen:
                continue
            seen.add(key)
            unique.append(entry)
        return unique

    def get(self, model_id: str) -> InstalledModel:
        """The installed model with this id (`ModelNotFound` names some that exist)."""
        entries = self.list()
        for entry in entries:
            if entry.id == model_id:
                return entry
        ids = [entry.id for entry in entries]
        if not ids:
            known = "No models are installed."
        else:
            more = len(ids) - _IDS_IN_MESSAGE
            known = "Installed: " + ", ".join(ids[:_IDS_IN_MESSAGE])
            known += f" (and {more} more)." if more > 0 else "."
        raise ModelNotFound(f"No installed model has the id {model_id!r}. {known}")

    # -- import --------------------------------------------------------------------------

    def import_path(self, path: Path) -> InstalledModel:
        """Register a local GGUF file in place (nothing is copied) and return its entry.

        Any part of a split set imports the whole set, which must be complete. A file that is
        already installed (in the models folder, imported before, in the Hugging Face cache)
        returns the entry it already has.

        Raises:
            NotAGGUF: The path is missing, a folder, or not a GGUF file.
            InvalidRequest: A split set with parts missing.
        """
        given = Path(path).expanduser()
        check_gguf_file(given)
        # Keep the path as given, not resolved: resolving a Hugging Face snapshot link would
        # give a blob named by its hash, and a split set's parts are found by name.
        absolute = Path(os.path.abspath(given))
        group = _group_of(absolute)
        if group.missing:
            names = ", ".join(_split_name(group, number) for number in group.missing)
            raise InvalidRequest(
                f"{absolute.name} is one part of a model split into {group.count} files, and "
                f"some are not beside it ({_missing_text(group)}): {names}. "
                f"Put every part in {absolute.parent} and import it again."
            )
        for part in group.parts:
            check_gguf_file(part)
        read_gguf_info(group.first)

        first_real = os.path.realpath(group.first)
        for entry in self.list():
            if os.path.realpath(entry.path) == first_real:
                return entry

        with self._lock:
            records = self._load_imports()
            if str(group.first) not in {record["path"] for record in records}:
                records.append({"path": str(group.first), "added_at": time.time()})
                self._save_imports(records)
        log.info("imported %s as %s", group.first, _import_id(group.first))
        return self._entry(_import_id(group.first), group, "import", None)

    # -- remove --------------------------------------------------------------------------

    def remove(self, model_id: str, *, delete_files: bool) -> None:
        """Remove an installed model.

        Downloads: their files (every part) are deleted whatever `delete_files` says (a
        download is its files), and folders left empty are pruned up to the models folder.
        A part that is a link (left by `move_models_dir(mode="link")`) loses the link, and
        the file it points to only when `delete_files` is true.
        Imports: forgotten; the user's own file is deleted only when `delete_files` is true.
        Hugging Face cache: refused, since other programs share that cache.

        Raises:
            ModelNotFound: No such id.
            InvalidRequest: A Hugging Face cache entry, or a file a running model uses.
        """
        entry = self.get(model_id)
        if entry.source == "hf-cache":
            raise InvalidRequest(
                f"{model_id} lives in the Hugging Face cache, which other programs share, so "
                "XinDesk does not delete it. Remove it with `huggingface-cli delete-cache` "
                "(or `hf cache delete`)."
            )
        if entry.source == "import" and not delete_files:
            self._forget_import(entry.path)
            log.info("forgot the import %s (%s); its file stays", model_id, entry.path)
            return
        self._refuse_in_use(entry.parts, f"remove {model_id}")
        if entry.source == "import":
            self._forget_import(entry.path)
        for part in entry.parts:
            _delete(part, follow_link=delete_files)
        if entry.source == "download":
            _prune_empty(entry.path.parent, self._models_dir)
        log.info("removed %s (%d file(s), %d bytes)", model_id, len(entry.parts), entry.size)

    # -- moving the models folder ------------------------------------------------------

    def move_models_dir(self, new_dir: Path, *, mode: Literal["move", "link"] = "move") -> Path:
        """Make `new_dir` the models folder, keeping every downloaded model.

        `move` moves every downloaded file (and the `.part` files of unfinished downloads)
        into `new_dir` with the same layout: a rename on the same disk, otherwise a copy whose
        size is checked before the source is deleted. On any error every file moved so far
        goes back, so nothing is lost. `link` leaves the files where they are and links them
        into `new_dir`; where links cannot be made, the models are recorded as imports.
        Unfinished downloads are not linked: they start again in the new folder.

        Pause downloads before calling: their job records name the old folder, which the
        caller rewrites along with the setting.

        Returns:
            The new models folder (absolute), for the caller to save in the settings.

        Raises:
            InvalidRequest: `new_dir` is inside the old folder (or holds it), is not a
                writable folder, already holds different files of the same names, or a model
                to move is in use.
            NotEnoughDiskSpace: Moving to another disk would not fit.
        """
        if mode not in ("move", "link"):
            raise InvalidRequest(f"mode must be 'move' or 'link', not {mode!r}")
        old = self._models_dir
        new = Path(new_dir).expanduser().absolute()
        old_real, new_real = Path(os.path.realpath(old)), Path(os.path.realpath(new))
        if new_real == old_real:
            # The same folder under another name (a link): nothing to move.
            with self._lock:
                self._models_dir = new
            return new
        if new_real.is_relative_to(old_real):
            raise InvalidRequest(
                f"{new} is inside the current models folder {old}; choose a folder outside it."
            )
        if old_real.is_relative_to(new_real):
            raise InvalidRequest(
                f"{new} holds the current models folder {old}; choose a folder beside it "
                "or an empty one, so that the old folder is not listed as models."
            )
        _ensure_writable(new)

        if mode == "move":
            self._move_files(old, new)
        else:
            self._link_files(old, new)
        with self._lock:
            self._models_dir = new
        log.info("the models folder is now %s (was %s, mode %s)", new, old, mode)
        return new

    def _move_files(self, old: Path, new: Path) -> None:
        # Folder links are moved as links: following them would move the files of a folder
        # that lives elsewhere on purpose.
        sources = [
            path
            for path in _walk_files(old, follow_links=False)
            if path.is_dir() or path.name.lower().endswith((_GGUF_SUFFIX, PART_SUFFIX))
        ]
        self._refuse_in_use(
            [p for p in sources if p.name.lower().endswith(_GGUF_SUFFIX) and not p.is_dir()],
            "move",
        )

        plan: builtins.list[tuple[Path, Path, bool]] = []  # (source, target, target is it)
        conflicts: builtins.list[str] = []
        cross_disk = 0
        new_device = new.stat().st_dev
        for source in sources:
            target = new / source.relative_to(old)
            if target.exists() or target.is_symlink():
                if _same_content(source, target):
                    plan.append((source, target, True))
                else:
                    conflicts.append(str(target))
                continue
            plan.append((source, target, False))
            if not source.is_symlink() and source.stat().st_dev != new_device:
                cross_disk += source.stat().st_size
        if conflicts:
            raise InvalidRequest(
                f"{new} already holds different files with the names of models to move: "
                + ", ".join(conflicts[:_IDS_IN_MESSAGE])
                + ". Choose an empty folder, or remove those files first."
            )
        free = shutil.disk_usage(new).free
        if cross_disk > free:
            raise NotEnoughDiskSpace(
                f"Moving the models to {new} needs {_gib(cross_disk)} there, and its disk has "
                f"{_gib(free)} free. Free some space or choose another folder."
            )

        # (source, target, how): "renamed" can be renamed back; "copied" and "kept" still
        # have their source, which is deleted only once every file has arrived.
        done: builtins.list[tuple[Path, Path, str]] = []
        current = old
        try:
            for source, target, already in plan:
                current = source
                if already:
                    done.append((source, target, "kept"))
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if source.is_symlink():
                    # Recreate links rather than copying what they point to (a link left by
                    # the "link" mode points at a multi-GB file on purpose).
                    os.symlink(
                        os.path.realpath(source), target, target_is_directory=source.is_dir()
                    )
                    done.append((source, target, "copied"))
                    continue
                try:
                    os.rename(source, target)
                    done.append((source, target, "renamed"))
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
                    _copy_verified(source, target)
                    done.append((source, target, "copied"))
        except OSError as exc:
            _roll_back(done, new)
            message = (
                f"Moving the models to {new} failed at {current}: {exc.strerror or exc}. "
                f"Every file is back in {old}; nothing was lost."
            )
            if exc.errno == errno.ENOSPC:
                raise NotEnoughDiskSpace(message) from exc
            raise XinDeskError(message) from exc

        for source, _target, how in done:
            if how == "renamed":
                continue
            try:
                source.unlink()
            except OSError as exc:
                # The file has arrived; the old copy only wastes space, which the log says.
                log.warning("moved %s but could not delete the old copy: %s", source, exc)
        for source, _target, _how in done:
            _prune_empty(source.parent, old)
        log.info("moved %d file(s) from %s to %s", len(done), old, new)

    def _link_files(self, old: Path, new: Path) -> None:
        groups = _group_files(
            path for path in _walk_files(old) if path.name.lower().endswith(_GGUF_SUFFIX)
        )
        plan: builtins.list[builtins.list[tuple[Path, Path]]] = []
        conflicts: builtins.list[str] = []
        for group in groups:
            links: builtins.list[tuple[Path, Path]] = []
            for part in group.parts:
                target = new / part.relative_to(old)
                if target.exists() or target.is_symlink():
                    if not _same_content(part, target):
                        conflicts.append(str(target))
                    continue
                links.append((Path(os.path.realpath(part)), target))
            plan.append(links)
        if conflicts:
            raise InvalidRequest(
                f"{new} already holds different files with the names of models to link: "
                + ", ".join(conflicts[:_IDS_IN_MESSAGE])
                + ". Choose an empty folder, or remove those files first."
            )

        fallback: builtins.list[Path] = []
        links_work = True
        for group, links in zip(groups, plan, strict=True):
            made: builtins.list[Path] = []
            try:
                if not links_work:
                    raise OSError(errno.EPERM, "links are not available here")
                for source, target in links:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.symlink(source, target)
                    made.append(target)
            except OSError as exc:
                # Windows without developer mode, FAT/exFAT drives: no links at all. Imports
                # keep the models usable where they are, under new ids.
                if links_work:
                    log.warning("cannot link models into %s (%s); importing them instead", new, exc)
                links_work = False
                for target in made:
                    target.unlink(missing_ok=True)
                    _prune_empty(target.parent, new)
                fallback.append(group.first)
        if fallback:
            with self._lock:
                records = self._load_imports()
                known = {record["path"] for record in records}
                for first in fallback:
                    if str(first) not in known:
                        records.append({"path": str(first), "added_at": time.time()})
                self._save_imports(records)
        log.info(
            "linked %d model(s) from %s into %s, imported %d",
            len(groups) - len(fallback),
            old,
            new,
            len(fallback),
        )

    # -- the three sources ---------------------------------------------------------------

    def _downloads(self) -> Iterator[InstalledModel]:
        root = self._models_dir
        files = (path for path in _walk_files(root) if path.name.lower().endswith(_GGUF_SUFFIX))
        for group in _group_files(files):
            relative = group.first.relative_to(root).as_posix()
            folders = relative.split("/")
            repo_id = "/".join(folders[:2]) if len(folders) >= 3 else None
            yield self._entry(relative, group, "download", repo_id)

    def _imports(self) -> Iterator[InstalledModel]:
        with self._lock:
            records = self._load_imports()
        for record in records:
            first = Path(record["path"])
            yield self._entry(_import_id(first), _group_of(first), "import", None)

    def _hf_cache(self) -> builtins.list[InstalledModel]:
        from huggingface_hub import scan_cache_dir
        from huggingface_hub.errors import CacheNotFound, CorruptedCacheException

        cache = self._hf_cache_dir
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

        entries: builtins.list[InstalledModel] = []
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
                    file.file_path
                    for file in revision.files
                    if file.file_path.name.lower().endswith(_GGUF_SUFFIX)
                ]
                for group in _group_files(files):
                    relative = group.first.relative_to(revision.snapshot_path).as_posix()
                    if relative in seen:
                        continue
                    seen.add(relative)
                    model_id = f"{_HF_CACHE_PREFIX}{repo.repo_id}/{relative}"
                    entries.append(self._entry(model_id, group, "hf-cache", repo.repo_id))
        return entries

    # -- helpers -------------------------------------------------------------------------

    def _entry(
        self, model_id: str, group: _Group, source: ModelSource, repo_id: str | None
    ) -> InstalledModel:
        problems: builtins.list[str] = []
        if group.missing and group.parts:
            problems.append(_missing_text(group))
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
        except NotAGGUF as exc:
            result = f"not a GGUF file: {exc}"
        with self._lock:
            self._headers[key] = result
        return result

    def _refuse_in_use(self, paths: Iterable[Path], action: str) -> None:
        in_use = self._in_use
        if in_use is None:
            return

        def uses(path: Path) -> bool:
            # The supervisor may hold the path as launched or as resolved; ask about both.
            real = Path(os.path.realpath(path))
            return in_use(path) or (real != path and in_use(real))

        busy = [path for path in paths if uses(path)]
        if busy:
            raise InvalidRequest(
                f"Cannot {action}: a running model uses "
                + ", ".join(str(path) for path in busy[:_IDS_IN_MESSAGE])
                + ". Terminate that model first."
            )

    def _forget_import(self, first: Path) -> None:
        with self._lock:
            records = self._load_imports()
            kept = [record for record in records if record["path"] != str(first)]
            if len(kept) != len(records):
                self._save_imports(kept)

    def _load_imports(self) -> builtins.list[dict[str, Any]]:
        file = self.imports_file
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            # Keep the damaged file for the user rather than overwrite it on the next import.
            aside = file.with_name(f"{file.name}.damaged-{int(time.time())}")
            log.error("cannot read %s (%s); moved it to %s", file, exc, aside.name)
            with contextlib.suppress(OSError):
                os.replace(file, aside)
            return []
        records = raw.get("imports") if isinstance(raw, dict) else None
        if not isinstance(records, builtins.list):
            log.error("%s has no list of imports; ignoring it", file)
            return []
        return [
            record
            for record in records
            if isinstance(record, dict) and isinstance(record.get("path"), str)
        ]

    def _save_imports(self, records: builtins.list[dict[str, Any]]) -> None:
        self._data_dir.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {"schema_version": _IMPORTS_SCHEMA, "imports": records}, indent=2, ensure_ascii=False
        )
        # Write beside the target and rename, so a crash leaves the old file or the new one.
        handle, temp = tempfile.mkstemp(
            dir=self._data_dir, prefix=f".{IMPORTS_FILE}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.imports_file)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def find_installed(store: ModelStore, repo_id: str | None, file_name: str) -> InstalledModel | None:
    """The installed copy of `file_name` (from `repo_id` when given), best one first.

    `file_name` is a name or a path inside the repository; for split sets any part's name
    matches. Whole, readable files win over damaged ones, then downloads over imports over
    the Hugging Face cache.
    """
    wanted = PurePosixPath(file_name.replace("\\", "/"))
    name = wanted.name.lower()
    nested = len(wanted.parts) > 1
    matches: builtins.list[InstalledModel] = []
    for entry in store.list():
        if repo_id is not None and (entry.repo_id or "").lower() != repo_id.lower():
            continue
        names = {entry.path.name.lower(), *(part.name.lower() for part in entry.parts)}
        if name not in names:
            continue
        if nested and entry.source != "import":
            directory = PurePosixPath(entry.id).parent.as_posix().lower()
            if not directory.endswith(wanted.parent.as_posix().lower()):
                continue
        matches.append(entry)
    if not matches:
        return None
    matches.sort(key=lambda entry: (entry.problem is not None, _SOURCE_ORDER[entry.source]))
    return matches[0]


# -- module helpers (pure functions of the file system) ------------------------------------


def _walk_files(root: Path, *, follow_links: bool = True) -> Iterator[Path]:
    """Files below `root`, skipping hidden folders and files (and macOS `._` forks).

    Folder links are followed (a user may link a repository folder in), with a guard
    against loops; with `follow_links` false the folder links themselves are yielded instead.
    """
    if not root.is_dir():
        return
    visited: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(root, followlinks=follow_links):
        try:
            stat = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        if (stat.st_dev, stat.st_ino) in visited:
            dirs[:] = []
            continue
        visited.add((stat.st_dev, stat.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if not follow_links:
            yield from (Path(folder) / d for d in dirs if os.path.islink(Path(folder) / d))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder) / name


def _split_match(name: str) -> tuple[str, int, int] | None:
    match = _SPLIT_RE.match(name)
    if match is None:
        return None
    number, count = int(match["no"]), int(match["count"])
    if not 1 <= number <= count:
        return None
    return match["prefix"], number, count


def _group_files(files: Iterable[Path]) -> builtins.list[_Group]:
    """Group GGUF files into models: split parts together, everything else alone."""
    singles: builtins.list[_Group] = []
    splits: dict[tuple[Path, str, int], dict[int, Path]] = {}
    for path in files:
        split = _split_match(path.name)
        if split is None:
            singles.append(_Group(first=path, parts=(path,), count=1, missing=()))
            continue
        prefix, number, count = split
        splits.setdefault((path.parent, prefix, count), {})[number] = path
    groups = singles
    for (folder, prefix, count), found in splits.items():
        first = found.get(1) or folder / f"{prefix}-{1:05d}-of-{count:05d}{_GGUF_SUFFIX}"
        groups.append(
            _Group(
                first=first,
                parts=tuple(found[number] for number in sorted(found)),
                count=count,
                missing=tuple(n for n in range(1, count + 1) if n not in found),
            )
        )
    return sorted(groups, key=lambda group: str(group.first))


def _group_of(path: Path) -> _Group:
    """The model `path` belongs to, looking for the other parts beside it."""
    split = _split_match(path.name)
    if split is None:
        present = (path,) if path.is_file() else ()
        return _Group(first=path, parts=present, count=1, missing=() if present else (1,))
    prefix, _number, count = split
    suffix = path.name[-len(_GGUF_SUFFIX) :]
    names = [f"{prefix}-{n:05d}-of-{count:05d}{suffix}" for n in range(1, count + 1)]
    parts = [path.parent / name for name in names]
    return _Group(
        first=parts[0],
        parts=tuple(part for part in parts if part.is_file()),
        count=count,
        missing=tuple(n for n, part in enumerate(parts, start=1) if not part.is_file()),
    )


def _split_name(group: _Group, number: int) -> str:
    split = _split_match(group.first.name)
    assert split is not None
    prefix = split[0]
    return f"{prefix}-{number:05d}-of-{group.count:05d}{group.first.suffix}"


def _missing_text(group: _Group) -> str:
    numbers = ", ".join(str(number) for number in group.missing)
    noun = "part" if len(group.missing) == 1 else "parts"
    return f"missing {noun} {numbers} of {group.count}"


def _import_id(first: Path) -> str:
    digest = hashlib.sha1(str(first).encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{_IMPORT_PREFIX}{digest[:12]}"


def _delete(path: Path, *, follow_link: bool) -> None:
    """Delete a model file; for a link, the link, and what it points to when asked."""
    try:
        if path.is_symlink():
            target = Path(os.path.realpath(path))
            path.unlink()
            if follow_link:
                target.unlink(missing_ok=True)
            return
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise XinDeskError(
            f"Could not delete {path}: {exc.strerror or exc}. Close any program using it "
            "and try again."
        ) from exc


def _prune_empty(folder: Path, root: Path) -> None:
    """Remove `folder` and its parents while they are empty, stopping below `root`."""
    root_real = os.path.realpath(root)
    current = folder
    while os.path.realpath(current) != root_real and current.is_relative_to(root):
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def _ensure_writable(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InvalidRequest(f"{folder} is a file; the models folder must be a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InvalidRequest(
            f"{folder} is not a writable folder ({exc.strerror or exc}); choose another one."
        ) from exc


def _same_content(source: Path, target: Path) -> bool:
    """Whether `target` already is `source` (the same file, or an equal-size finished copy).

    A file keeps its name only after its size and sha256 were checked, so a same-named file
    of the same size from the same repository is the same download; comparing gigabytes
    byte by byte would make a resumed move as slow as the first one.
    """
    try:
        if os.path.samefile(source, target):
            return True
        if source.is_dir() or target.is_dir():
            return False
        return (
            not target.is_symlink()
            and not source.name.endswith(PART_SUFFIX)
            and source.stat().st_size == target.stat().st_size
        )
    except OSError:
        return False


def _copy_verified(source: Path, target: Path) -> None:
    """Copy under a temporary name, check the size, then give the copy its name."""
    temp = target.with_name(target.name + _MOVING_SUFFIX)
    try:
        shutil.copy2(source, temp)
        expected, got = source.stat().st_size, temp.stat().st_size
        if got != expected:
            raise OSError(errno.EIO, f"the copy has {got} bytes instead of {expected}")
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _roll_back(done: builtins.list[tuple[Path, Path, str]], new: Path) -> None:
    """Undo a failed move: rename files back, drop copies whose source is still there."""
    for source, target, how in reversed(done):
        try:
            if how == "renamed":
                source.parent.mkdir(parents=True, exist_ok=True)
                os.rename(target, source)
            elif how == "copied":
                target.unlink(missing_ok=True)
        except OSError as exc:
            log.error("could not undo the move of %s (it is at %s): %s", source, target, exc)
            continue
        if how != "kept":
            _prune_empty(target.parent, new)


def _gib(size: int) -> str:
    return f"{size / 1024**3:.1f} GiB"
