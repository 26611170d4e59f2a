"""The file probe: looks at user paths on threads of its own, each bounded in time, and at most a
few stuck at once."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from desktop.core.errors import NotAGGUF, PathTimeout
from desktop.core.safepaths import FileProbe, regular_file

DEAD = Path("/mnt/dead-share")


def test_a_stuck_look_times_out_and_its_drive_is_skipped_until_it_answers() -> None:
    release = threading.Event()
    probe = FileProbe(timeout=0.2, max_threads=8)
    try:
        with pytest.raises(PathTimeout, match="took longer than"):
            probe.call(release.wait, path=DEAD / "x.gguf")
        # That look is still stuck: the next one below the same share fails at once, without
        # starting a thread, while paths elsewhere are looked at as usual.
        with pytest.raises(PathTimeout, match="has not finished"):
            probe.call(lambda: 1, path=DEAD / "models" / "y.gguf")
        assert probe.call(lambda: 2, path=Path("/tmp/elsewhere.gguf")) == 2
    finally:
        release.set()
    # Once the share answers again, looks below it run again.
    for _ in range(100):
        try:
            assert probe.call(lambda: 3, path=DEAD / "z.gguf") == 3
            break
        except PathTimeout:
            threading.Event().wait(0.05)
    else:
        pytest.fail("the share was never looked at again")


def test_the_threads_are_bounded() -> None:
    release = threading.Event()
    probe = FileProbe(timeout=0.1, max_threads=2)
    try:
        for n in range(2):
            with pytest.raises(PathTimeout, match="took longer than"):
                probe.call(release.wait, path=Path(f"/mnt/share-{n}/x"))
        with pytest.raises(PathTimeout, match="has not finished"):
            probe.call(lambda: 1, path=Path("/mnt/share-3/x"))
    finally:
        release.set()


def test_a_probe_frees_its_thread_when_the_look_ends() -> None:
    probe = FileProbe(timeout=5, max_threads=1)
    for n in range(5):
        assert probe.call(lambda n=n: n * 2, path=Path("/x")) == n * 2
    with pytest.raises(ZeroDivisionError):
        probe.call(lambda: 1 // 0, path=Path("/x"))
    assert probe.call(lambda: "free", path=Path("/x")) == "free"


def test_the_awaited_look_is_bounded_too() -> None:
    release = threading.Event()
    probe = FileProbe(timeout=0.2)

    async def main() -> None:
        with pytest.raises(PathTimeout, match="took longer than"):
            await probe.acall(release.wait, path=DEAD / "a")
        with pytest.raises(PathTimeout, match="has not finished"):
            await probe.acall(lambda: 0, path=DEAD / "b")
        assert await probe.acall(lambda: 42, path=Path("/tmp/x")) == 42

    try:
        asyncio.run(main())
    finally:
        release.set()


def test_regular_file_refuses_without_opening(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "inside-secret.gguf").write_bytes(b"GGUF")
    with pytest.raises(NotAGGUF, match="named pipe"):
        regular_file(fifo)
    with pytest.raises(NotAGGUF, match="is a folder") as caught:
        regular_file(folder)
    assert "inside-secret" not in str(caught.value)
    with pytest.raises(NotAGGUF, match="a device"):
        regular_file(Path("/dev/null"))
    with pytest.raises(NotAGGUF, match="No file"):
        regular_file(tmp_path / "missing.gguf")
    with pytest.raises(NotAGGUF, match="Cannot read"):
        regular_file(tmp_path / "nul\x00.gguf")
    link = tmp_path / "link.gguf"
    link.symlink_to(fifo)
    with pytest.raises(NotAGGUF, match="named pipe"):
        regular_file(link)
    real = tmp_path / "real.gguf"
    real.write_bytes(b"GGUF")
    assert regular_file(real).st_size == 4
