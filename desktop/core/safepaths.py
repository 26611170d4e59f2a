"""Paths that come from outside: checked before they name a file, and looked at with a time bound.

Two kinds of path reach XinDesk from outside, and each has one gate here:

- Paths *inside a folder of ours*, named by someone else: the file paths of a hub's repository
  listing (Hugging Face, a mirror, ModelScope), a registration's repository id and file names
  (split parts included), the job records downloads resume from. They must
  be relative paths of plain names (`plain_relative`), and the file they name must stay inside
  its folder once links are followed (`inside`). A listing holding `../../x`, `/etc/x`, `C:/x`
  or `a\\..\\x` names no file at all, so nothing from outside picks where a file is written.
- Paths *of the user's own files*: `model_path`, `draft_model_path`, an import, a registration's
  `model_uri`, a new models folder. They may be anywhere, but only a regular file opens as a
  model (`regular_file`): `open()` on a named pipe waits for a writer forever, and a folder's
  contents are nobody's business in an error message.

`FileProbe` runs those looks (`stat`) on a few threads of its own with a time bound, so a path on
a network mount that stopped answering fails one request with `PathTimeout`, instead of
holding a thread of the server's pool forever.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import re
import stat
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from desktop.core.errors import NotAGGUF, PathTimeout, UnsafePath

log = logging.getLogger("xindesk.paths")

T = TypeVar("T")

#: Seconds a look at a user's path may take before the request fails with `PathTimeout`.
PROBE_TIMEOUT = 5.0
#: Looks that may run (or hang) at once; past that, the next one fails at once.
MAX_THREADS = 16

# Names Windows gives to devices in every folder ("NUL.gguf" is the null device there too).
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _segment_problem(name: str) -> str | None:
    """What makes one path segment other than a plain file or folder name, or None."""
    if name == "":
        return "it has an empty segment (a leading '/' or a '//')"
    if name in (".", ".."):
        return f"it has a {name!r} segment"
    if _CONTROL.search(name):
        return "it holds a control character"
    if "\\" in name:
        return "it holds a backslash"
    if ":" in name:
        return "it holds a ':' (a drive letter or a Windows stream)"
    if name.strip(". ") == "" or name.endswith((".", " ")):
        return "a segment ends in a dot or a space (Windows drops them)"
    if _WINDOWS_DEVICES.match(name):
        return f"{name!r} is a device name on Windows"
    return None


def plain_relative(path: str, *, what: str = "path") -> PurePosixPath:
    """`path` ("/"-separated) as a relative path of plain names, or `UnsafePath` saying why not.

    Refused: absolute paths, `..` and `.` segments, empty segments, backslashes, drive letters
    and other colons, control characters (NUL included), names Windows ends differently or
    reserves for devices.
    """
    if not isinstance(path, str) or not path:
        raise UnsafePath(f"{what} {path!r} is empty; a file needs a name.")
    if path.startswith("/"):
        raise UnsafePath(f"{what} {path!r} is an absolute path; it must be relative to its folder.")
    segments = path.split("/")
    for segment in segments:
        problem = _segment_problem(segment)
        if problem is not None:
            raise UnsafePath(f"{what} {path!r} is not a plain relative path: {problem}.")
    return PurePosixPath(*segments)


def plain_name(name: str, *, what: str = "name") -> str:
    """One plain file or folder name (no "/"), or `UnsafePath`."""
    if "/" in name:
        raise UnsafePath(f"{what} {name!r} must be a single name, without '/'.")
    plain_relative(name, what=what)
    return name


def inside(folder: Path, relative: str, *, what: str = "path") -> Path:
    """`folder` joined with the plain relative `relative`, checked to stay inside `folder`.

    The folders on the way are resolved (links followed), and the result must lie below the
    resolved `folder`: a link inside the folder that points elsewhere does not carry a write
    out. The last name itself is not followed, because a file is written beside it and renamed
    over it, which replaces a link rather than writing through it. `folder` may itself be a
    link (a user may link a repository folder in from another disk).

    Returns:
        The path below `folder` as given (not resolved), so names stay what the listing says.
    """
    parts = plain_relative(relative, what=what).parts
    target = folder.joinpath(*parts)
    base = Path(os.path.realpath(folder))
    parent = Path(os.path.realpath(target.parent))
    if parent != base and not parent.is_relative_to(base):
        raise UnsafePath(
            f"{what} {relative!r} leads out of {folder} (through a link to {parent}); "
            "nothing is written there."
        )
    return target


#: The longest path and file name most systems take (PATH_MAX, NAME_MAX).
MAX_PATH = 4096
MAX_NAME = 255


def user_path(text: str, *, what: str = "path") -> Path:
    """A path of the user's own (anywhere on the machine), with `~` expanded.

    Refused (`UnsafePath`): an empty path, and control characters, which no real file name
    holds and which the OS would refuse with an error that is not about the file.
    """
    if not isinstance(text, str) or not text.strip():
        raise UnsafePath(f"{what} is empty; name a file.")
    if _CONTROL.search(text):
        raise UnsafePath(f"{what} {text!r} holds a control character; no file has that name.")
    if len(os.fsencode(text)) > MAX_PATH:
        raise UnsafePath(f"{what} is longer than {MAX_PATH} bytes; no system takes such a path.")
    path = Path(text).expanduser()
    if any(len(os.fsencode(part)) > MAX_NAME for part in path.parts):
        raise UnsafePath(f"{what} has a name longer than {MAX_NAME} bytes.")
    return path


# -- regular files -------------------------------------------------------------------------------


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def regular_file(path: Path, *, what: str = "model_path") -> os.stat_result:
    """`os.stat` of `path` (links followed), refusing anything but a regular file.

    Nothing is opened: this is what runs before a model file is opened, because `open()` on a
    named pipe blocks until something writes to it. The message names the path and what it is,
    never what a folder holds.

    Raises:
        NotAGGUF: Missing, unreadable, or not a regular file (a folder, a FIFO, a device).
    """
    try:
        found = os.stat(path)
    except FileNotFoundError as exc:
        raise NotAGGUF(f"No file at {path}. Check the {what} (it must name a .gguf file).") from exc
    except PermissionError as exc:
        raise NotAGGUF(f"Cannot read {path}: permission denied.") from exc
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise NotAGGUF(f"Cannot read {path}: {reason}.") from exc
    if not stat.S_ISREG(found.st_mode):
        kind = _kind(found.st_mode)
        itself = " itself" if stat.S_ISDIR(found.st_mode) else ""
        raise NotAGGUF(f"{path} is {kind}; {what} must name the .gguf file{itself}.")
    return found


def _root_of(path: Path) -> str:
    """The part of a path that names its drive or share ("/mnt/nas", "//server/share/x"): a
    mount that stops answering stalls every path below it."""
    parts = Path(os.path.abspath(path)).parts
    return str(Path(*parts[:3])) if parts else str(path)


class FileProbe:
    """Looks at user-given paths on threads of its own, each look bounded in time.

    A look that takes longer than `timeout` fails its caller with `PathTimeout`; its thread
    stays stuck in the kernel until the mount answers. While it is stuck, the next look below
    the same drive or share (`_root_of`) fails at once instead of starting another thread, and
    at most `max_threads` looks run at all; paths elsewhere are looked at as usual. The threads
    are daemons, so a dead mount cannot keep the process from exiting either.
    """

    def __init__(self, *, timeout: float = PROBE_TIMEOUT, max_threads: int = MAX_THREADS) -> None:
        self.timeout = timeout
        self._threads = threading.BoundedSemaphore(max_threads)
        self._guard = threading.Lock()
        # Looks under way, and those among them that timed out; roots with stuck looks, counted.
        self._running: set[concurrent.futures.Future[Any]] = set()
        self._late: set[concurrent.futures.Future[Any]] = set()
        self._stuck: dict[str, int] = {}

    def _busy(self, path: Path) -> PathTimeout:
        return PathTimeout(
            f"Cannot look at {path} now: an earlier look at {_root_of(path)} has not finished "
            "(a network drive that stopped answering?). Try again once the drive answers."
        )

    def _start(self, call: Callable[[], T], path: Path) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        root = _root_of(path)
        with self._guard:
            stuck = root in self._stuck
        if stuck or not self._threads.acquire(blocking=False):
            future.set_exception(self._busy(path))
            return future
        with self._guard:
            self._running.add(future)

        def run() -> None:
            # The thread's slot is free before the answer goes out, so the caller's next look
            # finds it. A caller that gave up has cancelled the future (asyncio does, on a
            # timeout), and the late answer has nobody to go to then.
            try:
                result = call()
            except BaseException as exc:  # noqa: BLE001  # handed to the waiting caller
                self._finished(root, future)
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    future.set_exception(exc)
                return
            self._finished(root, future)
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                future.set_result(result)

        threading.Thread(target=run, name="xindesk-file-probe", daemon=True).start()
        return future

    def _finished(self, root: str, future: concurrent.futures.Future[T]) -> None:
        self._threads.release()
        with self._guard:
            self._running.discard(future)
            if future in self._late:
                self._late.discard(future)
                left = self._stuck.get(root, 1) - 1
                if left > 0:
                    self._stuck[root] = left
                else:
                    self._stuck.pop(root, None)
                    log.info("%s answers again", root)

    def _timed_out(self, path: Path, future: concurrent.futures.Future[T]) -> PathTimeout:
        root = _root_of(path)
        with self._guard:
            if future in self._running:
                self._late.add(future)
                self._stuck[root] = self._stuck.get(root, 0) + 1
        log.warning("looking at %s took longer than %.1f s", path, self.timeout)
        return PathTimeout(
            f"Looking at {path} took longer than {self.timeout:g} s; is it on a network drive "
            "that stopped answering? Check the drive and try again."
        )

    def call(self, call: Callable[[], T], *, path: Path) -> T:
        """`call()` (which looks at `path`) within the time bound, from a thread that may wait."""
        future = self._start(call, path)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            raise self._timed_out(path, future) from None

    async def acall(self, call: Callable[[], T], *, path: Path) -> T:
        """`call()` within the time bound, awaited: no thread of the event loop's pool waits."""
        future = self._start(call, path)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.timeout)
        except TimeoutError:
            raise self._timed_out(path, future) from None

    def regular_file(self, path: Path, *, what: str = "model_path") -> os.stat_result:
        """`regular_file` within the time bound."""
        return self.call(lambda: regular_file(path, what=what), path=path)

    async def aregular_file(self, path: Path, *, what: str = "model_path") -> os.stat_result:
        """`regular_file` within the time bound, awaited."""
        return await self.acall(lambda: regular_file(path, what=what), path=path)
