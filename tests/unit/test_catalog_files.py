"""GGUF files grouped into quantization choices, and the catalog's exact files and sizes.

The listings are the recorded ones in tests/fixtures/listings (real repositories' naming in the
hubs' JSON shapes); the hub behind the catalog lookups is a small fake, since what is tested here
is the matching and the cache, not the network (tests/unit/test_remote.py does that).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.core.catalog import Catalog, Spec
from desktop.core.catalog.files import group_gguf_files, is_projector, split_part
from desktop.core.catalog.sizes import CatalogFiles, ListingCache, match_spec_files
from desktop.core.errors import HubUnreachable, InvalidRequest, ModelNotFound
from desktop.core.hub import HubName, RemoteFile, RepoSummary
from desktop.core.paths import resources_dir

LISTINGS = Path(__file__).resolve().parents[1] / "fixtures" / "listings"


def hf_listing(repo: str) -> list[RemoteFile]:
    """A recorded Hugging Face tree as RemoteFiles (test_remote checks the library agrees)."""
    entries = json.loads((LISTINGS / f"hf-tree-{repo.replace('/', '__')}.json").read_text())
    return [
        RemoteFile(e["path"], e["size"], (e.get("lfs") or {}).get("oid"))
        for e in entries
        if e["type"] == "file"
    ]


def ms_listing(repo: str) -> list[RemoteFile]:
    raw = json.loads((LISTINGS / f"ms-files-{repo.replace('/', '__')}.json").read_text())
    return [
        RemoteFile(e["Path"], e["Size"], e["Sha256"] or None)
        for e in raw["Data"]["Files"]
        if e["Type"] == "blob"
    ]


def files(*paths: str, size: int = 10) -> list[RemoteFile]:
    return [RemoteFile(path, size, None) for path in paths]


class FakeHub:
    """A RemoteHub that answers from memory and counts listings."""

    def __init__(self, name: HubName, listings: dict[str, list[RemoteFile]]) -> None:
        self.name: HubName = name
        self.listings = listings
        self.calls: list[tuple[str, str | None]] = []
        self.error: Exception | None = None

    def search(self, query: str, *, limit: int = 30) -> list[RepoSummary]:
        return []

    def list_files(self, repo_id: str, revision: str | None = None) -> list[RemoteFile]:
        self.calls.append((repo_id, revision))
        if self.error is not None:
            raise self.error
        if repo_id not in self.listings:
            raise ModelNotFound(f"no {repo_id}")
        return list(self.listings[repo_id])

    def file_url(self, repo_id: str, path: str, revision: str | None = None) -> str:
        return f"fake://{repo_id}/{path}"

    def resolve_revision(self, repo_id: str, revision: str | None = None) -> str:
        return revision or "main"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(resources_dir() / "catalog", None)


def gguf_specs(catalog: Catalog, name: str, size: str, hub: str) -> list[Spec]:
    family = catalog.get("LLM", name)
    return [
        s
        for s in family.model_specs
        if s.model_format == "ggufv2" and s.size_key == size and s.model_hub == hub
    ]


# -- grouping ------------------------------------------------------------------------------------


def test_official_qwen_repo_groups_split_parts_best_quality_first() -> None:
    repo = group_gguf_files(hf_listing("Qwen/Qwen2.5-7B-Instruct-GGUF"))

    assert [c.quant for c in repo.choices] == [
        "F16",
        "Q8_0",
        "Q6_K",
        "Q5_K_M",
        "Q5_0",
        "Q4_K_M",
        "Q4_0",
        "Q3_K_M",
        "Q2_K",
    ]
    assert all(c.complete and c.folder is None for c in repo.choices)
    assert repo.projectors == []
    assert repo.unknown == []  # README, LICENSE are no GGUF
    q4 = repo.find("q4_k_m")[0]
    assert [f.path for f in q4.files] == [
        "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf",
        "qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf",
    ]
    assert q4.size == 3_993_201_344 + 689_872_320
    assert q4.parts == 2
    assert q4.path == q4.files[0].path
    assert q4.label == "qwen2.5-7b-instruct-q4_k_m"
    fp16 = repo.find("F16")[0]
    assert fp16.parts == 4
    assert len(fp16.files) == 4
    assert repo.find("q2_k")[0].files[0].path == "qwen2.5-7b-instruct-q2_k.gguf"


def test_a_split_set_missing_a_part_is_kept_but_incomplete() -> None:
    listing = [
        f
        for f in hf_listing("Qwen/Qwen2.5-7B-Instruct-GGUF")
        if f.path != "qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf"
    ]
    repo = group_gguf_files(listing)

    (q4,) = repo.find("Q4_K_M")
    assert not q4.complete
    assert q4.missing_parts == (2,)
    assert q4.size == 3_993_201_344
    assert q4.quant in repo.quants


def test_parts_listed_out_of_order_come_back_in_order_and_sets_do_not_merge() -> None:
    listing = files(
        "m-Q8_0-00003-of-00003.gguf",
        "m-Q8_0-00001-of-00003.gguf",
        "m-Q8_0-00002-of-00003.gguf",
        # a second, older upload of the same level in two parts, first part only
        "m-Q8_0-00001-of-00002.gguf",
    )
    repo = group_gguf_files(listing)

    assert len(repo.choices) == 2
    complete, partial = repo.choices  # complete first within a level
    assert [split_part(f.path) for f in complete.files] == [(1, 3), (2, 3), (3, 3)]
    assert complete.complete
    assert not partial.complete
    assert partial.missing_parts == (2,)


def test_big_quantizations_in_folders() -> None:
    repo = group_gguf_files(hf_listing("bartowski/Qwen2.5-72B-Instruct-GGUF"))

    (q8,) = repo.find("Q8_0")
    assert q8.folder == "Qwen2.5-72B-Instruct-Q8_0"
    assert [f.path for f in q8.files] == [
        "Qwen2.5-72B-Instruct-Q8_0/Qwen2.5-72B-Instruct-Q8_0-00001-of-00002.gguf",
        "Qwen2.5-72B-Instruct-Q8_0/Qwen2.5-72B-Instruct-Q8_0-00002-of-00002.gguf",
    ]
    assert q8.complete
    (f16,) = repo.find("f16")
    assert f16.parts == 4
    assert f16.complete
    assert f16.folder == "Qwen2.5-72B-Instruct-f16"
    (q4,) = repo.find("Q4_K_M")
    assert q4.folder is None
    assert q4.parts == 1
    assert repo.quants[0] == "F16"
    assert repo.quants[-1] == "IQ1_M"
    assert repo.unknown == []  # the .imatrix file is no GGUF


def test_quant_named_only_by_the_folder() -> None:
    repo = group_gguf_files(
        files("Q4_K_M/model-00001-of-00002.gguf", "Q4_K_M/model-00002-of-00002.gguf")
    )

    (choice,) = repo.choices
    assert choice.quant == "Q4_K_M"
    assert choice.complete
    assert choice.folder == "Q4_K_M"


def test_projectors_are_never_choices_and_ud_variants_are() -> None:
    repo = group_gguf_files(hf_listing("unsloth/gemma-3-4b-it-GGUF"))

    assert [f.path for f in repo.projectors] == [
        "mmproj-F32.gguf",
        "mmproj-BF16.gguf",
        "mmproj-F16.gguf",
    ]
    assert not any(is_projector(c.path) for c in repo.choices)
    assert len(repo.choices) == 26
    (ud4,) = repo.find("UD-Q4_K_XL")
    assert ud4.quant == "Q4_K_XL"
    assert ud4.label == "gemma-3-4b-it-UD-Q4_K_XL"
    assert repo.find("q4_k_m")[0].path == "gemma-3-4b-it-Q4_K_M.gguf"
    assert repo.choices[0].quant == "BF16"


def test_one_level_in_two_files_gives_two_choices() -> None:
    listing = files("Model-Q4_K_M.gguf", "Model-UD-Q4_K_M.gguf", "mmproj-model-f16.gguf")
    repo = group_gguf_files(listing)

    assert [c.quant for c in repo.choices] == ["Q4_K_M", "Q4_K_M"]
    assert {c.path for c in repo.choices} == {"Model-Q4_K_M.gguf", "Model-UD-Q4_K_M.gguf"}
    assert repo.find("Q4_K_M")[0].label == "Model-Q4_K_M"
    assert repo.find("UD-Q4_K_M")[0].label == "Model-UD-Q4_K_M"
    assert [f.path for f in repo.projectors] == ["mmproj-model-f16.gguf"]


def test_unknown_and_non_gguf_files() -> None:
    listing = files(
        "ggml-model.gguf",
        "weird/thing-00001-of-00002.gguf",
        "model.safetensors",
        "model.gguf.part1of2",
        "README.md",
        "Phi-3-mini-Q5_K_S.GGUF",
    )
    repo = group_gguf_files(listing)

    assert [f.path for f in repo.unknown] == ["ggml-model.gguf", "weird/thing-00001-of-00002.gguf"]
    assert [c.path for c in repo.choices] == ["Phi-3-mini-Q5_K_S.GGUF"]
    assert repo.find("Q9_9") == []


# -- catalog specs -> files and sizes ------------------------------------------------------------


def test_qwen25_7b_split_templates_on_hugging_face(catalog: Catalog, tmp_path: Path) -> None:
    hub = FakeHub(
        "huggingface",
        {"Qwen/Qwen2.5-7B-Instruct-GGUF": hf_listing("Qwen/Qwen2.5-7B-Instruct-GGUF")},
    )
    specs = gguf_specs(catalog, "qwen2.5-instruct", "7", "huggingface")

    table = CatalogFiles(ListingCache(tmp_path)).for_hub(specs, hub)

    assert [row.quantization for row in table] == [s.quantization for s in specs]
    assert all(row.complete and row.exact and not row.stale for row in table)
    rows = {row.quantization: row for row in table}
    assert rows["q4_k_m"].paths == [
        "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf",
        "qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf",
    ]
    assert rows["q4_k_m"].size == 3_993_201_344 + 689_872_320
    assert all(f.sha256 and len(f.sha256) == 64 for f in rows["q4_k_m"].files)
    assert rows["q2_k"].paths == ["qwen2.5-7b-instruct-q2_k.gguf"]
    assert rows["q2_k"].size == 3_015_940_384
    assert hub.calls == [("Qwen/Qwen2.5-7B-Instruct-GGUF", None)]  # one listing for all


def test_qwen25_7b_on_modelscope(catalog: Catalog, tmp_path: Path) -> None:
    hub = FakeHub(
        "modelscope",
        {"qwen/Qwen2.5-7B-Instruct-GGUF": ms_listing("qwen/Qwen2.5-7B-Instruct-GGUF")},
    )
    specs = gguf_specs(catalog, "qwen2.5-instruct", "7", "modelscope")

    table = CatalogFiles(ListingCache(tmp_path)).for_hub(specs, hub)

    assert len(table) == 8
    assert all(row.complete and row.hub == "modelscope" for row in table)
    q8 = next(row for row in table if row.quantization == "q8_0")
    assert q8.size == 3_993_201_344 + 4_105_407_744


def test_qwen25_05b_single_files(catalog: Catalog, tmp_path: Path) -> None:
    hub = FakeHub(
        "huggingface",
        {"Qwen/Qwen2.5-0.5B-Instruct-GGUF": hf_listing("Qwen/Qwen2.5-0.5B-Instruct-GGUF")},
    )
    specs = gguf_specs(catalog, "qwen2.5-instruct", "0.5", "huggingface")

    table = CatalogFiles(ListingCache(tmp_path)).for_hub(specs, hub)

    sizes = {row.quantization: row.size for row in table}
    assert sizes["q4_k_m"] == 491_400_032
    assert sizes["q8_0"] == 675_710_816
    assert all(len(row.files) == 1 and row.exact for row in table)


def test_gemma3_4b_with_vision_projectors(catalog: Catalog, tmp_path: Path) -> None:
    repo = "bartowski/google_gemma-3-4b-it-GGUF"
    hub = FakeHub("huggingface", {repo: hf_listing(repo)})
    specs = gguf_specs(catalog, "gemma-3-it", "4", "huggingface")

    table = CatalogFiles(ListingCache(tmp_path)).for_hub(specs, hub)

    assert len(table) == len(specs) == 23
    assert all(row.complete and row.exact for row in table)
    q4 = next(row for row in table if row.quantization == "Q4_K_M")
    assert q4.paths == ["google_gemma-3-4b-it-Q4_K_M.gguf"]
    assert [p.path for p in q4.projectors] == [
        "mmproj-google_gemma-3-4b-it-f16.gguf",
        "mmproj-google_gemma-3-4b-it-f32.gguf",
        "mmproj-google_gemma-3-4b-it-bf16.gguf",
    ]
    assert q4.size == q4.files[0].size  # projectors are not part of the model's size
    bf16 = next(row for row in table if row.quantization == "bf16")
    assert bf16.paths == ["google_gemma-3-4b-it-bf16.gguf"]


def test_qwen3_30b_split_set_in_a_folder_and_a_missing_level(
    catalog: Catalog, tmp_path: Path
) -> None:
    repo = "unsloth/Qwen3-30B-A3B-GGUF"
    hub = FakeHub("modelscope", {repo: ms_listing(repo)})
    specs = gguf_specs(catalog, "qwen3", "30", "modelscope")

    rows = {
        row.quantization: row for row in CatalogFiles(ListingCache(tmp_path)).for_hub(specs, hub)
    }

    assert rows["BF16"].paths == [
        "BF16/Qwen3-30B-A3B-BF16-00001-of-00002.gguf",
        "BF16/Qwen3-30B-A3B-BF16-00002-of-00002.gguf",
    ]
    assert rows["BF16"].size == 49_888_081_984 + 11_178_913_760
    assert rows["UD-Q4_K_XL"].paths == ["Qwen3-30B-A3B-UD-Q4_K_XL.gguf"]
    # The recorded listing has no UD-IQ2_M file: the spec says so instead of guessing.
    missing = rows["UD-IQ2_M"]
    assert not missing.complete
    assert missing.size is None
    assert missing.missing == ("Qwen3-30B-A3B-UD-IQ2_M.gguf",)


def test_catalog_names_that_no_longer_match_fall_back_to_the_repos_files() -> None:
    # A spec that still names one file where the repository now has split parts.
    spec = Spec(
        model_hub="huggingface",
        model_id="Qwen/Qwen2.5-7B-Instruct-GGUF",
        quantization="q4_k_m",
        model_file_name_template="qwen2.5-7b-instruct-q4_k_m.gguf",
    )

    found = match_spec_files(spec, hf_listing("Qwen/Qwen2.5-7B-Instruct-GGUF"))

    assert found.complete
    assert not found.exact
    assert found.expected == ("qwen2.5-7b-instruct-q4_k_m.gguf",)
    assert found.paths == [
        "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf",
        "qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf",
    ]


def test_names_match_ignoring_case_and_folder() -> None:
    spec = Spec(
        model_hub="huggingface",
        model_id="o/r",
        quantization="Q4_K_M",
        model_file_name_template="model-q4_k_m.gguf",
    )

    found = match_spec_files(spec, files("gguf/Model-Q4_K_M.gguf", "README.md"))

    assert found.exact
    assert found.paths == ["gguf/Model-Q4_K_M.gguf"]


def test_a_spec_must_be_asked_of_its_own_hub(catalog: Catalog, tmp_path: Path) -> None:
    (spec, *_) = gguf_specs(catalog, "qwen2.5-instruct", "7", "modelscope")
    hub = FakeHub("huggingface", {})

    with pytest.raises(InvalidRequest, match="modelscope"):
        CatalogFiles(ListingCache(tmp_path)).spec_files(spec, hub)


# -- the listing cache ---------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_listing_cache_ttl_refresh_and_stale_fallback(tmp_path: Path) -> None:
    repo = "Qwen/Qwen2.5-0.5B-Instruct-GGUF"
    hub = FakeHub("huggingface", {repo: hf_listing(repo)})
    clock = Clock()
    cache = ListingCache(tmp_path, ttl=3600, clock=clock)

    first = cache.get(hub, repo)
    assert not first.stale
    assert len(first.files) == 12
    assert (tmp_path / "huggingface").is_dir()

    clock.now += 60
    again = cache.get(hub, repo)
    assert again.files == first.files
    assert len(hub.calls) == 1  # fresh: not asked again

    # A new cache over the same folder (the next app start) reads the file.
    assert ListingCache(tmp_path, ttl=3600, clock=clock).get(hub, repo).files == first.files
    assert len(hub.calls) == 1

    clock.now += 3600
    refreshed = cache.get(hub, repo)
    assert len(hub.calls) == 2
    assert refreshed.fetched_at == clock.now

    clock.now += 7200
    hub.error = HubUnreachable("Cannot reach Hugging Face at https://huggingface.co: refused.")
    stale = cache.get(hub, repo)
    assert stale.stale
    assert stale.files == first.files
    assert stale.note is not None
    assert "Cannot reach Hugging Face" in stale.note
    assert "2 hours ago" in stale.note

    spec = Spec(
        model_hub="huggingface",
        model_id=repo,
        quantization="q8_0",
        model_file_name_template="qwen2.5-0.5b-instruct-q8_0.gguf",
    )
    row = CatalogFiles(cache).spec_files(spec, hub)
    assert row.stale
    assert row.complete
    assert row.note == stale.note


def test_listing_cache_without_a_copy_raises_and_not_found_is_not_masked(tmp_path: Path) -> None:
    hub = FakeHub("huggingface", {})
    cache = ListingCache(tmp_path)

    hub.error = HubUnreachable("offline")
    with pytest.raises(HubUnreachable):
        cache.get(hub, "o/r")
    hub.error = None
    with pytest.raises(ModelNotFound):
        cache.get(hub, "o/r")


def test_listing_cache_ignores_a_damaged_file(tmp_path: Path) -> None:
    repo = "Qwen/Qwen2.5-0.5B-Instruct-GGUF"
    hub = FakeHub("huggingface", {repo: hf_listing(repo)})
    cache = ListingCache(tmp_path)
    cache.get(hub, repo, "main")
    (cached,) = (tmp_path / "huggingface").glob("*.json")
    cached.write_text("{not json")

    assert cache.load("huggingface", repo, "main") is None
    assert len(cache.get(hub, repo, "main").files) == 12
    assert len(hub.calls) == 2
