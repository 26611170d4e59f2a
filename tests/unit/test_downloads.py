"""The download manager against the local test hub, through the real huggingface_hub and
modelscope code: resume at any byte, faults, pause/resume/cancel, disk space, persistence."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.api.settings import DownloadSettings
from desktop.core.errors import ModelNotFound, NotEnoughDiskSpace
from desktop.core.hub.jobs import DownloadJob, JobState
from desktop.core.hub.manager import DownloadManager
from desktop.core.hub.transfer import CHUNK_SIZE, PART_SUFFIX
from desktop.core.hub.wiring import build_download_manager
from desktop.core.paths import AppPaths
from desktop.core.units import MiB
from tests.fixtures.hub_server import TestHub
from tests.fixtures.polling import wait_until

REPO = "acme/tiny-GGUF"

MakeManager = Callable[..., DownloadManager]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def blobs() -> dict[str, bytes]:
    rng = random.Random(7)
    return {
        "tiny-Q4_K_M.gguf": rng.randbytes(3 * MiB + 123),
        "tiny-Q8_0-00001-of-00002.gguf": rng.randbytes(2 * MiB + 5),
        "tiny-Q8_0-00002-of-00002.gguf": rng.randbytes(MiB + 77),
        "README.md": b"# tiny\n",
    }


@pytest.fixture
def hub(blobs: dict[str, bytes]) -> Iterator[TestHub]:
    with TestHub() as test_hub:
        test_hub.add_repo(REPO, dict(blobs))
        yield test_hub


@pytest.fixture
def make_manager(tmp_path: Path, hub: TestHub) -> Iterator[MakeManager]:
    made: list[DownloadManager] = []

    def make(source: str = "huggingface", **options: object) -> DownloadManager:
        settings = DownloadSettings(
            source=source,  # type: ignore[arg-type]
            hf_endpoint=str(options.pop("hf_endpoint", hub.url)),
            modelscope_endpoint=hub.url,
            max_parallel=int(options.pop("max_parallel", 2)),  # type: ignore[call-overload]
            retries=int(options.pop("retries", 4)),  # type: ignore[call-overload]
        )
        options.setdefault("backoff", lambda attempt: 0.05)
        manager = build_download_manager(
            AppPaths.under(tmp_path / "home"), lambda: settings, **options
        )
        manager.start()
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.close(timeout=5)


def _models(tmp_path: Path) -> Path:
    return tmp_path / "models"


def _folder(tmp_path: Path) -> Path:
    return _models(tmp_path) / "acme" / "tiny-GGUF"


@pytest.mark.parametrize("source", ["huggingface", "modelscope"])
def test_download_completes_verified(
    source: str, make_manager: MakeManager, hub: TestHub, blobs: dict[str, bytes], tmp_path: Path
) -> None:
    manager = make_manager(source)
    job = manager.add(REPO, ["tiny-Q4_K_M.gguf"], folder=_folder(tmp_path))
    assert job.hub == source
    done = manager.wait(job.id, timeout=60)
    assert done.state is JobState.COMPLETED, done.error
    target = _folder(tmp_path) / "tiny-Q4_K_M.gguf"
    assert _sha(target.read_bytes()) == _sha(blobs["tiny-Q4_K_M.gguf"])
    assert not list(_folder(tmp_path).glob("*" + PART_SUFFIX))
    assert hub.bytes_served(REPO, "tiny-Q4_K_M.gguf") == len(blobs["tiny-Q4_K_M.gguf"])
    progress = manager.progress(job.id)
    assert progress["downloaded_bytes"] == progress["total_bytes"] == target.stat().st_size


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("source", ["huggingface", "modelscope"])
def test_random_cuts_resume_without_refetching(
    source: str, make_manager: MakeManager, hub: TestHub, tmp_path: Path
) -> None:
    """20 downloads per hub, each cut at a random byte: all end with the right sha256 and no
    byte range is fetched again beyond the chunk that was in flight when the line dropped."""
    rng = random.Random(20261124 if source == "huggingface" else 4452)
    manager = make_manager(source)
    for index in range(20):
        data = rng.randbytes(rng.randint(MiB // 2, 3 * MiB))
        name = f"cut-{index}.gguf"
        repo = f"acme/cut-{source}-{index}"
        hub.add_repo(repo, {name: data})
        offset = rng.randint(1, len(data) - 1)
        hub.cut_at(offset, path=name)
        folder = _models(tmp_path) / repo
        job = manager.wait(manager.add(repo, [name], folder=folder).id, timeout=60)
        assert job.state is JobState.COMPLETED, (index, offset, job.error)
        assert _sha((folder / name).read_bytes()) == _sha(data)
        served = hub.bytes_served(repo, name)
        assert len(data) <= served <= len(data) + CHUNK_SIZE, (index, offset, served)


def test_wrong_hash_never_installs(make_manager: MakeManager, hub: TestHub, tmp_path: Path) -> None:
    hub.wrong_hash("tiny-Q4_K_M.gguf")
    manager = make_manager()
    job = manager.wait(
        manager.add(REPO, ["tiny-Q4_K_M.gguf"], folder=_folder(tmp_path)).id, timeout=60
    )
    assert job.state is JobState.FAILED
    assert job.error is not None
    assert "sha256" in job.error
    assert not (_folder(tmp_path) / "tiny-Q4_K_M.gguf").exists()
    assert not (_folder(tmp_path) / ("tiny-Q4_K_M.gguf" + PART_SUFFIX)).exists()


@pytest.mark.parametrize("source", ["huggingface", "modelscope"])
def test_truncated_body_never_installs(
    source: str, make_manager: MakeManager, hub: TestHub, tmp_path: Path
) -> None:
    hub.truncate_body("tiny-Q4_K_M.gguf", MiB)
    manager = make_manager(source, retries=1)
    job = manager.wait(
        manager.add(REPO, ["tiny-Q4_K_M.gguf"], folder=_folder(tmp_path)).id, timeout=120
    )
    assert job.state is JobState.FAILED
    assert not (_folder(tmp_path) / "tiny-Q4_K_M.gguf").exists()


@pytest.mark.parametrize("status", [500, 429])
def test_server_errors_are_retried(
    status: int, make_manager: MakeManager, hub: TestHub, blobs: dict[str, bytes], tmp_path: Path
) -> None:
    hub.fail_status(status, path="tiny-Q4_K_M.gguf", times=2)
    manager = make_manager()
    job = manager.wait(
        manager.add(REPO, ["tiny-Q4_K_M.gguf"], folder=_folder(tmp_path)).id, timeout=60
    )
    assert job.state is JobState.COMPLETED, job.error
    assert _sha((_folder(tmp_path) / "tiny-Q4_K_M.gguf").read_bytes()) == _sha(
        blobs["tiny-Q4_K_M.gguf"]
    )


def test_ignored_range_restarts_cleanly(
    make_manager: MakeManager, hub: TestHub, blobs: dict[str, bytes], tmp_path: Path
) -> None:
    name = "tiny-Q4_K_M.gguf"
    hub.cut_at(MiB + 10, path=name)
    hub.ignore_range(path=name, times=3)
    manager = make_manager()
    job = manager.wait(manager.add(REPO, [name], folder=_folder(tmp_path)).id, timeout=60)
    assert job.state is JobState.COMPLETED, job.error
    assert _sha((_folder(tmp_path) / name).read_bytes()) == _sha(blobs[name])


def test_split_files_all_parts(
    make_manager: MakeManager, blobs: dict[str, bytes], tmp_path: Path
) -> None:
    parts = ["tiny-Q8_0-00001-of-00002.gguf", "tiny-Q8_0-00002-of-00002.gguf"]
    manager = make_manager()
    job = manager.wait(manager.add(REPO, parts, folder=_folder(tmp_path)).id, timeout=60)
    assert job.state is JobState.COMPLETED, job.error
    for part in parts:
        assert _sha((_folder(tmp_path) / part).read_bytes()) == _sha(blobs[part])


def _start_stalled(
    make_manager: MakeManager, hub: TestHub, tmp_path: Path, name: str
) -> tuple[DownloadManager, DownloadJob, Path]:
    """A download held up by the hub after 2 MiB, once at least 1 MiB is on disk."""
    hub.stall(3.0, after_bytes=2 * MiB, path=name)
    manager = make_manager()
    job = manager.add(REPO, [name], folder=_folder(tmp_path))
    part = _folder(tmp_path) / (name + PART_SUFFIX)
    wait_until(lambda: part.exists() and part.stat().st_size >= MiB)
    return manager, job, part


def test_pause_then_resume_continues_from_partial(
    make_manager: MakeManager, hub: TestHub, blobs: dict[str, bytes], tmp_path: Path
) -> None:
    name = "tiny-Q4_K_M.gguf"
    manager, job, part = _start_stalled(make_manager, hub, tmp_path, name)
    paused = manager.pause(job.id)
    assert paused.state is JobState.PAUSED
    assert manager.wait(job.id, timeout=1).state is JobState.PAUSED
    wait_until(lambda: not manager._slot(job.id).lock.locked(), timeout=20)
    kept = part.stat().st_size
    assert kept > 0
    assert not (_folder(tmp_path) / name).exists()
    served_before = hub.bytes_served(REPO, name)
    manager.resume(job.id)
    done = manager.wait(job.id, timeout=60)
    assert done.state is JobState.COMPLETED, done.error
    assert _sha((_folder(tmp_path) / name).read_bytes()) == _sha(blobs[name])
    # The resume asked only for what was missing.
    assert hub.bytes_served(REPO, name) - served_before <= len(blobs[name]) - kept + CHUNK_SIZE


@pytest.mark.parametrize("delete_files", [True, False])
def test_cancel_with_and_without_delete(
    delete_files: bool, make_manager: MakeManager, hub: TestHub, tmp_path: Path
) -> None:
    name = "tiny-Q4_K_M.gguf"
    manager, job, part = _start_stalled(make_manager, hub, tmp_path, name)
    cancelled = manager.cancel(job.id, delete_files=delete_files)
    assert cancelled.state is JobState.CANCELLED
    assert part.exists() is not delete_files
    assert not (_folder(tmp_path) / name).exists()
    if not delete_files:
        # The same download asked for again picks up the partial file.
        kept = part.stat().st_size
        again = manager.wait(manager.add(REPO, [name], folder=_folder(tmp_path)).id, timeout=60)
        assert again.state is JobState.COMPLETED
        assert manager.progress(again.id)["downloaded_bytes"] == again.total_bytes
        assert kept > 0


def test_not_enough_disk_space_before_start(
    make_manager: MakeManager, hub: TestHub, tmp_path: Path
) -> None:
    manager = make_manager(free_space=lambda folder: 100 * MiB)
    with pytest.raises(NotEnoughDiskSpace, match="free"):
        manager.add(REPO, ["tiny-Q4_K_M.gguf"], folder=_folder(tmp_path))
    assert manager.list() == []
    assert not [r for r in hub.requests() if "tiny-Q4_K_M.gguf" in r[1] and r[0] == "GET"]


def test_unknown_file_names_what_exists(make_manager: MakeManager, tmp_path: Path) -> None:
    manager = make_manager()
    with pytest.raises(ModelNotFound, match=r"tiny-Q4_K_M\.gguf"):
        manager.add(REPO, ["nope.gguf"], folder=_folder(tmp_path))


def test_jobs_resume_after_restart(
    make_manager: MakeManager, hub: TestHub, blobs: dict[str, bytes], tmp_path: Path
) -> None:
    name = "tiny-Q4_K_M.gguf"
    first, job, part = _start_stalled(make_manager, hub, tmp_path, name)
    first.close(timeout=10)
    kept = part.stat().st_size
    assert kept > 0
    served_before = hub.bytes_served(REPO, name)
    second = make_manager()
    done = second.wait(job.id, timeout=60)
    assert done.state is JobState.COMPLETED, done.error
    assert _sha((_folder(tmp_path) / name).read_bytes()) == _sha(blobs[name])
    assert hub.bytes_served(REPO, name) - served_before <= len(blobs[name]) - kept + CHUNK_SIZE


def test_parallel_limit(make_manager: MakeManager, hub: TestHub, tmp_path: Path) -> None:
    rng = random.Random(3)
    for index in range(3):
        hub.add_repo(f"acme/p{index}", {"m.gguf": rng.randbytes(MiB)})
        hub.stall(1.0, after_bytes=256 * 1024, path="m.gguf")
    manager = make_manager(max_parallel=2)
    jobs = [
        manager.add(f"acme/p{index}", ["m.gguf"], folder=_models(tmp_path) / f"p{index}")
        for index in range(3)
    ]
    # Each file stalls for a second part-way, so two downloads overlap for that long.
    seen: list[int] = []
    deadline = time.monotonic() + 60
    while not all(manager.get(job.id).state.finished for job in jobs):
        assert time.monotonic() < deadline
        seen.append(sum(1 for j in manager.list() if j.state is JobState.DOWNLOADING))
        time.sleep(0.01)
    for job in jobs:
        assert manager.wait(job.id, timeout=60).state is JobState.COMPLETED
    assert max(seen) == 2


def test_auto_falls_back_to_modelscope(
    make_manager: MakeManager, hub: TestHub, blobs: dict[str, bytes], tmp_path: Path
) -> None:
    manager = make_manager("auto", hf_endpoint="http://127.0.0.1:9")
    job = manager.add(REPO, ["tiny-Q4_K_M.gguf"], folder=_folder(tmp_path))
    assert job.hub == "modelscope"
    assert manager.wait(job.id, timeout=60).state is JobState.COMPLETED


def test_proxy_setting_reaches_both_libraries() -> None:
    from desktop.core.hub.wiring import apply_proxy

    environ: dict[str, str] = {}
    apply_proxy(DownloadSettings(proxy="http://proxy.example:3128"), environ)
    # httpx (huggingface_hub) and requests (modelscope) both read these variables.
    assert environ["HTTPS_PROXY"] == environ["https_proxy"] == "http://proxy.example:3128"
    assert environ["HTTP_PROXY"] == "http://proxy.example:3128"
    assert "127.0.0.1" in environ["NO_PROXY"]
    untouched: dict[str, str] = {"HTTPS_PROXY": "http://users-own:8080"}
    apply_proxy(DownloadSettings(), untouched)
    assert untouched == {"HTTPS_PROXY": "http://users-own:8080"}


def test_hub_clients_get_short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub's shared client waits forever by default; ModelScope's SDK reads its
    timeouts from the environment. Both get XinDesk's (a value the user set stays)."""
    from huggingface_hub import get_session, set_client_factory
    from huggingface_hub.utils._http import default_client_factory

    from desktop.core.hub.remote import CONNECT_TIMEOUT, READ_TIMEOUT
    from desktop.core.hub.wiring import configure_clients

    environ = {"MODELSCOPE_API_TIMEOUT": "90"}
    configure_clients(environ)
    assert environ == {
        "MODELSCOPE_API_TIMEOUT": "90",
        "MODELSCOPE_API_CONNECT_TIMEOUT": str(int(CONNECT_TIMEOUT)),
    }
    # The process's own variables come back after the test.
    monkeypatch.setenv("MODELSCOPE_API_CONNECT_TIMEOUT", "7")
    monkeypatch.setenv("MODELSCOPE_API_TIMEOUT", "90")
    configure_clients()
    try:
        timeout = get_session().timeout
        assert (timeout.connect, timeout.read) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    finally:
        set_client_factory(default_client_factory)
