"""Hostile hub listings: a mirror (or a compromised hub) names files `../../x`, `/abs/x`,
`a\\..\\x`, `C:/x`, or a path through a link that leads out of the models folder. The real
huggingface_hub and modelscope code reads those listings from the local test hub; nothing may be
written outside the models folder, and the download fails with a message naming the path."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import pytest

from desktop.api.settings import DownloadSettings
from desktop.core.catalog.download import download_repo_quantization, repo_folder
from desktop.core.errors import InvalidRequest, UnsafePath
from desktop.core.hub.jobs import DownloadJob, JobFile, JobState, JobStore
from desktop.core.hub.manager import DownloadManager
from desktop.core.hub.wiring import build_download_manager
from desktop.core.paths import AppPaths
from desktop.core.safepaths import inside, plain_relative
from desktop.core.units import MiB
from tests.fixtures.hub_server import TestHub

REPO = "acme/evil-GGUF"
GOOD = "tiny-Q4_K_M.gguf"

# Each one, used as `folder.joinpath(*path.split("/"))`, names a file outside the folder (on
# POSIX or on Windows) or a file that is not what it seems.
HOSTILE = [
    "../../../../x.gguf",
    "../../../../../x-Q8_0.gguf",
    "ok/../../../../../x.gguf",
    "/abs/x.gguf",
    "a\\..\\..\\..\\..\\x.gguf",
    "..\\..\\x.gguf",
    "C:/x.gguf",
    "C:x.gguf",
    "./x.gguf",
    "a//x.gguf",
    "x.gguf:stream",
    "NUL.gguf",
    "x.gguf.",
    "tab\tx.gguf",
    "nul\x00x.gguf",
]

MakeManager = Callable[..., DownloadManager]


@pytest.fixture
def payload() -> bytes:
    return random.Random(3).randbytes(MiB + 17)


@pytest.fixture
def hub(payload: bytes) -> Iterator[TestHub]:
    with TestHub() as test_hub:
        files: dict[str, bytes | Path] = {GOOD: payload, "sub/" + GOOD: payload}
        files.update({path: payload for path in HOSTILE})
        test_hub.add_repo(REPO, files, hostile_paths=True)
        yield test_hub


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    # The models folder sits four levels down, so "../../../../x" lands inside tmp_path, where
    # the walk below would see it.
    home = tmp_path / "home"
    models = home / "data" / "models"
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("keep me")
    return {"home": home, "models": models, "outside": outside, "victim": victim}


@pytest.fixture
def make_manager(layout: dict[str, Path], hub: TestHub) -> Iterator[MakeManager]:
    made: list[DownloadManager] = []

    def make(source: str = "huggingface") -> DownloadManager:
        settings = DownloadSettings(
            source=source,  # type: ignore[arg-type]
            hf_endpoint=hub.url,
            modelscope_endpoint=hub.url,
            retries=1,
        )
        manager = build_download_manager(
            AppPaths.under(layout["home"]), lambda: settings, backoff=lambda attempt: 0.01
        )
        manager.start()
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.close(timeout=5)


def _files_outside(root: Path, allowed: list[Path]) -> list[Path]:
    """Every file or link below `root` that is not below one of `allowed`."""
    found = []
    for folder, dirs, files in os.walk(root):
        for name in [*files, *dirs]:
            path = Path(folder) / name
            if path.is_dir() and not path.is_symlink():
                continue
            if not any(path.is_relative_to(place) for place in allowed):
                found.append(path)
    return found


def _assert_nothing_escaped(tmp_path: Path, layout: dict[str, Path]) -> None:
    # The home holds the models, the job records and the settings; "outside" holds only what
    # the test put there.
    assert _files_outside(tmp_path, [layout["home"], layout["outside"]]) == []
    assert sorted(p.name for p in layout["outside"].iterdir()) == ["victim.txt"]
    assert layout["victim"].read_text() == "keep me"


@pytest.mark.parametrize("source", ["huggingface", "modelscope"])
def test_hostile_listing_paths_are_refused(
    source: str, make_manager: MakeManager, layout: dict[str, Path], tmp_path: Path
) -> None:
    manager = make_manager(source)
    folder = repo_folder(layout["models"], REPO)
    _remote, _pinned, listing = manager.list_repo(REPO)
    listed = {item.path for item in listing}
    # The real client libraries hand the hostile names through as the hub wrote them.
    assert {GOOD, *HOSTILE} <= listed
    tried = 0
    for path in HOSTILE:
        if path not in listed:
            continue
        with pytest.raises(UnsafePath) as caught:
            manager.add(REPO, [path], folder=folder)
        assert repr(path) in str(caught.value)
        assert "nothing was written" in str(caught.value)
        tried += 1
    assert tried == len(HOSTILE)
    assert manager.list() == []
    _assert_nothing_escaped(tmp_path, layout)
    # The same listing's plain file still downloads.
    job = manager.add(REPO, [GOOD], folder=folder)
    assert manager.wait(job.id, timeout=60).state is JobState.COMPLETED
    assert (folder / GOOD).is_file()
    _assert_nothing_escaped(tmp_path, layout)


def test_quantization_chosen_from_a_hostile_listing_fails(
    hub: TestHub, make_manager: MakeManager, layout: dict[str, Path], tmp_path: Path
) -> None:
    """The listing picks the file when a quantization is asked for: its only Q8_0 is a path
    out of the folder, so that download fails naming it."""
    manager = make_manager()
    with pytest.raises(UnsafePath, match=r"x-Q8_0\.gguf"):
        download_repo_quantization(manager, layout["models"], REPO, "Q8_0")
    _assert_nothing_escaped(tmp_path, layout)


def test_a_link_in_the_folder_does_not_carry_a_write_out(
    make_manager: MakeManager, layout: dict[str, Path], tmp_path: Path
) -> None:
    """`sub/tiny.gguf` is a plain path, but `sub` is a link to a folder elsewhere."""
    manager = make_manager()
    folder = repo_folder(layout["models"], REPO)
    folder.mkdir(parents=True)
    (folder / "sub").symlink_to(layout["outside"], target_is_directory=True)
    with pytest.raises(UnsafePath, match="leads out of"):
        manager.add(REPO, ["sub/" + GOOD], folder=folder)
    assert manager.list() == []
    _assert_nothing_escaped(tmp_path, layout)


def test_a_planted_partial_link_fails_the_job(
    make_manager: MakeManager, layout: dict[str, Path], tmp_path: Path
) -> None:
    """A link planted under the partial file's name would have the bytes written through it."""
    manager = make_manager()
    folder = repo_folder(layout["models"], REPO)
    folder.mkdir(parents=True)
    (folder / (GOOD + ".part")).symlink_to(layout["victim"])
    job = manager.add(REPO, [GOOD], folder=folder)
    done = manager.wait(job.id, timeout=60)
    assert done.state is JobState.FAILED
    assert done.error is not None
    assert "refusing to write through it" in done.error
    assert not (folder / GOOD).exists()
    assert layout["victim"].read_text() == "keep me"


