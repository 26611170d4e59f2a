"""Moving the models folder as one transaction: every file arrives, or every file goes back.

`move_files` renames each downloaded file (and the `.part` file of each unfinished download) into
the new folder, or copies it across disks under a temporary name whose size is checked before it
takes the real name; any error undoes every step so far, and sources are deleted only once every
file has arrived. `link_files` leaves the files where they are and links them from the new
folder; the models that cannot be linked are handed back to be recorded as imports.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from pathlib import Path

from desktop.core.errors import InvalidRequest, NotEnoughDiskSpace, XinDeskError
from desktop.core.hub.transfer import PART_SUFFIX
from desktop.core.store.files import (
    NAMES_IN_MESSAGE,
    InUse,
    prune_empty,
    refuse_in_use,
    walk_files,
)
from desktop.core.store.splits import GGUF_SUFFIX, group_files, is_gguf_name
from desktop.core.units import gib_text

log = logging.getLogger("xindesk.store")

# Suffix of a file being copied across disks; it never counts as a model.
_MOVING_SUFFIX = ".moving"


def ensure_writable(folder: Path) -> None:
    """Create `folder` if needed and check a file can be made in it."""
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


def move_files(old: Path, new: Path, in_use: InUse | None) -> None:
    """Move every downloaded file from `old` to `new`, all or nothing."""
    # Folder links are moved as links: following them would move the files of a folder
    # that lives elsewhere on purpose.
    sources = [
        path
        for path in walk_files(old, follow_links=False)
        if path.is_dir() or path.name.lower().endswith((GGUF_SUFFIX, PART_SUFFIX))
    ]
    refuse_in_use([p for p in sources if is_gguf_name(p.name) and not p.is_dir()], in_use, "move")

    plan: list[tuple[Path, Path, bool]] = []  # (source, target, target is it already)
    conflicts: list[str] = []
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
            + ", ".join(conflicts[:NAMES_IN_MESSAGE])
            + ". Choose an empty folder, or remove those files first."
        )
    free = shutil.disk_usage(new).free
    if cross_disk > free:
        raise NotEnoughDiskSpace(
            f"Moving the models to {new} needs {gib_text(cross_disk)} there, and its disk has "
            f"{gib_text(free)} free. Free some space or choose another folder."
        )

    # (source, target, how): "renamed" can be renamed back; "copied" and "kept" still
    # have their source, which is deleted only once every file has arrived.
    done: list[tuple[Path, Path, str]] = []
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
                os.symlink(os.path.realpath(source), target, target_is_directory=source.is_dir())
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
        prune_empty(source.parent, old)
    log.info("moved %d file(s) from %s to %s", len(done), old, new)


def link_files(old: Path, new: Path) -> tuple[int, list[Path]]:
    """Link every downloaded model in `old` from `new`.

    Returns:
        How many models were linked, and the first file of each model that could not be
        (links unavailable), for the caller to record as an import.
    """
    groups = group_files(path for path in walk_files(old) if is_gguf_name(path.name))
    plan: list[list[tuple[Path, Path]]] = []
    conflicts: list[str] = []
    for group in groups:
        links: list[tuple[Path, Path]] = []
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
            + ", ".join(conflicts[:NAMES_IN_MESSAGE])
            + ". Choose an empty folder, or remove those files first."
        )

    fallback: list[Path] = []
    links_work = True
    for group, links in zip(groups, plan, strict=True):
        made: list[Path] = []
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
                prune_empty(target.parent, new)
            fallback.append(group.first)
    return len(groups) - len(fallback), fallback


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


def _roll_back(done: list[tuple[Path, Path, str]], new: Path) -> None:
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
            prune_empty(target.parent, new)
