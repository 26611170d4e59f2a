"""Files and folders a request names by path (`model_path`, `draft_model_path`, an import,
the models folder).

A path the system cannot even look up (a NUL byte, a name longer than the system allows) is
the caller's mistake: a 400 that names the field, not an `OSError` or `ValueError` that
reaches a 500.
"""

from __future__ import annotations

import os
from pathlib import Path

from desktop.core.errors import InvalidRequest, NotAGGUF
from desktop.core.memory.gguf_info import check_gguf_file

# The longest path and file name most systems take (PATH_MAX, NAME_MAX).
MAX_PATH = 4096
MAX_NAME = 255


def user_path(raw: str, field: str) -> Path:
    """`raw` as a path (with ~ expanded), or `InvalidRequest` naming `field` when no system
    could look it up."""
    if not raw.strip():
        raise InvalidRequest(f"{field} is empty: name a file or folder.")
    if "\x00" in raw:
        raise InvalidRequest(f"{field} cannot contain a NUL character.")
    if len(os.fsencode(raw)) > MAX_PATH:
        raise InvalidRequest(f"{field} is longer than {MAX_PATH} bytes.")
    path = Path(raw).expanduser()
    if any(len(os.fsencode(part)) > MAX_NAME for part in path.parts):
        raise InvalidRequest(f"{field} has a name longer than {MAX_NAME} bytes.")
    return path


def local_gguf(raw: str, field: str) -> Path:
    """The GGUF file `raw` names, checked (`check_gguf_file`)."""
    path = user_path(raw, field)
    try:
        return check_gguf_file(path)
    except NotAGGUF:
        raise
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise NotAGGUF(f"{field} cannot name a file: {reason}.") from exc
