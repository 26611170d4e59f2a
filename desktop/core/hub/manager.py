"""The download manager: a queue of jobs, a few worker threads, and every recovery path.

What it promises:
- progress (bytes, speed, ETA) read from the bytes on disk, so it is never optimistic;
- pause, resume, cancel (keeping or deleting the partial files) at any moment;
- automatic retries with backoff when a hub drops the connection or answers 5xx/429;
- downloads that were running when the process ended resume when it starts again;
- a disk-space check before a job starts, and a sha256 check before a file counts;
- at most `max_parallel` jobs transfer at once; the rest wait their turn.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.api.hubs import HubName
from desktop.core.errors import (
    DownloadNotFound,
    HubError,
    IntegrityError,
    InvalidRequest,
    ModelNotFound,
    NotEnoughDiskSpace,
    UnsafePath,
)
from desktop.core.hub.jobs import CatalogRef, DownloadJob, JobFile, JobState, JobStore
from desktop.core.hub.remote import Probeable, RemoteFile, RemoteHub
from desktop.core.hub.transfer import (
    FileTarget,
    StopRequested,
    fetch,
    part_path,
    partial_size,
)
from desktop.core.safepaths import plain_relative
from desktop.core.units import MiB, gib_text

log = logging.getLogger("xindesk.hub")

# Free space left over after a download, so finishing one never fills the disk to the last byte.
DISK_MARGIN = 256 * MiB
SPEED_WINDOW = 3.0

HubsFor = Callable[[HubName | None], list[RemoteHub]]
HeadersFor = Callable[[HubName], dict[str, str]]


def free_disk_space(folder: Path) -> int:
    """Free bytes on the disk that holds `folder` (or its nearest existing parent)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def default_backoff(attempt: int) -> float:
    """1, 2, 4 ... seconds, capped at a minute."""
    return float(min(60, 2 ** max(0, attempt - 1)))


@dataclass
class Progress:
    """Live figures for one job; not persisted (the files on disk are the truth)."""

    done: int = 0
    speed: float = 0.0
    current_file: str | None = None
    attempt: int = 0
    samples: list[tuple[float, int]] = field(default_factory=list)

    def sample(self, now: float, done: int) -> None:
        self.done = done
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > SPEED_WINDOW:
            self.samples.pop(0)
        first_time, first_done = self.samples[0]
        elapsed = now - first_time
        self.speed = (done - first_done) / elapsed if elapsed > 0 else 0.0


@dataclass
class _Slot:
    """Per-job bookkeeping: the record, its live progress, and which run may write to it."""

    job: DownloadJob
    progress: Progress = field(default_factory=Progress)
    run: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(default_factory=threading.Condition)


