"""Atomic file writes: a reader sees the old file or the whole new one, never half of either.

The data goes to a temporary file in the target's own folder (a rename across disks is not
atomic), is flushed and fsynced (so a power cut after the rename cannot leave an empty file on
journaling file systems that order metadata before data), then renamed over the target with
`os.replace`. On any failure the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically, creating its folder if needed."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    # A hidden name, so folder scans (job records, listings, models) never pick it up.
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Replace `path` with `text` atomically, creating its folder if needed."""
    atomic_write_bytes(path, text.encode(encoding))
