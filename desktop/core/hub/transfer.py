"""One file from a hub into the models folder, resumable across restarts, verified before use.

The bytes travel through the hubs' own libraries (`huggingface_hub.file_download.http_get`,
`modelscope`'s `http_get_model_file`): they handle Range requests, redirects, a server that
ignores Range, auth headers and their own short retries. What they do not do, and this module
adds:

- a partial file that survives the process (`<name>.part` beside the final file): huggingface_hub
  2.x writes to a per-process temporary name and deletes it on failure, so a restart would
  begin again from byte 0;
- a way to stop mid-file (pause, cancel) from another thread;
- a size and sha256 check before the file takes its final name. A file without the `.part`
  suffix is therefore always complete and verified; nothing else ever creates one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.api.hubs import HubName
from desktop.core.errors import IntegrityError, UnsafePath
from desktop.core.units import MiB

log = logging.getLogger("xindesk.hub")

PART_SUFFIX = ".part"
# Stop requests are seen between chunks; huggingface_hub's default of 10 MiB would make a pause
# wait for 10 MiB on a slow line.
CHUNK_SIZE = MiB
HASH_BLOCK = 4 * MiB


class StopRequested(BaseException):
    """Raised from a progress callback to end a transfer early (pause or cancel).

    A BaseException on purpose: modelscope's `http_get_model_file` retries on *any* Exception,
    so an ordinary exception would be swallowed and the download would carry on.
    """


@dataclass(frozen=True)
class FileTarget:
    """One remote file and where it goes."""

    hub: HubName
    url: str
    destination: Path
    size: int
    sha256: str | None
    headers: dict[str, str]

    @property
    def part(self) -> Path:
        return part_path(self.destination)


def part_path(destination: Path) -> Path:
    return destination.with_name(destination.name + PART_SUFFIX)


def partial_size(destination: Path) -> int:
    """Bytes already on disk for a file that is not finished (0 when none)."""
    try:
        return part_path(destination).stat().st_size
    except FileNotFoundError:
        return 0


def sha256_of(path: Path, should_stop: Callable[[], bool] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
            if should_stop is not None and should_stop():
                raise StopRequested
    return digest.hexdigest()


def fetch(
    target: FileTarget,
    *,
    on_chunk: Callable[[], None],
    should_stop: Callable[[], bool],
    on_verify: Callable[[], None] | None = None,
) -> Path:
    """Download (or finish downloading) one file and give it its final name once verified.

    `on_chunk` is called after every chunk (read the `.part` size for progress); `should_stop`
    is asked as often, and a true answer raises `StopRequested`, leaving the partial file for a
    later resume. A size or hash mismatch deletes the partial file and raises `IntegrityError`.
    """
    destination = target.destination
    if destination.is_file() and destination.stat().st_size == target.size:
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = target.part
    _refuse_odd_part(part)
    have = partial_size(destination)
    if have > target.size:
        log.warning("%s is longer than the remote file; starting it again", part.name)
        part.unlink()
        have = 0
    if have < target.size:
        log.info(
            "downloading %s from %s (%d of %d bytes already here)",
            destination.name,
            target.hub,
            have,
            target.size,
        )
        if target.hub == "huggingface":
            _fetch_huggingface(target, have, on_chunk, should_stop)
        else:
            _fetch_modelscope(target, on_chunk, should_stop)
    if on_verify is not None:
        on_verify()
    verify(part, target.size, target.sha256, should_stop=should_stop)
    os.replace(part, destination)
    log.info("%s verified and in place", destination.name)
    return destination


def _refuse_odd_part(part: Path) -> None:
    """The partial file is written through, so it must be a plain file of ours (or absent): a
    link or a pipe planted under its name would carry the bytes elsewhere, or block."""
    try:
        mode = os.lstat(part).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise UnsafePath(
            f"{part} is a link or another special file, not a partial download; refusing to "
            "write through it. Delete it and start the download again."
        )


def verify(
    part: Path,
    size: int,
    sha256: str | None,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Check a finished partial file; delete it when it is wrong, since resuming cannot fix it."""
    actual_size = part.stat().st_size if part.exists() else 0
    if actual_size != size:
        part.unlink(missing_ok=True)
        raise IntegrityError(
            f"{part.name[: -len(PART_SUFFIX)]}: got {actual_size} bytes, the hub lists {size}. "
            "The partial file was deleted; the download starts again."
        )
    if sha256 is None:
        log.warning("%s: the hub gives no sha256, only the size was checked", part.name)
        return
    actual = sha256_of(part, should_stop)
    if actual != sha256.lower():
        part.unlink(missing_ok=True)
        raise IntegrityError(
            f"{part.name[: -len(PART_SUFFIX)]}: sha256 {actual} does not match the hub's "
            f"{sha256}. The file was deleted and does not count as downloaded."
        )


def _fetch_huggingface(
    target: FileTarget,
    have: int,
    on_chunk: Callable[[], None],
    should_stop: Callable[[], bool],
) -> None:
    from huggingface_hub import constants
    from huggingface_hub.file_download import http_get

    # Read at call time by http_get; see CHUNK_SIZE for why it is smaller than the default.
    constants.DOWNLOAD_CHUNK_SIZE = CHUNK_SIZE
    progress = _tqdm_class(on_chunk, should_stop)
    target.part.touch()
    with target.part.open("r+b") as handle:
        handle.seek(have)
        http_get(
            target.url,
            handle,
            resume_size=have,
            headers=dict(target.headers),
            expected_size=target.size,
            displayed_filename=target.destination.name,
            tqdm_class=progress,
        )


def _fetch_modelscope(
    target: FileTarget,
    on_chunk: Callable[[], None],
    should_stop: Callable[[], bool],
) -> None:
    from modelscope.hub.callback import ProgressCallback
    from modelscope.hub.file_download import http_get_model_file

    class _Progress(ProgressCallback):  # type: ignore[misc]  # modelscope has no type hints
        def update(self, size: int) -> None:
            on_chunk()
            if should_stop():
                raise StopRequested

    # It resumes from whatever `file_name` already holds, which is exactly our `.part` file.
    http_get_model_file(
        target.url,
        str(target.part.parent),
        target.part.name,
        target.size,
        None,
        headers=dict(target.headers),
        disable_tqdm=True,
        progress_callbacks=[_Progress],
    )


def _tqdm_class(on_chunk: Callable[[], None], should_stop: Callable[[], bool]) -> Any:
    """A tqdm that reports to us instead of drawing a bar (huggingface_hub takes a class)."""
    from tqdm.auto import tqdm

    class _Progress(tqdm):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            on_chunk()
            if should_stop():
                raise StopRequested
            return None

    return _Progress
