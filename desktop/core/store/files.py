"""The store's file-system helpers: walking the models folder, deleting a model's files, pruning
the folders a removal leaves empty, and refusing to touch files a running model has open."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from desktop.core.errors import InvalidRequest, XinDeskError

log = logging.getLogger("xindesk.store")

#: How many ids or paths a message lists before "and N more".
NAMES_IN_MESSAGE = 5

#: Answers whether a running model has a file open.
InUse = Callable[[Path], bool]


def walk_files(root: Path, *, follow_links: bool = True) -> Iterator[Path]:
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


def delete_model_file(path: Path, *, follow_link: bool) -> None:
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


def prune_empty(folder: Path, root: Path) -> None:
    """Remove `folder` and its parents while they are empty, stopping below `root`."""
    root_real = os.path.realpath(root)
    current = folder
    while os.path.realpath(current) != root_real and current.is_relative_to(root):
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def refuse_in_use(paths: Iterable[Path], in_use: InUse | None, action: str) -> None:
    """Raise InvalidRequest naming the files a running model uses, if any of `paths` is one."""
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
            + ", ".join(str(path) for path in busy[:NAMES_IN_MESSAGE])
            + ". Terminate that model first."
        )
