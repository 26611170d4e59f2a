"""The model store against real files: tiny GGUFs written with the `gguf` package, a real
Hugging Face cache layout checked with huggingface_hub's own scanner, and the real Gemma file."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import gguf
import numpy as np
import pytest

from desktop.core.errors import (
    GGUFTruncated,
    InvalidRequest,
    ModelNotFound,
    NotAGGUF,
    NotEnoughDiskSpace,
)
from desktop.core.store import IMPORTS_FILE, InstalledModel, ModelStore
from desktop.core.store import scan as store_module
from tests.fixtures.tiny_gguf import write_not_gguf, write_truncated_gguf

QWEN = "Qwen/Qwen2.5-0.5B-Instruct-GGUF"


def write_gguf(
    path: Path,
    *,
    arch: str = "llama",
    context_length: int = 256,
    block_count: int = 2,
    split: int = 0,
) -> list[Path]:
    """A tiny GGUF (a few hundred bytes); with `split`, llama.cpp-named parts of one model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, arch, split_max_tensors=1 if split else 0)
    writer.add_context_length(context_length)
    writer.add_block_count(block_count)
    for index in range(max(split, 1)):
        writer.add_tensor(f"t{index}", np.full(8, index, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if not split:
        return [path]
    stem = path.name.removesuffix(".gguf")
    parts = [path.with_name(f"{stem}-{n:05d}-of-{split:05d}.gguf") for n in range(1, split + 1)]
    assert all(part.is_file() for part in parts)
    return parts


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def make_store(models_dir: Path, data_dir: Path, tmp_path: Path) -> Callable[..., ModelStore]:
    def make(
        *, in_use: Callable[[Path], bool] | None = None, hf_cache_dir: Path | None = None
    ) -> ModelStore:
        # Never the developer's real Hugging Face cache.
        cache = hf_cache_dir if hf_cache_dir is not None else tmp_path / "no-hf-cache"
        return ModelStore(models_dir, data_dir, hf_cache_dir=cache, in_use=in_use)

    return make


def by_id(store: ModelStore) -> dict[str, InstalledModel]:
    return {entry.id: entry for entry in store.installed()}


# -- downloads -------------------------------------------------------------------------------


def test_downloads_are_listed_with_repo_quant_and_header(
    models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    repo = models_dir / QWEN
    (model,) = write_gguf(repo / "qwen2.5-0.5b-instruct-q4_k_m.gguf", context_length=32768)
    write_gguf(repo / "mmproj-qwen-f16.gguf", arch="clip")
    # Unfinished downloads, hidden folders and dot files are never installed models.
    (repo / "qwen2.5-0.5b-instruct-q8_0.gguf.part").write_bytes(b"GGUF" + bytes(100))
    write_gguf(repo / ".cache" / "huggingface" / "hidden-q8_0.gguf")
    write_gguf(repo / "._qwen2.5-0.5b-instruct-q4_k_m.gguf")
    write_gguf(models_dir / "loose-Q5_K_M.gguf")

    entries = by_id(make_store())

    assert set(entries) == {
        f"{QWEN}/qwen2.5-0.5b-instruct-q4_k_m.gguf",
        f"{QWEN}/mmproj-qwen-f16.gguf",
        "loose-Q5_K_M.gguf",
    }
    qwen = entries[f"{QWEN}/qwen2.5-0.5b-instruct-q4_k_m.gguf"]
    assert qwen.path == model
    assert qwen.parts == (model,)
    assert qwen.size == model.stat().st_size
    assert qwen.source == "download"
    assert qwen.repo_id == QWEN
    assert qwen.quantization == "Q4_K_M"
    assert (qwen.architecture, qwen.context_length, qwen.block_count) == ("llama", 32768, 2)
    assert qwen.complete
    assert qwen.problem is None
    assert not qwen.is_projector
    assert qwen.usable

    projector = entries[f"{QWEN}/mmproj-qwen-f16.gguf"]
    assert projector.is_projector
    assert projector.quantization == "F16"
    assert not projector.usable
    assert entries["loose-Q5_K_M.gguf"].repo_id is None


def test_get_finds_an_id_and_names_others_when_it_cannot(
    models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    write_gguf(models_dir / QWEN / "a-q4_k_m.gguf")
    store = make_store()

    assert store.get(f"{QWEN}/a-q4_k_m.gguf").quantization == "Q4_K_M"
    with pytest.raises(ModelNotFound, match=r"Installed: Qwen/.*a-q4_k_m\.gguf"):
        store.get("nobody/nothing.gguf")


def test_an_empty_or_absent_models_folder_lists_nothing(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "absent", tmp_path / "data", hf_cache_dir=tmp_path / "none")
    assert store.installed() == []
    with pytest.raises(ModelNotFound, match="No models are installed"):
        store.get("x")


def test_split_set_is_one_entry_and_a_missing_part_is_reported(
    models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    parts = write_gguf(models_dir / "o" / "r" / "big-Q8_0.gguf", split=3, context_length=4096)
    store = make_store()

    (entry,) = store.installed()
    assert entry.id == "o/r/big-Q8_0-00001-of-00003.gguf"
    assert entry.path == parts[0]
    assert entry.parts == tuple(parts)
    assert entry.size == sum(part.stat().st_size for part in parts)
    assert entry.quantization == "Q8_0"
    assert entry.context_length == 4096
    assert entry.complete
    assert entry.problem is None

    parts[1].unlink()
    (entry,) = store.installed()
    assert not entry.complete
    assert entry.problem == "missing part 2 of 3"
    assert entry.parts == (parts[0], parts[2])
    assert entry.size == parts[0].stat().st_size + parts[2].stat().st_size

    parts[0].unlink()
    (entry,) = store.installed()
    assert entry.id == "o/r/big-Q8_0-00001-of-00003.gguf"
    assert entry.problem == "missing parts 1, 2 of 3"
    assert entry.architecture is None


def test_a_damaged_file_is_listed_with_its_problem(
    models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    write_not_gguf(models_dir / "o" / "r" / "fake-q4_0.gguf")
    (entry,) = make_store().installed()
    assert entry.problem is not None
    assert "not a GGUF file" in entry.problem
    assert entry.architecture is None
    assert not entry.usable


def test_headers_are_read_once_per_file_state(
    models_dir: Path, make_store: Callable[..., ModelStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    (model,) = write_gguf(models_dir / "o" / "r" / "m-q4_0.gguf")
    calls: list[Path] = []
    real = store_module.read_gguf_info

    def counting(path: str | Path) -> store_module.GGUFInfo:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(store_module, "read_gguf_info", counting)
    store = make_store()
    store.installed()
    store.installed()
    assert calls == [model]

    write_gguf(model, context_length=1024)  # a new file in its place
    os.utime(model, ns=(1, 1))
    assert store.installed()[0].context_length == 1024
    assert len(calls) == 2


# -- imports ---------------------------------------------------------------------------------


def test_import_registers_the_file_in_place(
    tmp_path: Path, data_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    (own,) = write_gguf(tmp_path / "mine" / "my-model-Q6_K.gguf", block_count=5)
    store = make_store()

    entry = store.import_path(own)

    assert entry.source == "import"
    assert entry.id.startswith("local/")
    assert len(entry.id) == len("local/") + 12
    assert entry.path == own
    assert os.stat(entry.path).st_ino == os.stat(own).st_ino  # no copy
    assert list((tmp_path / "models").iterdir()) == []
    assert (entry.quantization, entry.block_count) == ("Q6_K", 5)
    assert entry.repo_id is None
    record = json.loads((data_dir / IMPORTS_FILE).read_text(encoding="utf-8"))
    assert [item["path"] for item in record["imports"]] == [str(own)]
    # Remembered across instances (and restarts).
    assert make_store().get(entry.id) == entry


def test_import_from_any_part_registers_the_whole_split_set(
    tmp_path: Path, make_store: Callable[..., ModelStore]
) -> None:
    parts = write_gguf(tmp_path / "mine" / "split-Q4_K_M.gguf", split=3)
    store = make_store()

    entry = store.import_path(parts[1])

    assert entry.path == parts[0]
    assert entry.parts == tuple(parts)
    assert entry.complete
    assert entry.problem is None
    assert entry.architecture == "llama"
    assert store.installed() == [entry]


def test_import_of_an_incomplete_split_set_names_the_missing_parts(
    tmp_path: Path, data_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    parts = write_gguf(tmp_path / "mine" / "split-Q4_K_M.gguf", split=3)
    parts[0].unlink()
    parts[2].unlink()

    with pytest.raises(
        InvalidRequest,
        match=r"split-Q4_K_M-00001-of-00003\.gguf, split-Q4_K_M-00003-of-00003\.gguf",
    ):
        make_store().import_path(parts[1])
    assert not (data_dir / IMPORTS_FILE).exists()


def test_import_refuses_what_is_not_a_gguf(
    tmp_path: Path, tiny_models: dict[str, Path], make_store: Callable[..., ModelStore]
) -> None:
    store = make_store()
    with pytest.raises(NotAGGUF, match="not a GGUF file"):
        store.import_path(tiny_models["not_gguf"])
    with pytest.raises(NotAGGUF, match="No file"):
        store.import_path(tmp_path / "nowhere.gguf")
    with pytest.raises(NotAGGUF, match="is a folder"):
        store.import_path(tmp_path)
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF\x03\x00\x00\x00")
    with pytest.raises(NotAGGUF, match="damaged or truncated"):
        store.import_path(truncated)
    assert store.installed() == []


def test_importing_twice_or_a_downloaded_file_returns_the_existing_entry(
    tmp_path: Path,
    models_dir: Path,
    data_dir: Path,
    make_store: Callable[..., ModelStore],
) -> None:
    (own,) = write_gguf(tmp_path / "mine" / "m-q4_0.gguf")
    (downloaded,) = write_gguf(models_dir / "o" / "r" / "d-q4_0.gguf")
    store = make_store()

    first = store.import_path(own)
    assert store.import_path(own) == first
    # The same file through another path (a link) is the same model too.
    link = tmp_path / "link.gguf"
    link.symlink_to(own)
    assert store.import_path(link) == first
    assert store.import_path(downloaded).id == "o/r/d-q4_0.gguf"

    record = json.loads((data_dir / IMPORTS_FILE).read_text(encoding="utf-8"))
    assert len(record["imports"]) == 1
    assert len(store.installed()) == 2


def test_an_imported_file_that_moved_away_has_a_problem(
    tmp_path: Path, make_store: Callable[..., ModelStore]
) -> None:
    (own,) = write_gguf(tmp_path / "mine" / "m-q4_0.gguf")
    store = make_store()
    entry = store.import_path(own)
    own.rename(tmp_path / "elsewhere.gguf")

    moved = store.get(entry.id)
    assert moved.problem is not None
    assert moved.problem.startswith("file is missing")
    assert not moved.complete
    assert moved.parts == ()
    assert moved.size == 0


def test_a_damaged_imports_file_is_kept_aside(
    data_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    data_dir.mkdir()
    (data_dir / IMPORTS_FILE).write_text("{not json", encoding="utf-8")
    assert make_store().installed() == []
    assert [p.name.startswith(f"{IMPORTS_FILE}.damaged-") for p in data_dir.iterdir()] == [True]


def test_the_real_gemma_file_imports_in_place(
    gemma_gguf: Path, make_store: Callable[..., ModelStore]
) -> None:
    entry = make_store().import_path(gemma_gguf)
    assert entry.path == gemma_gguf
    assert entry.architecture == "gemma3"
    assert entry.quantization == "Q4_K_M"
    assert entry.context_length is not None
    assert entry.size == gemma_gguf.stat().st_size


# -- remove ----------------------------------------------------------------------------------


def test_removing_a_download_deletes_every_part_and_prunes_empty_folders(
    models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    parts = write_gguf(models_dir / "o" / "r" / "sub" / "big-Q8_0.gguf", split=2)
    (other,) = write_gguf(models_dir / "o" / "other" / "m-q4_0.gguf")
    store = make_store()

    store.remove("o/r/sub/big-Q8_0-00001-of-00002.gguf", delete_files=True)

    assert not any(part.exists() for part in parts)
    assert not (models_dir / "o" / "r").exists()
    assert other.exists()
    assert [entry.id for entry in store.installed()] == ["o/other/m-q4_0.gguf"]

    store.remove("o/other/m-q4_0.gguf", delete_files=True)
    assert models_dir.is_dir()
    assert list(models_dir.iterdir()) == []


def test_removing_an_import_keeps_the_users_file_unless_asked(
    tmp_path: Path, make_store: Callable[..., ModelStore]
) -> None:
    (kept,) = write_gguf(tmp_path / "mine" / "kept-q4_0.gguf")
    deleted = write_gguf(tmp_path / "mine" / "gone-q4_0.gguf", split=2)
    store = make_store()
    kept_id = store.import_path(kept).id
    deleted_id = store.import_path(deleted[0]).id

    store.remove(kept_id, delete_files=False)
    assert kept.exists()
    store.remove(deleted_id, delete_files=True)
    assert not any(part.exists() for part in deleted)
    assert store.installed() == []
    with pytest.raises(ModelNotFound):
        store.remove(kept_id, delete_files=False)


def test_a_model_in_use_is_not_removed(
    tmp_path: Path, models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    (running,) = write_gguf(models_dir / "o" / "r" / "m-q4_0.gguf")
    (own,) = write_gguf(tmp_path / "mine" / "own-q4_0.gguf")
    store = make_store(in_use=lambda path: path in {running, own})
    import_id = store.import_path(own).id

    with pytest.raises(InvalidRequest, match="Terminate that model first"):
        store.remove("o/r/m-q4_0.gguf", delete_files=True)
    with pytest.raises(InvalidRequest, match="a running model uses"):
        store.remove(import_id, delete_files=True)
    assert running.exists()
    assert own.exists()
    # Forgetting an import touches no file, so a running model does not stop it.
    store.remove(import_id, delete_files=False)
    assert own.exists()


# -- the Hugging Face cache ------------------------------------------------------------------


def make_hf_cache(
    cache: Path, repo_id: str, files: dict[str, Path], repo_type: str = "model"
) -> Path:
    """The cache layout huggingface_hub writes: blobs by hash, snapshot links, refs/main."""
    from huggingface_hub.file_download import repo_folder_name

    repo = cache / repo_folder_name(repo_id=repo_id, repo_type=repo_type)
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    for name, source in files.items():
        sha = hashlib.sha256(source.read_bytes()).hexdigest()
        shutil.copyfile(source, repo / "blobs" / sha)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        # Relative links, as huggingface_hub's `_create_symlink` makes them.
        link.symlink_to(os.path.relpath(repo / "blobs" / sha, link.parent))
    return snapshot


def test_ggufs_in_the_hugging_face_cache_are_offered_but_never_deleted(
    tmp_path: Path, make_store: Callable[..., ModelStore]
) -> None:
    from huggingface_hub import scan_cache_dir, try_to_load_from_cache

    sources = tmp_path / "sources"
    (single,) = write_gguf(sources / "tiny-q4_k_m.gguf", context_length=2048)
    split = write_gguf(sources / "big-Q8_0.gguf", split=2)
    readme = sources / "README.md"
    readme.write_text("# tiny", encoding="utf-8")
    cache = tmp_path / "hf"
    snapshot = make_hf_cache(
        cache,
        "owner/tiny-GGUF",
        {
            "tiny-q4_k_m.gguf": single,
            "README.md": readme,
            **{f"q8/{part.name}": part for part in split},
        },
    )
    # Things a shared cache also holds: a dataset, and a damaged repo folder.
    make_hf_cache(cache, "owner/other", {"x.gguf": single}, repo_type="dataset")
    (cache / "models--broken--repo").mkdir()

    # huggingface_hub itself sees the layout we built.
    info = scan_cache_dir(cache)
    assert {repo.repo_id for repo in info.repos} == {"owner/tiny-GGUF", "owner/other"}
    assert len(info.warnings) == 1
    assert try_to_load_from_cache("owner/tiny-GGUF", "tiny-q4_k_m.gguf", cache_dir=cache) == str(
        snapshot / "tiny-q4_k_m.gguf"
    )

    store = make_store(hf_cache_dir=cache)
    entries = by_id(store)

    assert set(entries) == {
        "hf-cache/owner/tiny-GGUF/tiny-q4_k_m.gguf",
        "hf-cache/owner/tiny-GGUF/q8/big-Q8_0-00001-of-00002.gguf",
    }
    tiny = entries["hf-cache/owner/tiny-GGUF/tiny-q4_k_m.gguf"]
    assert tiny.source == "hf-cache"
    assert tiny.repo_id == "owner/tiny-GGUF"
    assert tiny.path == snapshot / "tiny-q4_k_m.gguf"
    assert tiny.size == single.stat().st_size
    assert (tiny.quantization, tiny.context_length) == ("Q4_K_M", 2048)
    big = entries["hf-cache/owner/tiny-GGUF/q8/big-Q8_0-00001-of-00002.gguf"]
    assert big.complete
    assert len(big.parts) == 2

    assert store.index().find("owner/tiny-gguf", "tiny-q4_k_m.gguf") == tiny
    with pytest.raises(InvalidRequest, match="delete-cache"):
        store.remove(tiny.id, delete_files=True)
    assert (snapshot / "tiny-q4_k_m.gguf").exists()
    # Importing a file of the cache gives back its cache entry.
    assert store.import_path(snapshot / "tiny-q4_k_m.gguf") == tiny


def test_an_absent_or_unreadable_hugging_face_cache_is_no_error(
    tmp_path: Path, make_store: Callable[..., ModelStore]
) -> None:
    assert make_store(hf_cache_dir=tmp_path / "absent").installed() == []
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", encoding="utf-8")
    assert make_store(hf_cache_dir=a_file).installed() == []


def test_the_default_hugging_face_cache_comes_from_huggingface_hub(
    tmp_path: Path, models_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    (model,) = write_gguf(tmp_path / "src" / "m-q4_0.gguf")
    cache = tmp_path / "default-hf"
    make_hf_cache(cache, "o/r", {"m-q4_0.gguf": model})
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))

    (entry,) = ModelStore(models_dir, data_dir).installed()
    assert entry.id == "hf-cache/o/r/m-q4_0.gguf"


# -- find ------------------------------------------------------------------------------------


def test_find_matches_repo_and_file(
    tmp_path: Path, models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    write_gguf(models_dir / QWEN / "qwen-q4_k_m.gguf")
    parts = write_gguf(models_dir / "o" / "r" / "sub" / "big-Q8_0.gguf", split=2)
    (own,) = write_gguf(tmp_path / "mine" / "qwen-q4_k_m.gguf")
    store = make_store()
    store.import_path(own)

    found = store.index().find(QWEN, "qwen-q4_k_m.gguf")
    assert found is not None
    assert found.source == "download"
    by_name = store.index().find(None, "qwen-q4_k_m.gguf")
    assert by_name is not None
    assert by_name.source == "download"
    split = store.index().find("o/r", f"sub/{parts[1].name}")
    assert split is not None
    assert split.path == parts[0]
    assert store.index().find("o/r", f"other/{parts[1].name}") is None
    assert store.index().find("someone/else", "qwen-q4_k_m.gguf") is None
    assert store.index().find(None, "absent.gguf") is None


# -- moving the models folder ----------------------------------------------------------------


def populate(models_dir: Path) -> dict[str, int]:
    """Two models (one split) and an unfinished download; returns relative path -> size."""
    write_gguf(models_dir / QWEN / "qwen-q4_k_m.gguf")
    write_gguf(models_dir / "o" / "r" / "big-Q8_0.gguf", split=2)
    part = models_dir / "o" / "r" / "next-q4_0.gguf.part"
    part.write_bytes(b"GGUF" + bytes(50))
    return {
        path.relative_to(models_dir).as_posix(): path.stat().st_size
        for path in models_dir.rglob("*")
        if path.is_file()
    }


def files_under(folder: Path) -> dict[str, int]:
    return {
        path.relative_to(folder).as_posix(): path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_move_moves_every_file_and_keeps_the_ids(
    tmp_path: Path, models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    before = populate(models_dir)
    store = make_store()
    ids = sorted(by_id(store))
    new = tmp_path / "disk2" / "models"

    assert store.move_models_dir(new) == new

    assert files_under(new) == before
    assert files_under(models_dir) == {}
    assert list(models_dir.iterdir()) == []  # emptied folders pruned
    assert store.models_dir == new
    assert sorted(by_id(store)) == ids
    assert all(entry.path.is_relative_to(new) for entry in store.installed())


def test_move_across_disks_copies_checks_and_deletes(
    tmp_path: Path,
    models_dir: Path,
    make_store: Callable[..., ModelStore],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = populate(models_dir)
    real_rename = os.rename

    def cross_device(src: str | Path, dst: str | Path) -> None:
        if Path(src).is_relative_to(models_dir):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", cross_device)
    new = tmp_path / "disk2"
    make_store().move_models_dir(new)

    assert files_under(new) == before
    assert files_under(models_dir) == {}


def test_a_failed_move_loses_nothing(
    tmp_path: Path,
    models_dir: Path,
    make_store: Callable[..., ModelStore],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = populate(models_dir)
    contents = {path: path.read_bytes() for path in models_dir.rglob("*") if path.is_file()}
    real_rename, real_copy = os.rename, shutil.copy2
    copies: list[str] = []

    def cross_device(src: str | Path, dst: str | Path) -> None:
        # Half the files rename (same disk), the rest must be copied.
        if Path(src).is_relative_to(models_dir) and "o/r" in Path(src).as_posix():
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)

    def copy_until_full(src: str | Path, dst: str | Path) -> object:
        copies.append(str(src))
        if len(copies) == 2:
            Path(dst).write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(src, dst)

    monkeypatch.setattr(os, "rename", cross_device)
    monkeypatch.setattr(shutil, "copy2", copy_until_full)
    store = make_store()
    new = tmp_path / "disk2"

    with pytest.raises(NotEnoughDiskSpace, match="nothing was lost"):
        store.move_models_dir(new)

    assert files_under(models_dir) == before
    assert all(path.read_bytes() == data for path, data in contents.items())
    assert list(new.iterdir()) == []  # no empty folders left behind either
    assert store.models_dir == models_dir


def test_move_keeps_a_linked_folder_a_link(
    tmp_path: Path, models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    elsewhere = tmp_path / "big-disk" / "repo"
    (model,) = write_gguf(elsewhere / "m-q4_0.gguf")
    (models_dir / "o").mkdir()
    (models_dir / "o" / "r").symlink_to(elsewhere, target_is_directory=True)
    store = make_store()
    assert [entry.id for entry in store.installed()] == ["o/r/m-q4_0.gguf"]
    new = tmp_path / "new"

    store.move_models_dir(new)

    assert (new / "o" / "r").is_symlink()
    assert model.is_file()  # the linked folder's files stay where they are
    assert not (models_dir / "o").exists()
    assert [entry.id for entry in store.installed()] == ["o/r/m-q4_0.gguf"]


def test_move_refuses_bad_targets(
    tmp_path: Path, models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    before = populate(models_dir)
    store = make_store()
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")

    with pytest.raises(InvalidRequest, match="inside the current models folder"):
        store.move_models_dir(models_dir / "sub")
    with pytest.raises(InvalidRequest, match="holds the current models folder"):
        store.move_models_dir(tmp_path)
    with pytest.raises(InvalidRequest, match="is a file"):
        store.move_models_dir(a_file)
    with pytest.raises(InvalidRequest, match="not a writable folder"):
        store.move_models_dir(a_file / "models")
    with pytest.raises(InvalidRequest, match="mode"):
        store.move_models_dir(tmp_path / "new", mode="copy")  # type: ignore[arg-type]

    # A different file under a model's name in the target stops the move before it starts.
    taken = tmp_path / "taken"
    (taken / QWEN).mkdir(parents=True)
    (taken / QWEN / "qwen-q4_k_m.gguf").write_bytes(b"someone else's")
    with pytest.raises(InvalidRequest, match="already holds different files"):
        store.move_models_dir(taken)

    assert files_under(models_dir) == before
    assert store.models_dir == models_dir
    assert store.move_models_dir(models_dir) == models_dir  # the same folder: nothing to do


def test_move_refuses_while_a_model_runs(
    tmp_path: Path, models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    before = populate(models_dir)
    running = models_dir / QWEN / "qwen-q4_k_m.gguf"
    store = make_store(in_use=lambda path: path == running)

    with pytest.raises(InvalidRequest, match="running model"):
        store.move_models_dir(tmp_path / "new")
    assert files_under(models_dir) == before
    # Linking leaves every file where it is, so a running model is no obstacle.
    store.move_models_dir(tmp_path / "linked", mode="link")


def test_link_leaves_the_files_and_links_them_into_the_new_folder(
    tmp_path: Path, models_dir: Path, make_store: Callable[..., ModelStore]
) -> None:
    before = populate(models_dir)
    store = make_store()
    ids = sorted(by_id(store))
    new = tmp_path / "linked"

    assert store.move_models_dir(new, mode="link") == new

    assert files_under(models_dir) == before
    link = new / QWEN / "qwen-q4_k_m.gguf"
    assert link.is_symlink()
    assert link.resolve() == (models_dir / QWEN / "qwen-q4_k_m.gguf").resolve()
    assert not (new / "o" / "r" / "next-q4_0.gguf.part").exists()
    assert sorted(by_id(store)) == ids
    assert all(entry.source == "download" and entry.complete for entry in store.installed())

    # Removing a linked download drops the link, and the file only when asked.
    store.remove(f"{QWEN}/qwen-q4_k_m.gguf", delete_files=False)
    assert not link.exists()
    assert (models_dir / QWEN / "qwen-q4_k_m.gguf").exists()
    store.remove("o/r/big-Q8_0-00001-of-00002.gguf", delete_files=True)
    assert not (models_dir / "o" / "r" / "big-Q8_0-00001-of-00002.gguf").exists()

    # Moving back finds the links' targets already there and only drops the links.
    store.move_models_dir(models_dir)
    assert files_under(new) == {}
    assert (models_dir / QWEN / "qwen-q4_k_m.gguf").is_file()


def test_link_falls_back_to_imports_where_links_fail(
    tmp_path: Path,
    models_dir: Path,
    make_store: Callable[..., ModelStore],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = populate(models_dir)

    def no_links(src: str | Path, dst: str | Path) -> None:
        raise OSError(errno.EPERM, "A required privilege is not held by the client")

    monkeypatch.setattr(os, "symlink", no_links)
    store = make_store()
    new = tmp_path / "linked"
    store.move_models_dir(new, mode="link")

    assert files_under(models_dir) == before
    assert files_under(new) == {}
    entries = store.installed()
    assert {entry.source for entry in entries} == {"import"}
    assert {entry.path for entry in entries} == {
        models_dir / QWEN / "qwen-q4_k_m.gguf",
        models_dir / "o" / "r" / "big-Q8_0-00001-of-00002.gguf",
    }
    assert all(entry.complete and entry.problem is None for entry in entries)


# -- truncated files -----------------------------------------------------------------------------


def _cut_into_tensor_data(src: Path, dest: Path, missing: int) -> Path:
    """A copy of `src` that keeps its whole header but ends `missing` bytes before its tensor
    data does, as an interrupted copy leaves it."""
    from desktop.core.memory.gguf_info import read_gguf_metadata, tensor_data_end

    end = tensor_data_end(read_gguf_metadata(src))
    assert end is not None
    return write_truncated_gguf(src, dest, end - missing)


@pytest.mark.parametrize("missing", [1, 10_000_000])
def test_a_truncated_gguf_is_damaged_in_the_list_and_refused_by_import(
    models_dir: Path,
    make_store: Callable[..., ModelStore],
    gemma_gguf: Path,
    tmp_path: Path,
    missing: int,
) -> None:
    cut = _cut_into_tensor_data(
        gemma_gguf, models_dir / "google" / "g-GGUF" / "gemma-3-270m-Q4_K_M.gguf", missing
    )
    store = make_store()
    (entry,) = store.installed()
    assert entry.problem is not None
    assert "truncated" in entry.problem
    assert f"{missing} bytes are missing" in entry.problem
    assert not entry.usable
    elsewhere = tmp_path / "mine" / "cut.gguf"
    elsewhere.parent.mkdir()
    os.link(cut, elsewhere)
    with pytest.raises(GGUFTruncated, match="truncated"):
        store.import_path(elsewhere)
    assert len(store.installed()) == 1


def test_a_whole_file_with_padding_is_not_truncated(
    models_dir: Path, make_store: Callable[..., ModelStore], tmp_path: Path
) -> None:
    """Only what the tensors need counts: a tiny file cut inside its trailing padding loads."""
    from desktop.core.memory.gguf_info import read_gguf_metadata, tensor_data_end
    from tests.fixtures.tiny_gguf import write_embedding_gguf

    src = write_embedding_gguf(tmp_path / "emb.gguf")
    end = tensor_data_end(read_gguf_metadata(src))
    assert end is not None
    assert end <= src.stat().st_size
    exact = models_dir / "o" / "r" / "emb-f32.gguf"
    exact.parent.mkdir(parents=True)
    exact.write_bytes(src.read_bytes()[:end])
    _cut_into_tensor_data(src, models_dir / "o" / "r" / "emb-cut-f32.gguf", 1)
    entries = by_id(make_store())
    assert entries["o/r/emb-f32.gguf"].usable
    assert entries["o/r/emb-f32.gguf"].problem is None
    assert not entries["o/r/emb-cut-f32.gguf"].usable


def test_a_truncated_split_part_is_damaged(
    models_dir: Path, make_store: Callable[..., ModelStore], tmp_path: Path
) -> None:
    parts = write_gguf(models_dir / "o" / "r" / "big-Q8_0.gguf", split=3)
    full = tmp_path / "part2.gguf"
    shutil.copy(parts[1], full)
    _cut_into_tensor_data(full, parts[1], 8)
    (entry,) = make_store().installed()
    assert entry.complete
    assert entry.problem is not None
    assert "truncated" in entry.problem
    assert not entry.usable
