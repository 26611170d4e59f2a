"""Atomic writes and byte units: the one implementation every writer and every size uses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.core.fileio import atomic_write_bytes, atomic_write_text
from desktop.core.units import GiB, gib_text, human_bytes


def test_an_atomic_write_creates_the_folder_and_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "folder" / "record.json"
    atomic_write_text(target, "first")
    assert target.read_text(encoding="utf-8") == "first"
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["record.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "settings.json"
    atomic_write_text(target, "old")

    def refuse(source: str, destination: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_sizes_read_the_way_people_read_them() -> None:
    assert human_bytes(None) == "–"
    assert human_bytes(None, unknown="unknown") == "unknown"
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KB"
    assert human_bytes(3 * GiB) == "3.0 GB"
    assert human_bytes(2048 * GiB) == "2.0 TB"
    assert gib_text(3 * GiB // 2) == "1.5 GiB"
    assert gib_text(3 * GiB // 2, digits=2) == "1.50 GiB"