def test_a_tampered_job_record_fails_without_writing(
    hub: TestHub, layout: dict[str, Path], make_manager: MakeManager, tmp_path: Path
) -> None:
    """A job record read back at start with a path out of its folder fails with a message."""
    paths = AppPaths.under(layout["home"])
    folder = repo_folder(layout["models"], REPO)
    JobStore(paths.downloads_dir).save(
        DownloadJob(
            id="tampered",
            hub="huggingface",
            repo_id=REPO,
            files=[JobFile(path="../../../../x.gguf", size=MiB + 17)],
            folder=folder,
        )
    )
    manager = make_manager()
    done = manager.wait("tampered", timeout=30)
    assert done.state is JobState.FAILED
    assert done.error is not None
    assert "'../../../../x.gguf'" in done.error
    assert "Nothing was written" in done.error
    assert manager.progress("tampered")["downloaded_bytes"] == 0
    manager.cancel("tampered")  # cancelling (which deletes partial files) stays inside too
    _assert_nothing_escaped(tmp_path, layout)


@pytest.mark.parametrize("path", HOSTILE)
def test_plain_relative_refuses(path: str) -> None:
    with pytest.raises(UnsafePath):
        plain_relative(path)


@pytest.mark.parametrize("path", ["a.gguf", "Q8_0/a-00001-of-00002.gguf", "a b/ü.gguf", "..a"])
def test_plain_relative_accepts(path: str, tmp_path: Path) -> None:
    assert plain_relative(path) == PurePosixPath(path)
    assert inside(tmp_path, path) == tmp_path.joinpath(*path.split("/"))


@pytest.mark.parametrize("repo_id", ["../x", "a/..", "a\\b/c", "C:/x", "a/b/c", "a:b/c"])
def test_repository_ids_name_one_folder(repo_id: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest):
        repo_folder(tmp_path, repo_id)


def test_models_folder_move_takes_a_full_path(tmp_path: Path) -> None:
    from desktop.core.store import ModelStore

    store = ModelStore(tmp_path / "models", tmp_path / "data")
    with pytest.raises(InvalidRequest, match="relative path"):
        store.move_models_dir(Path("elsewhere"))
    with pytest.raises(UnsafePath, match="control character"):
        store.move_models_dir(tmp_path / "new\x00models")
    assert store.models_dir == tmp_path / "models"
