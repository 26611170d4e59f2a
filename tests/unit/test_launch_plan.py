"""Launch plans for a local file named under a catalog family."""

from __future__ import annotations

from pathlib import Path

from desktop.api.settings import Settings
from desktop.core.catalog import Catalog
from desktop.core.paths import resources_dir
from desktop.core.running.launch import plan_launch
from desktop.core.store import ModelStore


def _plan(path: Path, tmp_path: Path, **extra: object) -> object:
    catalog = Catalog(resources_dir() / "catalog", tmp_path / "registrations")
    request = {"model_name": "gemma-3-it", "model_path": str(path), **extra}
    store = ModelStore(
        tmp_path / "models", tmp_path / "data", hf_cache_dir=tmp_path / "no-hf-cache"
    )
    return plan_launch(request, catalog, Settings(), store)


def test_a_file_keeps_its_own_quantization_under_a_catalog_name(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    named = tmp_path / "gemma-3-270m-it-Q4_K_M.gguf"
    named.symlink_to(gemma_gguf)
    plan = _plan(named, tmp_path)
    assert plan.spec is not None
    assert plan.spec.quantization == "Q4_K_M"


def test_a_file_whose_level_is_unknown_matches_no_spec(gemma_gguf: Path, tmp_path: Path) -> None:
    named = tmp_path / "my-model.gguf"
    named.symlink_to(gemma_gguf)
    plan = _plan(named, tmp_path)
    # Before, the family's first spec (IQ2_M) was taken and reported as the file's level.
    assert plan.spec is None
    assert plan.family.model_name == "gemma-3-it"