class DownloadManager:
    """Owns every download job of one XinDesk home. Thread-safe; call `start()` once."""

    def __init__(
        self,
        *,
        store: JobStore,
        hubs_for: HubsFor,
        headers_for: HeadersFor | None = None,
        max_parallel: int = 2,
        retries: int = 8,
        free_space: Callable[[Path], int] = free_disk_space,
        backoff: Callable[[int], float] = default_backoff,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._hubs_for = hubs_for
        self._headers_for = headers_for or (lambda hub: {})
        self._max_parallel = max_parallel
        self._retries = retries
        self._free_space = free_space
        self._backoff = backoff
        self._clock = clock
        self._slots: dict[str, _Slot] = {}
        self._guard = threading.RLock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._workers: list[threading.Thread] = []
        self._worker_serial = 0
        self._closing = threading.Event()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Load the records and resume what was queued or running when the process ended."""
        for job in self._store.load_all():
            if job.state in (JobState.DOWNLOADING, JobState.VERIFYING):
                job.state = JobState.QUEUED
            self._slots[job.id] = _Slot(job=job)
            if job.state is JobState.QUEUED:
                log.info("resuming download %s (%s)", job.id, job.label)
                self._queue.put(job.id)
        with self._guard:
            for _ in range(self._max_parallel):
                self._start_worker()

    def _start_worker(self) -> None:
        self._worker_serial += 1
        worker = threading.Thread(target=self._work, name=f"xindesk-download-{self._worker_serial}")
        worker.daemon = True
        self._workers.append(worker)
        worker.start()

    def reconfigure(self, *, max_parallel: int, retries: int) -> None:
        """Take changed settings. A running transfer carries on; the new limits count from the
        next job a worker takes (with fewer slots, a worker leaves when its job ends)."""
        with self._guard:
            if (max_parallel, retries) == (self._max_parallel, self._retries):
                return
            self._retries = retries
            self._max_parallel = max_parallel
            log.info("downloads: %d at a time, %d retries", max_parallel, retries)
            if not self._workers or self._closing.is_set():
                return  # `start` makes the workers, `close` ends them
            extra = len(self._workers) - max_parallel
            for _ in range(-extra):
                self._start_worker()
        for _ in range(extra):
            self._queue.put(None)  # wakes an idle worker so that it can leave

    def _leave_if_extra(self) -> bool:
        with self._guard:
            me = threading.current_thread()
            if len(self._workers) > self._max_parallel and me in self._workers:
                self._workers.remove(me)
                return True
        return False

    def close(self, timeout: float = 10.0) -> None:
        """Stop the workers. Running jobs keep their state on disk and resume at next start."""
        self._closing.set()
        with self._guard:
            workers = list(self._workers)
        for _ in workers:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        with self._guard:
            self._workers.clear()

    # ----------------------------------------------------------------- adding work

    def hubs(self, hub: HubName | None = None) -> list[RemoteHub]:
        """The hubs to ask, in order: the one named, else those of the download source."""
        return self._hubs_for(hub)

    def list_repo(
        self, repo_id: str, *, hub: HubName | None = None, revision: str | None = None
    ) -> tuple[RemoteHub, str | None, list[RemoteFile]]:
        """A repository's files (sizes, hashes) from the first hub, in the configured order,
        that can be reached. A repository that a reachable hub does not have is an error only
        when that hub was asked for by name; under "auto" the next hub is tried."""
        last_error: HubError | None = None
        for remote in self._hubs_for(hub):
            try:
                if isinstance(remote, Probeable):
                    # The libraries' own retries take half a minute to give up on a dead
                    # address; a short probe decides "unreachable" first.
                    remote.probe()
                files = remote.list_files(repo_id, revision)
                pinned = remote.resolve_revision(repo_id, revision)
            except HubError as exc:
                if isinstance(exc, ModelNotFound) and hub is not None:
                    raise
                log.warning("%s: %s", remote.name, exc)
                last_error = exc
                continue
            return remote, pinned, files
        if last_error is not None:
            raise last_error
        raise HubError("No model hub is configured.")

    def resolve_files(
        self,
        repo_id: str,
        paths: Iterable[str],
        *,
        hub: HubName | None = None,
        revision: str | None = None,
    ) -> tuple[RemoteHub, str | None, list[RemoteFile]]:
        """These files' sizes and hashes, from the hub that has the repository."""
        wanted = list(dict.fromkeys(paths))
        if not wanted:
            raise InvalidRequest("Name at least one file to download.")
        remote, pinned, files = self.list_repo(repo_id, hub=hub, revision=revision)
        for path in wanted:
            # A hub (or a mirror) names the files; a name that would leave the repository's
            # folder fails the download before anything is opened.
            try:
                plain_relative(path, what="the file")
            except UnsafePath as exc:
                raise UnsafePath(
                    f"Refusing to download from {repo_id} on {remote.name}: {exc} A file of a "
                    "repository must have a plain relative path; nothing was written."
                ) from exc
        listing = {item.path: item for item in files}
        missing = [path for path in wanted if path not in listing]
        if missing:
            available = sorted(p for p in listing if p.endswith(".gguf"))
            raise ModelNotFound(
                f"{repo_id} on {remote.name} has no file {', '.join(missing)}. "
                f"Its GGUF files: {', '.join(available) or 'none'}"
            )
        return remote, pinned, [listing[path] for path in wanted]

    def add(
        self,
        repo_id: str,
        paths: Iterable[str],
        *,
        folder: Path,
        hub: HubName | None = None,
        revision: str | None = None,
        label: str | None = None,
        model: CatalogRef | None = None,
    ) -> DownloadJob:
        """Queue a download of some files of a repository into `folder`.

        Asking again for files that are already being downloaded gives the existing job.
        """
        remote, pinned, files = self.resolve_files(repo_id, paths, hub=hub, revision=revision)
        with self._guard:
            for slot in self._slots.values():
                job = slot.job
                if (
                    job.repo_id == repo_id
                    and job.folder == folder
                    and [f.path for f in job.files] == [f.path for f in files]
                    and not job.state.finished
                ):
                    if job.state is JobState.PAUSED:
                        self.resume(job.id)
                    return job.model_copy()
            job = DownloadJob(
                id=uuid.uuid4().hex[:12],
                hub=remote.name,
                repo_id=repo_id,
                revision=pinned,
                files=[JobFile(path=f.path, size=f.size, sha256=f.sha256) for f in files],
                folder=folder,
                label=label or f"{repo_id}/{files[0].path}",
                model=model,
                created_at=time.time(),
            )
            job.check_destinations()
            self._check_space(job)
            self._slots[job.id] = _Slot(job=job)
            self._store.save(job)
        log.info("queued download %s: %s from %s", job.id, job.label, job.hub)
        self._queue.put(job.id)
        return job.model_copy()

    # ----------------------------------------------------------------- control

    def get(self, job_id: str) -> DownloadJob:
        return self._slot(job_id).job.model_copy()

    def list(self) -> list[DownloadJob]:
        with self._guard:
            return [slot.job.model_copy() for slot in self._slots.values()]

    def pause(self, job_id: str) -> DownloadJob:
        slot = self._slot(job_id)
        with self._guard:
            if not slot.job.state.active:
                raise InvalidRequest(f"Download {job_id} is {slot.job.state}; it cannot pause.")
            slot.run += 1  # the running transfer sees this at its next chunk and stops
            self._set_state(slot, JobState.PAUSED)
        return slot.job.model_copy()

    def resume(self, job_id: str) -> DownloadJob:
        slot = self._slot(job_id)
        with self._guard:
            if slot.job.state not in (JobState.PAUSED, JobState.FAILED):
                raise InvalidRequest(f"Download {job_id} is {slot.job.state}; nothing to resume.")
            slot.run += 1
            slot.job.error = None
            self._set_state(slot, JobState.QUEUED)
        self._queue.put(job_id)
        return slot.job.model_copy()

    def cancel(self, job_id: str, *, delete_files: bool = True) -> DownloadJob:
        """Stop a job. With `delete_files` its partial files go too; without, they stay so the
        same download started later picks up where this one ended."""
        slot = self._slot(job_id)
        with self._guard:
            if slot.job.state is JobState.COMPLETED:
                raise InvalidRequest(f"Download {job_id} has finished; delete the model instead.")
            slot.run += 1
            self._set_state(slot, JobState.CANCELLED)
        if delete_files:
            # Wait for a running transfer to let go of the file before deleting it.
            with slot.lock:
                for destination in slot.job.destinations:
                    part_path(destination).unlink(missing_ok=True)
        return slot.job.model_copy()

    def forget(self, job_id: str) -> None:
        """Remove a finished job from the list (its downloaded files stay)."""
        slot = self._slot(job_id)
        with self._guard:
            if not slot.job.state.finished and slot.job.state is not JobState.PAUSED:
                raise InvalidRequest(f"Download {job_id} is {slot.job.state}; cancel it first.")
            del self._slots[job_id]
            self._store.remove(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> DownloadJob:
        """Block until the job completes, fails, is cancelled or paused."""
        slot = self._slot(job_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        with slot.changed:
            while slot.job.state.active:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                slot.changed.wait(remaining)
        return slot.job.model_copy()

    def progress(self, job_id: str) -> dict[str, Any]:
        """Bytes done, total, speed and ETA; read from the disk when nothing is running."""
        slot = self._slot(job_id)
        job = slot.job
        total = job.total_bytes
        if job.state in (JobState.DOWNLOADING, JobState.VERIFYING):
            done, speed = slot.progress.done, slot.progress.speed
        else:
            done, speed = self._bytes_on_disk(job), 0.0
        remaining = max(0, total - done)
        eta = remaining / speed if speed > 0 else None
        return {
            "downloaded_bytes": done,
            "total_bytes": total,
            "progress": done / total if total else 1.0,
            "speed_bytes_per_second": round(speed, 1),
            "eta_seconds": round(eta, 1) if eta is not None else None,
            "current_file": slot.progress.current_file,
            "attempt": slot.progress.attempt,
        }

    # ----------------------------------------------------------------- internals

    def _slot(self, job_id: str) -> _Slot:
        with self._guard:
            slot = self._slots.get(job_id)
        if slot is None:
            raise DownloadNotFound(f"No download with id {job_id!r}.")
        return slot

    def _set_state(self, slot: _Slot, state: JobState, error: str | None = None) -> None:
        with self._guard:
            slot.job.state = state
            if error is not None:
                slot.job.error = error
            if state.finished:
                slot.job.finished_at = time.time()
            self._store.save(slot.job)
        with slot.changed:
            slot.changed.notify_all()

    @staticmethod
    def _bytes_on_disk(job: DownloadJob) -> int:
        done = 0
        for file in job.files:
            try:
                destination = job.destination(file)
            except UnsafePath:
                continue
            if destination.is_file():
                done += file.size
            else:
                done += min(file.size, partial_size(destination))
        return done

    def _check_space(self, job: DownloadJob) -> None:
        """Refuse to start what cannot fit, counting what other running jobs still need."""
        needed = job.total_bytes - self._bytes_on_disk(job)
        reserved = sum(
            slot.job.total_bytes - self._bytes_on_disk(slot.job)
            for slot in self._slots.values()
            if slot.job.id != job.id and slot.job.state.active
        )
        free = self._free_space(job.folder)
        if needed + reserved + DISK_MARGIN > free:
            others = f" (and other downloads {gib_text(reserved, digits=2)})" if reserved else ""
            raise NotEnoughDiskSpace(
                f"{job.label} needs {gib_text(needed, digits=2)} more{others}, but {job.folder} "
                f"has {gib_text(free, digits=2)} free. Free up space or choose another models "
                "folder in Settings."
            )

    def _work(self) -> None:
        while not self._closing.is_set():
            if self._leave_if_extra():
                return
            job_id = self._queue.get()
            if job_id is None:
                continue  # `close` or `reconfigure` woke this worker; the loop decides
            with self._guard:
                slot = self._slots.get(job_id)
            if slot is None or slot.job.state is not JobState.QUEUED:
                continue
            try:
                self._run(slot)
            except Exception:  # never lose a worker thread
                log.exception("download %s failed unexpectedly", job_id)
                self._set_state(slot, JobState.FAILED, "Unexpected error; see the log.")

    def _run(self, slot: _Slot) -> None:
        # The lock waits out an earlier run of the same job that has not yet noticed a pause.
        with slot.lock:
            with self._guard:
                if slot.job.state is not JobState.QUEUED:
                    return
                run = slot.run
            job = slot.job

            def stopped() -> bool:
                return slot.run != run or self._closing.is_set()

            try:
                # Checked again at each start: a record read back from disk, or a link made in
                # the folder since the job was queued, must not carry a write elsewhere.
                job.check_destinations()
            except UnsafePath as exc:
                log.error("download %s: %s", job.id, exc)
                self._set_state(slot, JobState.FAILED, f"{exc} Nothing was written.")
                return
            try:
                with self._guard:
                    self._check_space(job)
            except NotEnoughDiskSpace as exc:
                self._set_state(slot, JobState.FAILED, str(exc))
                return
            self._set_state(slot, JobState.DOWNLOADING)
            integrity_failures = 0
            attempt = 0
            while True:
                slot.progress.attempt = attempt
                try:
                    self._transfer(slot, stopped)
                except StopRequested:
                    log.info("download %s stopped (%s)", job.id, job.state)
                    return
                except IntegrityError as exc:
                    integrity_failures += 1
                    log.warning("download %s: %s", job.id, exc)
                    if integrity_failures >= 2:  # twice the same bad bytes: the hub is wrong
                        self._set_state(slot, JobState.FAILED, str(exc))
                        return
                    continue
                # The two libraries raise many kinds of errors; `_transient` sorts them.
                except Exception as exc:  # noqa: BLE001
                    attempt += 1
                    if not _transient(exc) or attempt > self._retries:
                        if stopped():
                            return
                        self._set_state(slot, JobState.FAILED, _describe(exc))
                        return
                    delay = self._backoff(attempt)
                    log.warning(
                        "download %s: %s; retry %d of %d in %.0f s",
                        job.id,
                        _describe(exc),
                        attempt,
                        self._retries,
                        delay,
                    )
                    if self._sleep_unless_stopped(delay, stopped):
                        return
                    continue
                if stopped():
                    return
                self._set_state(slot, JobState.COMPLETED)
                log.info("download %s complete: %s", job.id, job.label)
                return

    def _sleep_unless_stopped(self, delay: float, stopped: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if stopped():
                return True
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        return stopped()

    def _transfer(self, slot: _Slot, stopped: Callable[[], bool]) -> None:
        job = slot.job
        remote = self._hubs_for(job.hub)[0]
        headers = self._headers_for(job.hub)
        for index, file in enumerate(job.files):
            destination = job.destination(file)
            earlier = sum(f.size for f in job.files[:index])
            slot.progress.current_file = file.path
            part = part_path(destination)

            def on_chunk(part: Path = part, earlier: int = earlier) -> None:
                try:
                    size = part.stat().st_size
                except FileNotFoundError:
                    size = 0
                slot.progress.sample(self._clock(), earlier + size)

            def on_verify() -> None:
                if slot.job.state is JobState.DOWNLOADING and not stopped():
                    self._set_state(slot, JobState.VERIFYING)

            on_chunk()
            target = FileTarget(
                hub=job.hub,
                url=remote.file_url(job.repo_id, file.path, job.revision),
                destination=destination,
                size=file.size,
                sha256=file.sha256,
                headers=headers,
            )
            fetch(target, on_chunk=on_chunk, should_stop=stopped, on_verify=on_verify)
            if slot.job.state is JobState.VERIFYING and index + 1 < len(job.files):
                self._set_state(slot, JobState.DOWNLOADING)
        slot.progress.sample(self._clock(), job.total_bytes)
        slot.progress.current_file = None


def _status_of(exc: BaseException) -> int | None:
    for candidate in (exc, exc.__cause__, getattr(exc, "reason", None)):
        response = getattr(candidate, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return status
    return None


def _transient(exc: Exception) -> bool:
    """Worth retrying: dropped connections, timeouts, 5xx and 429; not 401/403/404."""
    if isinstance(exc, (InvalidRequest, ModelNotFound, NotEnoughDiskSpace)):
        return False
    status = _status_of(exc)
    if status is None:
        return True
    return status >= 500 or status in (408, 429)


def _describe(exc: BaseException) -> str:
    status = _status_of(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{text} (HTTP {status})" if status else text
