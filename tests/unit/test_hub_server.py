"""The local test hub, checked through the real huggingface_hub and ModelScope libraries.

Every test drives the installed client library (no hand-written HTTP except where the
test is about the server's HTTP behaviour itself), so a shape the libraries stop accepting,
or a fault they stop noticing, fails here first.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.hub_server import TestHub

REPO = "acme/Tiny-Model-GGUF"
GGUF = "tiny-model-Q4_K_M.gguf"
SIZE = 3 * 1024 * 1024 + 123
MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def payload() -> bytes:
    # Not a real model: big enough for several chunks and a meaningful resume offset.
    return os.urandom(SIZE)


@pytest.fixture
def hub(test_hub: TestHub, payload: bytes) -> TestHub:
    """The test hub with one GGUF repository on both hubs and a decoy on each."""
    test_hub.add_repo(
        REPO,
        {GGUF: payload, "README.md": b"# tiny\n", "extra/notes.txt": b"notes\n"},
        downloads=40,
        likes=7,
        tags=["llama", "text-generation"],
    )
    test_hub.add_repo("acme/popular-GGUF", {"p.gguf": b"GGUF"}, downloads=900, likes=1)
    test_hub.add_repo("acme/safetensors-only", {"model.safetensors": b"{}"}, downloads=5000)
    test_hub.add_repo("other/hf-only", {"x.gguf": b"x"}, hubs=("huggingface",))
    return test_hub


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha(path: str | Path) -> str:
    return _sha(Path(path).read_bytes())


def _gets(hub: TestHub, needle: str) -> list[dict[str, str]]:
    """Headers of the GET requests whose path contains ``needle``."""
    return [
        headers for method, path, headers in hub.requests() if method == "GET" and needle in path
    ]


def _resolve_url(hub: TestHub, filename: str = GGUF) -> str:
    from huggingface_hub import hf_hub_url

    return hf_hub_url(REPO, filename, endpoint=hub.url)


def _http_get(url: str, target: Path, *, resume_size: int = 0, expected_size: int = SIZE) -> None:
    from huggingface_hub.file_download import http_get

    with target.open("ab") as fh:
        http_get(url, fh, resume_size=resume_size, expected_size=expected_size)


# ---------------------------------------------------------------------------
# The server itself
# ---------------------------------------------------------------------------


def test_ranges_and_keep_alive_on_one_connection(hub: TestHub, payload: bytes) -> None:
    host, port = hub.url.removeprefix("http://").split(":")
    path = f"/{REPO}/resolve/main/{GGUF}"
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("HEAD", path)
        head = conn.getresponse()
        head.read()
        sock = conn.sock
        assert head.status == 200
        assert head.getheader("Content-Length") == str(SIZE)
        assert head.getheader("Accept-Ranges") == "bytes"

        conn.request("GET", path, headers={"Range": "bytes=10-19"})
        part = conn.getresponse()
        assert (part.status, part.read()) == (206, payload[10:20])
        assert part.getheader("Content-Range") == f"bytes 10-19/{SIZE}"

        conn.request("GET", path, headers={"Range": "bytes=-5"})
        suffix = conn.getresponse()
        assert (suffix.status, suffix.read()) == (206, payload[-5:])

        conn.request("GET", path, headers={"Range": f"bytes={SIZE}-"})
        beyond = conn.getresponse()
        beyond.read()
        assert beyond.status == 416
        assert beyond.getheader("Content-Range") == f"bytes */{SIZE}"
        # Four exchanges, one socket: keep-alive works.
        assert conn.sock is sock
    finally:
        conn.close()
    assert hub.bytes_served(REPO, GGUF) == 15
    methods = [method for method, path, _ in hub.requests() if GGUF in path]
    assert methods == ["HEAD", "GET", "GET", "GET"]
    hub.reset_counters()
    assert hub.requests() == []
    assert hub.bytes_served(REPO, GGUF) == 0


def test_add_repo_rejects_bad_input(test_hub: TestHub) -> None:
    with pytest.raises(ValueError, match="owner/name"):
        test_hub.add_repo("no-owner", {"a": b""})
    with pytest.raises(ValueError, match="bad repository path"):
        test_hub.add_repo("a/b", {"../escape": b""})
    with pytest.raises(ValueError, match="unknown hubs"):
        test_hub.add_repo("a/b", {"a": b""}, hubs=("civitai",))


# ---------------------------------------------------------------------------
# Hugging Face: metadata
# ---------------------------------------------------------------------------


def test_hf_model_info(hub: TestHub, payload: bytes) -> None:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.url)
    info = api.model_info(REPO)
    assert info.id == REPO
    assert info.sha is not None
    assert len(info.sha) == 40
    assert (info.downloads, info.likes) == (40, 7)
    assert info.tags == ["llama", "text-generation", "gguf"]
    assert info.siblings is not None
    assert [s.rfilename for s in info.siblings] == ["README.md", "extra/notes.txt", GGUF]
    assert all(s.size is None for s in info.siblings)

    detailed = api.model_info(REPO, files_metadata=True, revision="main")
    assert detailed.sha == info.sha
    assert detailed.siblings is not None
    by_name = {s.rfilename: s for s in detailed.siblings}
    assert by_name[GGUF].size == SIZE
    lfs = by_name[GGUF].lfs
    assert lfs is not None
    assert (lfs.sha256, lfs.size) == (_sha(payload), SIZE)

    # The commit hash is a revision too: snapshot_download pins it.
    assert api.model_info(REPO, revision=info.sha).sha == info.sha

    trimmed = api.model_info(REPO, expand=["downloads", "likes"])
    assert (trimmed.downloads, trimmed.likes, trimmed.siblings) == (40, 7, None)


def test_hf_model_info_reports_gguf_metadata(
    test_hub: TestHub, tiny_models: dict[str, Path]
) -> None:
    from huggingface_hub import HfApi

    test_hub.add_repo("acme/tiny-embed-GGUF", {"tiny-embed.gguf": tiny_models["embedding"]})
    test_hub.add_repo("acme/not-a-model", {"junk.gguf": tiny_models["not_gguf"]})
    api = HfApi(endpoint=test_hub.url)
    gguf = api.model_info("acme/tiny-embed-GGUF").gguf
    assert gguf is not None
    assert gguf["architecture"] == "bert"
    assert gguf["context_length"] == 512
    assert gguf["total"] > 0
    assert api.model_info("acme/not-a-model").gguf is None


def test_hf_tree_and_paths_info(hub: TestHub, payload: bytes) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile, RepoFolder

    api = HfApi(endpoint=hub.url)
    tree = list(api.list_repo_tree(REPO, recursive=True, expand=True))
    files = {e.path: e for e in tree if isinstance(e, RepoFile)}
    folders = [e.path for e in tree if isinstance(e, RepoFolder)]
    assert sorted(files) == ["README.md", "extra/notes.txt", GGUF]
    assert folders == ["extra"]
    gguf = files[GGUF]
    assert gguf.size == SIZE
    assert gguf.lfs is not None
    assert gguf.lfs.sha256 == _sha(payload)
    assert gguf.last_commit is not None
    assert gguf.last_commit.oid == api.model_info(REPO).sha
    assert gguf.security is not None
    assert gguf.security.safe

    top = [e.path for e in api.list_repo_tree(REPO)]
    assert top == ["README.md", "extra", GGUF]
    assert [e.path for e in api.list_repo_tree(REPO, "extra")] == ["extra/notes.txt"]

    info = api.get_paths_info(REPO, [GGUF, "extra", "missing.bin"], expand=True)
    assert [type(e) for e in info] == [RepoFile, RepoFolder]
    assert isinstance(info[0], RepoFile)
    assert info[0].lfs is not None
    assert info[0].lfs.sha256 == _sha(payload)


def test_hf_list_models(hub: TestHub) -> None:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.url)
    ggufs = [m.id for m in api.list_models(filter="gguf", sort="downloads")]
    # Sorted by downloads, descending; the safetensors repo is not a GGUF repo.
    assert ggufs == ["acme/popular-GGUF", REPO, "other/hf-only"]
    assert [m.id for m in api.list_models(search="tiny-model", filter="gguf")] == [REPO]
    assert [m.id for m in api.list_models(search="GGUF", limit=1, sort="likes")] == [REPO]
    found = next(iter(api.list_models(search="tiny", full=True)))
    assert found.downloads == 40
    assert found.siblings is not None
    assert GGUF in [s.rfilename for s in found.siblings]
    assert [m.id for m in api.list_models(author="other")] == ["other/hf-only"]


def test_hf_errors_map_to_library_exceptions(hub: TestHub) -> None:
    from huggingface_hub import HfApi, get_hf_file_metadata
    from huggingface_hub.errors import (
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api = HfApi(endpoint=hub.url)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("acme/nope")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="v9")
    with pytest.raises(RemoteEntryNotFoundError):
        get_hf_file_metadata(_resolve_url(hub, "missing.gguf"))
    with pytest.raises(RemoteEntryNotFoundError):
        list(api.list_repo_tree(REPO, "no-such-dir"))
    # A ModelScope-only repository does not exist on the Hugging Face side.
    hub.add_repo("acme/ms-only", {"a.gguf": b"a"}, hubs=("modelscope",))
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("acme/ms-only")


def test_hf_file_metadata(hub: TestHub, payload: bytes) -> None:
    from huggingface_hub import HfApi, get_hf_file_metadata

    meta = get_hf_file_metadata(_resolve_url(hub))
    assert meta.etag == _sha(payload)
    assert meta.size == SIZE
    assert meta.commit_hash == HfApi(endpoint=hub.url).model_info(REPO).sha
    assert meta.xet_file_data is None


# ---------------------------------------------------------------------------
# Hugging Face: downloads and faults
# ---------------------------------------------------------------------------


def test_hf_hub_download(hub: TestHub, payload: bytes, tmp_path: Path) -> None:
    from huggingface_hub import hf_hub_download

    local = hf_hub_download(REPO, GGUF, endpoint=hub.url, local_dir=tmp_path / "local")
    assert _file_sha(local) == _sha(payload)
    cached = hf_hub_download(REPO, "extra/notes.txt", endpoint=hub.url, cache_dir=tmp_path / "c")
    assert Path(cached).read_bytes() == b"notes\n"
    assert hub.bytes_served(REPO, GGUF) == SIZE


def test_http_get_resumes_a_partial_file(hub: TestHub, payload: bytes, tmp_path: Path) -> None:
    target = tmp_path / "partial.gguf"
    have = 1_000_003
    target.write_bytes(payload[:have])
    _http_get(_resolve_url(hub), target, resume_size=have)
    assert _file_sha(target) == _sha(payload)
    assert hub.bytes_served(REPO, GGUF) == SIZE - have
    assert [h.get("range") for h in _gets(hub, GGUF)] == [f"bytes={have}-"]


@pytest.mark.timeout(30)
def test_cut_connection_makes_http_get_resume(
    hub: TestHub, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    # http_get writes DOWNLOAD_CHUNK_SIZE pieces and resumes after the last whole piece: with
    # the library's 10 MiB a cut in the first 10 MiB restarts from 0. Pin it (the app sets
    # 1 MiB) so the resume offset is known.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", MiB)
    hub.cut_at(MiB + MiB // 2, path=GGUF)
    target = tmp_path / "cut.gguf"
    _http_get(_resolve_url(hub), target)
    assert _file_sha(target) == _sha(payload)
    # httpx2 reports the short body as RemoteProtocolError; http_get resumes with a Range.
    assert [h.get("range") for h in _gets(hub, GGUF)] == [None, f"bytes={MiB}-"]
    assert hub.bytes_served(REPO, GGUF) == (MiB + MiB // 2) + (SIZE - MiB)


@pytest.mark.timeout(30)
def test_ignored_range_makes_http_get_restart(hub: TestHub, payload: bytes, tmp_path: Path) -> None:
    hub.ignore_range(path=GGUF)
    target = tmp_path / "restart.gguf"
    have = MiB
    target.write_bytes(payload[:have])
    _http_get(_resolve_url(hub), target, resume_size=have)
    # http_get saw a 200 to its Range request, truncated the file and took the whole body.
    assert _file_sha(target) == _sha(payload)
    assert hub.bytes_served(REPO, GGUF) == SIZE


@pytest.mark.timeout(30)
def test_server_error_surfaces_as_hf_http_error(hub: TestHub, tmp_path: Path) -> None:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError

    hub.fail_status(500, path=GGUF, times=2)
    with pytest.raises(HfHubHTTPError) as raised:
        _http_get(_resolve_url(hub), tmp_path / "a.gguf")
    assert raised.value.response.status_code == 500
    with pytest.raises(HfHubHTTPError):
        hf_hub_download(REPO, GGUF, endpoint=hub.url, local_dir=tmp_path / "b")
    # Both faults are spent: the next download works.
    assert Path(hf_hub_download(REPO, GGUF, endpoint=hub.url, local_dir=tmp_path / "c")).exists()


@pytest.mark.timeout(30)
def test_rate_limit_is_retried_by_http_get(hub: TestHub, payload: bytes, tmp_path: Path) -> None:
    hub.fail_status(429, path=GGUF)
    target = tmp_path / "retry.gguf"
    started = time.monotonic()
    _http_get(_resolve_url(hub), target)
    assert _file_sha(target) == _sha(payload)
    assert len(_gets(hub, GGUF)) == 2
    # Retry-After: 0, plus the one second huggingface_hub always adds.
    assert time.monotonic() - started >= 1.0


@pytest.mark.timeout(30)
def test_stall_past_the_read_timeout_makes_http_get_resume(
    hub: TestHub, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    # http_get reads both from constants on every call (see the cut test for the chunk size).
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", MiB)
    monkeypatch.setattr(constants, "HF_HUB_DOWNLOAD_TIMEOUT", 0.5)
    hub.stall(5.0, after_bytes=2 * MiB, path=GGUF)
    target = tmp_path / "stalled.gguf"
    started = time.monotonic()
    _http_get(_resolve_url(hub), target)
    assert _file_sha(target) == _sha(payload)
    assert [h.get("range") for h in _gets(hub, GGUF)] == [None, f"bytes={2 * MiB}-"]
    # It gave up on the stalled response instead of waiting the stall out.
    assert time.monotonic() - started < 4.0


@pytest.mark.timeout(30)
def test_short_stall_only_slows_the_body(hub: TestHub, payload: bytes, tmp_path: Path) -> None:
    hub.stall(0.4, after_bytes=10, path=GGUF)
    target = tmp_path / "slow.gguf"
    started = time.monotonic()
    _http_get(_resolve_url(hub), target)
    assert time.monotonic() - started >= 0.4
    assert _file_sha(target) == _sha(payload)
    assert len(_gets(hub, GGUF)) == 1


def test_wrong_hash_is_advertised_but_not_checked_by_huggingface_hub(
    hub: TestHub, payload: bytes, tmp_path: Path
) -> None:
    from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download
    from huggingface_hub.hf_api import RepoFile

    hub.wrong_hash(GGUF)
    api = HfApi(endpoint=hub.url)
    advertised = get_hf_file_metadata(_resolve_url(hub)).etag
    assert advertised is not None
    assert advertised != _sha(payload)
    siblings = api.model_info(REPO, files_metadata=True).siblings or []
    assert [s.lfs.sha256 for s in siblings if s.rfilename == GGUF and s.lfs] == [advertised]
    (entry,) = api.get_paths_info(REPO, [GGUF])
    assert isinstance(entry, RepoFile)
    assert entry.lfs is not None
    assert entry.lfs.sha256 == advertised
    # huggingface_hub does not hash what it downloads: the caller has to.
    path = hf_hub_download(REPO, GGUF, endpoint=hub.url, local_dir=tmp_path)
    assert _file_sha(path) == _sha(payload) != advertised


def test_truncated_blob_fails_the_size_check(hub: TestHub, tmp_path: Path) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_download

    hub.truncate_body(GGUF, MiB)
    meta = get_hf_file_metadata(_resolve_url(hub))
    assert meta.size == SIZE  # the metadata still describes the whole file
    with pytest.raises(OSError, match="Consistency check failed"):
        _http_get(_resolve_url(hub), tmp_path / "short.gguf")
    with pytest.raises(OSError, match="Consistency check failed"):
        hf_hub_download(REPO, GGUF, endpoint=hub.url, local_dir=tmp_path / "dl")
    assert hub.bytes_served(REPO, GGUF) == 2 * MiB


def test_hf_file_system_reads_a_gguf_header_with_ranges(
    test_hub: TestHub, gemma_gguf: Path
) -> None:
    from huggingface_hub import HfFileSystem

    test_hub.add_repo("google/gemma-3-270m-GGUF", {"gemma-3-270m-Q4_K_M.gguf": gemma_gguf})
    fs = HfFileSystem(endpoint=test_hub.url, skip_instance_cache=True)
    with fs.open("google/gemma-3-270m-GGUF/gemma-3-270m-Q4_K_M.gguf", "rb") as fh:
        header = fh.read(4096)
    with gemma_gguf.open("rb") as fh:
        assert header == fh.read(4096)
    assert header[:4] == b"GGUF"
    ranges = [h.get("range") for h in _gets(test_hub, "/resolve/")]
    assert len(ranges) == 1
    assert (ranges[0] or "").startswith("bytes=0-")
    # One readahead block, not the 253 MB file.
    served = test_hub.bytes_served("google/gemma-3-270m-GGUF", "gemma-3-270m-Q4_K_M.gguf")
    assert 4096 <= served <= 6 * MiB < gemma_gguf.stat().st_size


@pytest.mark.timeout(60)
def test_hf_env_points_a_fresh_process_at_the_hub(
    hub: TestHub, payload: bytes, tmp_path: Path
) -> None:
    script = (
        "import hashlib, sys\n"
        "from huggingface_hub import HfApi, hf_hub_download\n"
        f"print(HfApi().model_info({REPO!r}).sha)\n"
        f"path = hf_hub_download({REPO!r}, {GGUF!r}, local_dir=sys.argv[1])\n"
        "print(hashlib.sha256(open(path, 'rb').read()).hexdigest())\n"
    )
    env = {**os.environ, **hub.hf_env(), "HF_HOME": str(tmp_path / "hf-home")}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    sha, digest = done.stdout.split()
    assert len(sha) == 40
    assert digest == _sha(payload)


# ---------------------------------------------------------------------------
# ModelScope
# ---------------------------------------------------------------------------


@pytest.fixture
def ms(hub: TestHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestHub]:
    """The hub, with the ModelScope SDK's process-wide config pointed at it and at tmp_path.

    The SDK builds its default config once per process (endpoint, token, cache and config
    folders); installing a fresh one keeps the developer's ~/.modelscope out of the test.
    """
    from modelscope_hub import config as ms_config
    from modelscope_hub.config import HubConfig, set_default_config

    # Read directly: get_default_config() would build (and keep) one when there is none.
    previous = ms_config._default_config
    for name, value in hub.ms_env().items():
        monkeypatch.setenv(name, value)
    config = HubConfig(
        endpoint=hub.url,
        cache_dir=tmp_path / "ms-cache",
        config_dir=tmp_path / "ms-home",
        token="",
    )
    set_default_config(config)
    try:
        yield hub
    finally:
        set_default_config(previous)


def _ms_url(hub: TestHub, filename: str = GGUF) -> str:
    from modelscope.hub.file_download import get_file_download_url

    url: str = get_file_download_url(REPO, filename, "master", endpoint=hub.url)
    return url


def _ms_http_get(url: str, folder: Path, progress: list[int] | None = None) -> str | None:
    from modelscope.hub.callback import ProgressCallback
    from modelscope.hub.file_download import http_get_model_file

    class Recorder(ProgressCallback):  # type: ignore[misc]
        def update(self, size: int) -> None:
            if progress is not None:
                progress.append(size)

    result: str | None = http_get_model_file(
        url,
        str(folder),
        GGUF,
        SIZE,
        cookies=None,
        headers={},
        disable_tqdm=True,
        progress_callbacks=[Recorder],
    )
    return result


def test_ms_model_info_files_and_revisions(ms: TestHub, payload: bytes) -> None:
    from modelscope.hub.api import HubApi

    api = HubApi(endpoint=ms.url)
    model = api.get_model(REPO)
    assert (model["Owner"], model["Name"]) == ("acme", "Tiny-Model-GGUF")
    assert (model["Downloads"], model["Likes"]) == (40, 7)
    assert "gguf" in model["Tags"]

    files = api.get_model_files(REPO, revision="master", recursive=True)
    # The compat layer keeps only Path and Size, and lists folders too (Size 0).
    assert {f["Path"]: f["Size"] for f in files} == {
        "README.md": 7,
        "extra": 0,
        "extra/notes.txt": 6,
        GGUF: SIZE,
    }
    listed = {f.path: f for f in api.list_repo_files(REPO, "model")}
    assert listed[GGUF].sha256 == _sha(payload)
    assert listed["extra"].is_dir

    assert api.get_valid_revision_detail(REPO)["Revision"] == "master"
    assert api.get_model_branches_and_tags(REPO) == (["master"], [])
    # A repository published on "main" answers to ModelScope's "master" and to "main".
    assert len(api.get_model_files(REPO, revision="main")) == 4


def test_ms_search_and_listing(ms: TestHub) -> None:
    from modelscope.hub.api import HubApi

    api = HubApi(endpoint=ms.url)
    page = api.list_repos("model", search="gguf", sort="downloads")
    # Hugging Face-only repositories stay off ModelScope.
    assert [r.repo_id for r in page.items] == ["acme/popular-GGUF", REPO]
    assert page.total_count == 2
    assert [r.repo_id for r in api.list_repos("model", search="TINY").items] == [REPO]
    owned = api.list_models("acme", page_size=2)
    assert owned["TotalCount"] == 3
    assert len(owned["Models"]) == 2


def test_ms_errors(ms: TestHub, tmp_path: Path) -> None:
    import requests
    from modelscope.hub.api import HubApi
    from modelscope.hub.file_download import model_file_download
    from modelscope_hub.errors import NotExistError

    api = HubApi(endpoint=ms.url)
    with pytest.raises(NotExistError):
        api.get_model("acme/nope")
    with pytest.raises(NotExistError):
        api.get_model("other/hf-only")
    with pytest.raises(requests.HTTPError):
        model_file_download(
            REPO, "missing.gguf", revision="master", endpoint=ms.url, local_dir=str(tmp_path)
        )


def test_ms_http_get_model_file_resumes(ms: TestHub, payload: bytes, tmp_path: Path) -> None:
    have = 1_234_567
    (tmp_path / GGUF).write_bytes(payload[:have])
    progress: list[int] = []
    digest = _ms_http_get(_ms_url(ms), tmp_path, progress)
    assert _file_sha(tmp_path / GGUF) == _sha(payload)
    assert ms.bytes_served(REPO, GGUF) == SIZE - have
    assert [h.get("range") for h in _gets(ms, "FilePath=")] == [f"bytes={have}-{SIZE - 1}"]
    assert sum(progress) == SIZE
    # A resumed download reports no hash: the caller must hash the file itself.
    assert digest is None


def test_ms_http_get_model_file_hash_when_not_resumed(
    ms: TestHub, payload: bytes, tmp_path: Path
) -> None:
    assert _ms_http_get(_ms_url(ms), tmp_path) == _sha(payload)


@pytest.mark.timeout(30)
def test_ms_http_get_model_file_retries_a_cut(ms: TestHub, payload: bytes, tmp_path: Path) -> None:
    ms.cut_at(MiB, path=GGUF)
    _ms_http_get(_ms_url(ms), tmp_path)
    assert _file_sha(tmp_path / GGUF) == _sha(payload)
    assert [h.get("range") for h in _gets(ms, "FilePath=")] == [
        f"bytes=0-{SIZE - 1}",
        f"bytes={MiB}-{SIZE - 1}",
    ]


@pytest.mark.timeout(30)
def test_ms_http_get_model_file_corrupts_when_range_is_ignored(
    ms: TestHub, payload: bytes, tmp_path: Path
) -> None:
    """http_get_model_file appends whatever comes back: a 200 to a Range corrupts the file."""
    have = MiB
    (tmp_path / GGUF).write_bytes(payload[:have])
    ms.ignore_range(path=GGUF)
    assert _ms_http_get(_ms_url(ms), tmp_path) is None
    damaged = (tmp_path / GGUF).read_bytes()
    assert len(damaged) == have + SIZE
    assert damaged == payload[:have] + payload


def test_ms_model_file_download_and_snapshot(ms: TestHub, payload: bytes, tmp_path: Path) -> None:
    from modelscope.hub.file_download import model_file_download
    from modelscope.hub.snapshot_download import snapshot_download

    path = model_file_download(
        REPO, GGUF, revision="master", endpoint=ms.url, local_dir=str(tmp_path / "one")
    )
    assert _file_sha(path) == _sha(payload)
    # revision=None resolves the revision through the SDK's default config (see the fixture).
    cached = model_file_download(REPO, "README.md", cache_dir=str(tmp_path / "cache"))
    assert Path(cached).read_bytes() == b"# tiny\n"

    folder = snapshot_download(
        REPO, endpoint=ms.url, local_dir=str(tmp_path / "snap"), allow_patterns=["*.gguf"]
    )
    assert sorted(p.name for p in Path(folder).iterdir() if not p.name.startswith(".")) == [GGUF]
    assert _file_sha(Path(folder) / GGUF) == _sha(payload)


@pytest.mark.timeout(30)
def test_ms_model_file_download_resumes_after_a_cut_and_retries_a_500(
    ms: TestHub, payload: bytes, tmp_path: Path
) -> None:
    from modelscope.hub.file_download import model_file_download

    ms.fail_status(500, path=GGUF)
    ms.cut_at(2 * MiB, path=GGUF)
    path = model_file_download(
        REPO, GGUF, revision="master", endpoint=ms.url, local_dir=str(tmp_path)
    )
    assert _file_sha(path) == _sha(payload)
    ranges = [h.get("range") for h in _gets(ms, "FilePath=")]
    assert ranges == [None, None, f"bytes={2 * MiB}-"]
    assert ms.bytes_served(REPO, GGUF) == SIZE


@pytest.mark.timeout(30)
def test_ms_wrong_hash_and_truncation_fail_integrity_checks(
    ms: TestHub, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelscope.hub.api import HubApi
    from modelscope.hub.file_download import model_file_download
    from modelscope_hub import _download
    from modelscope_hub.errors import FileIntegrityError

    # The SDK retries a hash mismatch with 1 s, 2 s... pauses; the outcome is the same.
    monkeypatch.setattr(_download, "DOWNLOAD_INTEGRITY_RETRY_BACKOFF", 0.0)
    ms.wrong_hash(GGUF)
    listed = {f.path: f for f in HubApi(endpoint=ms.url).list_repo_files(REPO, "model")}
    assert listed[GGUF].sha256 not in (None, _sha(payload))
    with pytest.raises(FileIntegrityError):
        model_file_download(REPO, GGUF, revision="master", endpoint=ms.url, local_dir=str(tmp_path))
    assert not (tmp_path / GGUF).exists()

    ms.truncate_body("README.md", 3)
    with pytest.raises(FileIntegrityError):
        model_file_download(
            REPO, "README.md", revision="master", endpoint=ms.url, local_dir=str(tmp_path)
        )


@pytest.mark.timeout(60)
def test_ms_env_points_a_fresh_process_at_the_hub(
    hub: TestHub, payload: bytes, tmp_path: Path
) -> None:
    script = (
        "import hashlib, json, sys\n"
        "from modelscope.hub.api import HubApi\n"
        "from modelscope.hub.file_download import model_file_download\n"
        f"files = HubApi().get_model_files({REPO!r})\n"
        f"path = model_file_download({REPO!r}, {GGUF!r}, local_dir=sys.argv[1])\n"
        "digest = hashlib.sha256(open(path, 'rb').read()).hexdigest()\n"
        "print(json.dumps({'files': sorted(f['Path'] for f in files), 'sha': digest}))\n"
    )
    env = {
        **os.environ,
        **hub.ms_env(),
        "MODELSCOPE_CACHE": str(tmp_path / "cache"),
        "MODELSCOPE_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "files": ["README.md", "extra", "extra/notes.txt", GGUF],
        "sha": _sha(payload),
    }
