"""Which installed file serves a catalog model: the store's one answer, asked by launch planning,
the catalog table and the cache listing. Real files: the Gemma 3 270M GGUF under catalog file
names, in the models folder, the Hugging Face cache (huggingface_hub's own layout) and imports."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from desktop.api.settings import Settings
from desktop.core.catalog import Catalog
from desktop.core.errors import ModelFileMissing
from desktop.core.paths import resources_dir
from desktop.core.running.launch import plan_launch
from desktop.core.store import ModelStore

# The built-in catalog's Gemma 3 1B Q4_K_M (the same repository on both hubs).
GEMMA_REPO = "bartowski/google_gemma-3-1b-it-GGUF"
GEMMA_FILE = "google_gemma-3-1b-it-Q4_K_M.gguf"
GEMMA_LAUNCH = {
    "model_name": "gemma-3-1b-it",
    "model_size_in_billions": 1,
    "quantization": "Q4_K_M",
}
# A registration whose repositories differ between the hubs.
TWO_HUBS = {
    "model_name": "two-hubs",
    "model_ability": ["chat"],
    "context_length": 2048,
    "model_specs": [
        {
            "model_format": "ggufv2",
            "model_size_in_billions": 1,
            "model_src": {
                "huggingface": {
                    "quantizations": ["Q4_K_M"],
                    "model_id": "hf-owner/two-hubs-GGUF",
                    "model_file_name_template": "two-hubs-{quantization}.gguf",
                },
                "modelscope": {
                    "quantizations": ["Q4_K_M"],
                    "model_id": "ms-owner/two-hubs-GGUF",
                    "model_file_name_template": "two-hubs-{quantization}.gguf",
                },
            },
        }
    ],
}


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(resources_dir() / "catalog", tmp_path / "registrations")
    catalog.register("LLM", TWO_HUBS, persist=False)
    return catalog


@pytest.fixture
def hf_cache(tmp_path: Path) -> Path:
    return tmp_path / "hf-cache"


@pytest.fixture
def store(tmp_path: Path, hf_cache: Path) -> ModelStore:
    return ModelStore(tmp_path / "models", tmp_path / "data", hf_cache_dir=hf_cache)


def link(target: Path, path: Path) -> Path:
    """`path` as a link to `target` (the real model under a catalog file name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def write_gguf(path: Path, *, parts: int = 1) -> list[Path]:
    """A tiny llama-shaped GGUF; with `parts` > 1, split by llama.cpp's naming."""
    import gguf
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, "llama", split_max_tensors=1 if parts > 1 else 0)
    writer.add_context_length(256)
    writer.add_block_count(1)
    for index in range(parts):
        writer.add_tensor(f"t{index}", np.full(8, index, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if parts == 1:
        return [path]
    stem = path.name.removesuffix(".gguf")
    return [path.with_name(f"{stem}-{n:05d}-of-{parts:05d}.gguf") for n in range(1, parts + 1)]


def split_registration(names: list[str]) -> dict[str, object]:
    """A registration of the split set `names` (Xinference's split-file template)."""
    stem = names[0].split("-00001-of-")[0]
    return {
        "model_name": "split",
        "model_ability": ["chat"],
        "context_length": 256,
        "model_specs": [
            {
                "model_format": "ggufv2",
                "model_size_in_billions": 1,
                "quantization": "Q8_0",
                "model_hub": "huggingface",
                "model_id": "o/split-GGUF",
                "model_file_name_split_template": stem + "-{part}.gguf",
                "quantization_parts": {"Q8_0": [n.removeprefix(stem + "-")[:-5] for n in names]},
            }
        ],
    }


def cache_file(cache: Path, repo_id: str, name: str, source: Path) -> Path:
    """`name` of `repo_id` in huggingface_hub's cache layout (blob, snapshot link, refs/main)."""
    from huggingface_hub.file_download import repo_folder_name

    repo = cache / repo_folder_name(repo_id=repo_id, repo_type="model")
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    blob = link(source, repo / "blobs" / hashlib.sha256(name.encode()).hexdigest())
    snapshot = repo / "snapshots" / commit / name
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    snapshot.symlink_to(os.path.relpath(blob, snapshot.parent))
    return snapshot


def test_a_catalog_model_launches_from_the_hugging_face_cache(
    gemma_gguf: Path, catalog: Catalog, store: ModelStore, hf_cache: Path
) -> None:
    with pytest.raises(ModelFileMissing, match="Hugging Face cache"):
        plan_launch(dict(GEMMA_LAUNCH), catalog, Settings(), store)

    snapshot = cache_file(hf_cache, GEMMA_REPO, GEMMA_FILE, gemma_gguf)
    plan = plan_launch(dict(GEMMA_LAUNCH), catalog, Settings(), store)
    # The snapshot's name, not the blob it links to: the name says the quantization, and
    # llama.cpp finds a split set's other parts by name beside the first.
    assert plan.model_path == snapshot
    assert plan.worker.model_path == str(snapshot)
    assert plan.spec is not None
    assert plan.spec.model_id == GEMMA_REPO


def test_a_split_model_in_the_hugging_face_cache_launches_with_its_parts_beside_it(
    catalog: Catalog, store: ModelStore, hf_cache: Path, tmp_path: Path
) -> None:
    parts = write_gguf(tmp_path / "sources" / "split.gguf", parts=2)
    catalog.register("LLM", split_registration([p.name for p in parts]), persist=False)
    snapshots = [cache_file(hf_cache, "o/split-GGUF", p.name, p) for p in parts]

    plan = plan_launch({"model_name": "split"}, catalog, Settings(), store)
    assert plan.model_path == snapshots[0]
    assert [plan.model_path.parent / p.name for p in parts] == snapshots


def test_a_catalog_model_launches_from_an_imported_file(
    gemma_gguf: Path, catalog: Catalog, store: ModelStore, tmp_path: Path
) -> None:
    own = link(gemma_gguf, tmp_path / "mine" / GEMMA_FILE)
    store.import_path(own)
    plan = plan_launch(dict(GEMMA_LAUNCH), catalog, Settings(), store)
    assert plan.model_path == own


def test_a_download_from_the_other_hub_serves_the_launch(
    gemma_gguf: Path, catalog: Catalog, store: ModelStore
) -> None:
    downloaded = link(
        gemma_gguf, store.models_dir / "ms-owner" / "two-hubs-GGUF" / "two-hubs-Q4_K_M.gguf"
    )
    settings = Settings()
    assert settings.downloads.source == "auto"  # Hugging Face's spec is the one preferred
    plan = plan_launch({"model_name": "two-hubs"}, catalog, settings, store)
    assert plan.spec is not None
    assert plan.spec.model_hub == "huggingface"
    assert plan.model_path == downloaded
    # The download source (or the request's download_hub) picks the spec, by `hub_order`.
    settings.downloads.source = "modelscope"
    plan = plan_launch({"model_name": "two-hubs"}, catalog, settings, store)
    assert plan.spec is not None
    assert plan.spec.model_hub == "modelscope"
    asked = {"model_name": "two-hubs", "download_hub": "huggingface"}
    by_request = plan_launch(asked, catalog, settings, store)
    assert by_request.spec is not None
    assert by_request.spec.model_hub == "huggingface"


def test_a_damaged_or_foreign_copy_serves_nothing(
    gemma_gguf: Path, catalog: Catalog, store: ModelStore, tmp_path: Path
) -> None:
    # The file name of the catalog's spec, but in another repository's folder.
    link(gemma_gguf, store.models_dir / "someone" / "else-GGUF" / GEMMA_FILE)
    # The right place, but not a GGUF (a download cut short would never get this name).
    broken = store.models_dir / "hf-owner" / "two-hubs-GGUF" / "two-hubs-Q4_K_M.gguf"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a model")

    index = store.index()
    _family, gemma = catalog.match("LLM", "gemma-3-1b-it", size=1, quantization="Q4_K_M")
    assert index.for_spec(gemma) is None
    _family, two_hubs = catalog.match("LLM", "two-hubs")
    damaged = index.find(two_hubs.model_id, two_hubs.file_names()[0])
    assert damaged is not None
    assert damaged.problem is not None
    assert index.for_spec(two_hubs) is None
    with pytest.raises(ModelFileMissing, match="not downloaded"):
        plan_launch({"model_name": "two-hubs"}, catalog, Settings(), store)


def test_installed_files_are_named_by_the_catalog_spec_they_serve(
    gemma_gguf: Path, catalog: Catalog, store: ModelStore, hf_cache: Path, tmp_path: Path
) -> None:
    cache_file(hf_cache, GEMMA_REPO, GEMMA_FILE, gemma_gguf)
    # Imports have no repository: the catalog's file name is what names them.
    for name in ("two-hubs-Q4_K_M.gguf", "something-else-Q4_K_M.gguf"):
        store.import_path(write_gguf(tmp_path / "mine" / name)[0])

    index = store.index()
    named = {
        index_id: (family.model_name, spec.model_id)
        for index_id, (family, spec) in index.catalog_specs(catalog).items()
    }
    by_path = {model.path.name: model.id for model in index.models}
    assert named == {
        by_path[GEMMA_FILE]: ("gemma-3-1b-it", GEMMA_REPO),
        by_path["two-hubs-Q4_K_M.gguf"]: ("two-hubs", "hf-owner/two-hubs-GGUF"),
    }
