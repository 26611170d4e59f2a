"""`ModelStore`: the installed models of one XinDesk installation, and what can be done to them
(list, look up, import in place, remove, move the models folder)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from desktop.core.catalog.splits import group_of
from desktop.core.errors import InvalidRequest, ModelNotFound
from desktop.core.memory.gguf_info import check_gguf_file, read_gguf_info
from desktop.core.safepaths import FileProbe, user_path
from desktop.core.store.files import (
    NAMES_IN_MESSAGE,
    delete_model_file,
    prune_empty,
    refuse_in_use,
)
from desktop.core.store.imports import ImportsRecord
from desktop.core.store.lookup import InstalledIndex
from desktop.core.store.record import InstalledModel
from desktop.core.store.relocate import ensure_writable, link_files, move_files
from desktop.core.store.scan import Scanner, import_id

log = logging.getLogger("xindesk.store")


class ModelStore:
    """The installed models of one XinDesk installation.

    Args:
        models_dir: The folder downloads go to (`models_dir_of(settings, paths)`).
        data_dir: Where `imports.json` lives (`AppPaths.data_dir`).
        hf_cache_dir: The Hugging Face hub cache to offer models from; None means
            huggingface_hub's default (`HF_HUB_CACHE`), looked up on first use.
        in_use: Answers whether a running model has a file open; files in use are never
            deleted or moved. None means nothing is ever in use.
        probe: Looks at the user's own files (imports, launched paths) with a time bound, on
            threads of its own; a new one when None.
    """

    def __init__(
        self,
        models_dir: Path,
        data_dir: Path,
        *,
        hf_cache_dir: Path | None = None,
        in_use: Callable[[Path], bool] | None = None,
        probe: FileProbe | None = None,
    ) -> None:
        self._models_dir = Path(models_dir).expanduser().absolute()
        self._hf_cache_dir = hf_cache_dir
        self._in_use = in_use
        self._imports = ImportsRecord(Path(data_dir).expanduser().absolute())
        self.probe = probe or FileProbe()
        self._scanner = Scanner()
        # Guards the models folder, which a move changes while other threads list.
        self._lock = threading.Lock()

    @property
    def models_dir(self) -> Path:
        with self._lock:
            return self._models_dir

    @property
    def imports_file(self) -> Path:
        return self._imports.file

    # -- listing and lookup --------------------------------------------------------------

    def installed(self) -> list[InstalledModel]:
        """Every installed model: downloads, then imports, then the Hugging Face cache.

        A file reachable in more than one way (an import of a file that later landed in the
        models folder) is listed once, under the first of those.
        """
        entries = [
            *self._scanner.downloads(self.models_dir),
            *self._scanner.imports(self._imports.paths(), self.probe),
            *self._scanner.hf_cache(self._hf_cache_dir),
        ]
        seen: set[str] = set()
        unique: list[InstalledModel] = []
        for entry in entries:
            key = os.path.realpath(entry.path)
            if key in seen:
                continue
            seen.add(key)
            unique.append(entry)
        return unique

    def index(self) -> InstalledIndex:
        """The installed models, listed once, for looking up which one serves a file or a
        catalog spec (`InstalledIndex`)."""
        return InstalledIndex(self.installed())

    def get(self, model_id: str) -> InstalledModel:
        """The installed model with this id (`ModelNotFound` names some that exist)."""
        entries = self.installed()
        for entry in entries:
            if entry.id == model_id:
                return entry
        ids = [entry.id for entry in entries]
        if not ids:
            known = "No models are installed."
        else:
            more = len(ids) - NAMES_IN_MESSAGE
            known = "Installed: " + ", ".join(ids[:NAMES_IN_MESSAGE])
            known += f" (and {more} more)." if more > 0 else "."
        raise ModelNotFound(f"No installed model has the id {model_id!r}. {known}")

    # -- import --------------------------------------------------------------------------

    def import_path(self, path: Path) -> InstalledModel:
        """Register a local GGUF file in place (nothing is copied) and return its entry.

        Any part of a split set imports the whole set, which must be complete. A file that is
        already installed (in the models folder, imported before, in the Hugging Face cache)
        returns the entry it already has.

        Raises:
            NotAGGUF: The path is missing, not a regular file, or not a GGUF file.
            GGUFTruncated: A part whose tensor data is cut short (a damaged copy).
            InvalidRequest: A split set with parts missing.
        """
        given = user_path(str(path), what="The file to import")
        check_gguf_file(given, what="The file to import", probe=self.probe)
        # Keep the path as given, not resolved: resolving a Hugging Face snapshot link would
        # give a blob named by its hash, and a split set's parts are found by name.
        absolute = Path(os.path.abspath(given))
        group = group_of(absolute)
        if group.missing:
            names = ", ".join(group.part_name(number) for number in group.missing)
            raise InvalidRequest(
                f"{absolute.name} is one part of a model split into {group.count} files, and "
                f"some are not beside it ({group.missing_text()}): {names}. "
                f"Put every part in {absolute.parent} and import it again."
            )
        for part in group.parts:
            check_gguf_file(part, what="The file to import", probe=self.probe)
            # Each part holds its own tensors; one cut short is a damaged model.
            read_gguf_info(part)

        first_real = os.path.realpath(group.first)
        for entry in self.installed():
            if os.path.realpath(entry.path) == first_real:
                return entry

        self._imports.add([group.first])
        log.info("imported %s as %s", group.first, import_id(group.first))
        return self._scanner.entry(import_id(group.first), group, "import", None)

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
            self._imports.forget(entry.path)
            log.info("forgot the import %s (%s); its file stays", model_id, entry.path)
            return
        refuse_in_use(entry.parts, self._in_use, f"remove {model_id}")
        if entry.source == "import":
            self._imports.forget(entry.path)
        for part in entry.parts:
            delete_model_file(part, follow_link=delete_files)
        if entry.source == "download":
            prune_empty(entry.path.parent, self.models_dir)
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
        old = self.models_dir
        new = user_path(str(new_dir), what="The new models folder")
        if not new.is_absolute():
            raise InvalidRequest(
                f"{new_dir} is a relative path; name the new models folder by its full path."
            )
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
        ensure_writable(new)

        if mode == "move":
            move_files(old, new, self._in_use)
        else:
            linked, unlinked = link_files(old, new)
            self._imports.add(unlinked)
            log.info(
                "linked %d model(s) from %s into %s, imported %d",
                linked,
                old,
                new,
                len(unlinked),
            )
        with self._lock:
            self._models_dir = new
        log.info("the models folder is now %s (was %s, mode %s)", new, old, mode)
        return new

    async def look_at_given_files(self, request: dict[str, Any]) -> None:
        """Look at the files a launch request names by path before it is planned, with a
        time bound and on this store's own threads: a named pipe, a device or a folder is
        refused without being opened, and a path on a network mount that stopped answering
        fails the request (`PathTimeout`) without holding a thread of the server's pool."""
        for key in ("model_path", "draft_model_path"):
            raw = request.get(key)
            if isinstance(raw, str) and raw:
                await self.probe.aregular_file(user_path(raw, what=key), what=key)
