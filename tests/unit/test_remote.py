"""Talking to the hubs: references people paste, recorded answers replayed through the real
libraries, and the real libraries against the local test hub (tests/fixtures/hub_server.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop.api.settings import DownloadSettings
from desktop.core.errors import HubError, HubUnreachable, InvalidRequest, ModelNotFound
from desktop.core.hub import (
    HubName,
    HuggingFaceHub,
    ModelScopeHub,
    RemoteFile,
    RemoteHub,
    RepoSummary,
    first_reachable,
    hub_order,
    hubs_for,
    open_hub,
    parse_repo_reference,
)
from tests.fixtures.hub_server import TestHub

LISTINGS = Path(__file__).resolve().parents[1] / "fixtures" / "listings"
UNREACHABLE = "http://127.0.0.1:1"  # nothing listens on port 1: connection refused at once


def recorded(name: str) -> Any:
    return json.loads((LISTINGS / name).read_text())


# -- references ----------------------------------------------------------------------------------


HF, MS = "huggingface", "modelscope"
LLAMA = "bartowski/Llama-3.2-1B-Instruct-GGUF"
Q72 = "bartowski/Qwen2.5-72B-Instruct-GGUF"
Q72_PART = "Qwen2.5-72B-Instruct-Q8_0/Qwen2.5-72B-Instruct-Q8_0-00001-of-00002.gguf"
QWEN7 = "qwen/Qwen2.5-7B-Instruct-GGUF"
QWEN7_PART = "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bartowski/Qwen2.5-7B-Instruct-GGUF", (None, "bartowski/Qwen2.5-7B-Instruct-GGUF", None)),
        ("  Qwen/Qwen2.5-0.5B-Instruct-GGUF\n", (None, "Qwen/Qwen2.5-0.5B-Instruct-GGUF", None)),
        ("unsloth/gemma-3-4b-it-GGUF:Q4_K_M", (None, "unsloth/gemma-3-4b-it-GGUF", "Q4_K_M")),
        (
            "unsloth/gemma-3-4b-it-GGUF:UD-Q4_K_XL",
            (None, "unsloth/gemma-3-4b-it-GGUF", "UD-Q4_K_XL"),
        ),
        ("owner/repo:latest", (None, "owner/repo", None)),
        (f"hf.co/{LLAMA}", (HF, LLAMA, None)),
        (f"hf.co/{LLAMA}:IQ4_XS", (HF, LLAMA, "IQ4_XS")),
        ("huggingface.co/owner/repo", (HF, "owner/repo", None)),
        ("https://huggingface.co/owner/repo", (HF, "owner/repo", None)),
        ("https://huggingface.co/owner/repo/", (HF, "owner/repo", None)),
        ("https://huggingface.co/owner/repo/tree/main", (HF, "owner/repo", None)),
        ("https://huggingface.co/owner/repo/blob/main/x.gguf", (HF, "owner/repo", "x.gguf")),
        (
            f"https://huggingface.co/{Q72}/resolve/main/{Q72_PART}?download=true",
            (HF, Q72, Q72_PART),
        ),
        ("https://hf-mirror.com/owner/repo", (HF, "owner/repo", None)),
        ("HTTPS://HF-MIRROR.COM/owner/repo/blob/main/a%20b.gguf", (HF, "owner/repo", "a b.gguf")),
        ("https://www.modelscope.cn/models/owner/repo/files", (MS, "owner/repo", None)),
        ("https://modelscope.cn/models/owner/repo/summary", (MS, "owner/repo", None)),
        ("modelscope.cn/models/owner/repo", (MS, "owner/repo", None)),
        (
            "modelscope.cn/Qwen/Qwen2.5-3B-Instruct-GGUF:q4_k_m",
            (MS, "Qwen/Qwen2.5-3B-Instruct-GGUF", "q4_k_m"),
        ),
        (
            f"https://www.modelscope.cn/models/{QWEN7}/file/view/master/{QWEN7_PART}?status=2",
            (MS, QWEN7, QWEN7_PART),
        ),
        ("https://modelscope.cn/models/o/r/resolve/master/sub/x.gguf", (MS, "o/r", "sub/x.gguf")),
        ("https://www.modelscope.ai/models/o/r", (MS, "o/r", None)),
    ],
)
def test_parse_repo_reference(text: str, expected: tuple[str | None, str, str | None]) -> None:
    assert parse_repo_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "qwen",
        "owner/repo/extra",
        "/repo",
        "owner/",
        "owner/re po",
        "owner/repo:",
        "owner/repo:Q4 K M",
        "own..er/repo",
        "C:\\models\\x.gguf",
        "C:/models/x.gguf",
        "ftp://huggingface.co/owner/repo",
        "https://example.com/owner/repo",
        "example.com/owner/repo",
        "https://huggingface.co/owner",
        "https://huggingface.co/datasets/owner/repo",
        "https://huggingface.co/spaces/owner/repo",
        "https://www.modelscope.cn/models/owner",
        "https://www.modelscope.cn/datasets/owner/repo",
        "https://",
    ],
)
def test_parse_repo_reference_rejects_garbage_clearly(text: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        parse_repo_reference(text)
    assert str(error.value)  # a message a person can act on, never an empty one


# -- choosing hubs -------------------------------------------------------------------------------


def test_hubs_for_each_source() -> None:
    tokens = {"huggingface": "hf_secret", "modelscope": None}
    auto = hubs_for(
        DownloadSettings(hf_endpoint="https://hf-mirror.com/", modelscope_endpoint=None),
        lambda hub: tokens[hub],
    )
    assert [hub.name for hub in auto] == ["huggingface", "modelscope"]
    assert isinstance(auto[0], HuggingFaceHub)
    assert auto[0].endpoint == "https://hf-mirror.com"

    only_hf = hubs_for(DownloadSettings(source="huggingface"))
    assert [hub.name for hub in only_hf] == ["huggingface"]

    only_ms = hubs_for(
        DownloadSettings(source="modelscope", modelscope_endpoint="https://www.modelscope.cn")
    )
    assert [hub.name for hub in only_ms] == ["modelscope"]
    assert isinstance(only_ms[0], ModelScopeHub)
    assert only_ms[0].endpoint == "https://www.modelscope.cn"


def test_one_hub_order_for_every_source() -> None:
    # The same policy picks the hubs of listings and downloads (hubs_for above), of catalog
    # downloads and of the spec a launch prefers.
    assert hub_order("auto") == hub_order(None) == hub_order("") == ("huggingface", "modelscope")
    assert hub_order("huggingface") == ("huggingface",)
    assert hub_order("modelscope") == ("modelscope",)
    with pytest.raises(InvalidRequest, match="csghub"):
        hub_order("csghub")


def test_open_hub_defaults_to_the_libraries_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("MODELSCOPE_ENDPOINT", raising=False)
    monkeypatch.delenv("MODELSCOPE_DOMAIN", raising=False)
    hf = open_hub("huggingface", endpoint=None)
    ms = open_hub("modelscope", endpoint=None)
    assert isinstance(hf, HuggingFaceHub)
    assert hf.endpoint == constants.ENDPOINT
    assert isinstance(ms, ModelScopeHub)
    assert ms.endpoint == "https://modelscope.cn"
    # A bare domain, as people type it in the settings, gets a scheme.
    assert ModelScopeHub("www.modelscope.cn").endpoint == "https://www.modelscope.cn"


def test_ms_file_url_is_the_sdks_download_url() -> None:
    hub = open_hub("modelscope", endpoint="https://www.modelscope.cn")
    url = hub.file_url("qwen/Qwen2.5-7B-Instruct-GGUF", "sub/x-q4_k_m.gguf")
    assert url == (
        "https://www.modelscope.cn/api/v1/models/qwen/Qwen2.5-7B-Instruct-GGUF/repo"
        "?Revision=master&FilePath=sub%2Fx-q4_k_m.gguf"
    )


def test_hf_file_url_on_a_mirror() -> None:
    hub = open_hub("huggingface", endpoint="https://hf-mirror.com")
    url = hub.file_url("o/r", "Q8_0/m-Q8_0-00001-of-00002.gguf", "abc123")
    assert url == "https://hf-mirror.com/o/r/resolve/abc123/Q8_0/m-Q8_0-00001-of-00002.gguf"


# -- recorded answers through huggingface_hub ----------------------------------------------------

Handler = Callable[["httpx2.Request"], "httpx2.Response"]  # noqa: F821


@pytest.fixture
def hf_replay() -> Iterator[Callable[[Handler], None]]:
    """Route huggingface_hub's HTTP client to a handler (its documented client-factory hook)."""
    import httpx2
    from huggingface_hub import set_client_factory

    # The library's own default, to put back afterwards (it has no public name).
    from huggingface_hub.utils._http import default_client_factory

    def install(handler: Handler) -> None:
        def only_ours(request: httpx2.Request) -> httpx2.Response:
            # The library also makes calls of its own (e.g. to huggingface.co for its agent
            # registry, cached for the whole process); those must not get our recorded answers.
            if request.url.host != "hf.test":
                return httpx2.Response(404)
            return handler(request)

        set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(only_ours)))

    yield install
    set_client_factory(default_client_factory)


def test_hf_list_files_from_a_recorded_tree(hf_replay: Callable[[Handler], None]) -> None:
    import httpx2

    tree = recorded("hf-tree-bartowski__Qwen2.5-72B-Instruct-GGUF.json")
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=tree)

    hf_replay(handler)
    files = HuggingFaceHub("https://hf.test").list_files("bartowski/Qwen2.5-72B-Instruct-GGUF")

    assert seen[0].url.path == "/api/models/bartowski/Qwen2.5-72B-Instruct-GGUF/tree/main"
    assert seen[0].url.params["recursive"].lower() == "true"
    assert len(files) == len([e for e in tree if e["type"] == "file"])  # folders left out
    by_path = {f.path: f for f in files}
    q8 = "Qwen2.5-72B-Instruct-Q8_0/Qwen2.5-72B-Instruct-Q8_0-00001-of-00002.gguf"
    entry = next(e for e in tree if e["path"] == q8)
    assert by_path[q8] == RemoteFile(q8, entry["size"], entry["lfs"]["oid"])
    assert by_path["README.md"].sha256 is None  # in git, not LFS: only a sha1 is known


def test_hf_search_from_a_recorded_answer(hf_replay: Callable[[Handler], None]) -> None:
    import httpx2

    answer = recorded("hf-models-search-qwen2.5-7b-instruct.json")
    # A mirror that ignores the gguf filter could add this one; it has nothing to download.
    answer.append(
        {
            "_id": "0" * 24,
            "id": "Qwen/Qwen2.5-7B-Instruct",
            "downloads": 10**7,
            "likes": 900,
            "tags": ["transformers", "safetensors"],
            "siblings": [{"rfilename": "model.safetensors"}],
        }
    )
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=answer)

    hf_replay(handler)
    hits = HuggingFaceHub("https://hf.test").search("qwen2.5-7b-instruct", limit=10)

    params = seen[0].url.params
    assert seen[0].url.path == "/api/models"
    assert params["search"] == "qwen2.5-7b-instruct"
    assert params.get_list("filter") == ["gguf"]
    assert params["sort"] == "downloads"
    assert params["limit"] == "10"
    assert "siblings" in params.get_list("expand")
    assert [h.repo_id for h in hits] == [
        "Qwen/Qwen2.5-7B-Instruct-GGUF",
        "bartowski/Qwen2.5-7B-Instruct-GGUF",
        "lmstudio-community/Qwen2.5-7B-Instruct-GGUF",
    ]
    first = hits[0]
    assert first == RepoSummary(
        hub="huggingface",
        repo_id="Qwen/Qwen2.5-7B-Instruct-GGUF",
        downloads=61_412,
        likes=118,
        updated="2024-09-20T08:06:52+00:00",
        tags=tuple(answer[0]["tags"]),
        gguf_files=18,  # 2 single files and 16 split parts
    )


@pytest.mark.parametrize(
    ("status", "headers", "error", "words"),
    [
        (404, {"X-Error-Code": "RepoNotFound"}, ModelNotFound, "has no model repository o/r"),
        (401, {"X-Error-Message": "Invalid username or password."}, ModelNotFound, "o/r"),
        (404, {}, ModelNotFound, "has no model repository o/r"),  # a mirror without the header
        (404, {"X-Error-Code": "RevisionNotFound"}, ModelNotFound, "no revision v9"),
        (403, {"X-Error-Code": "GatedRepo"}, HubError, "gated"),
        (403, {"X-Error-Message": "nope"}, HubError, "refused access"),
        (500, {}, HubError, "HTTP 500"),
    ],
)
def test_hf_errors_become_ours(
    hf_replay: Callable[[Handler], None],
    status: int,
    headers: dict[str, str],
    error: type[Exception],
    words: str,
) -> None:
    import httpx2

    hf_replay(lambda request: httpx2.Response(status, headers=headers, json={"error": "x"}))
    hub = HuggingFaceHub("https://hf.test")

    with pytest.raises(error, match=words) as caught:
        hub.resolve_revision("o/r", "v9")  # one request, no library retries
    assert type(caught.value) is error
    assert "hf.test" in str(caught.value)


def test_hf_connection_failure_is_unreachable(hf_replay: Callable[[Handler], None]) -> None:
    import httpx2

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("[Errno 111] Connection refused", request=request)

    hf_replay(refuse)
    with pytest.raises(HubUnreachable, match=r"hf\.test.*Connection refused.*mirror"):
        HuggingFaceHub("https://hf.test").resolve_revision("o/r")


def test_hf_invalid_repo_id_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        HuggingFaceHub("https://hf.test").file_url("o/r/x", "a.gguf")


# -- recorded answers through modelscope_hub -----------------------------------------------------


@pytest.fixture
def ms_api() -> Any:
    from modelscope_hub import HubApi, HubConfig

    return HubApi(HubConfig(endpoint="https://www.modelscope.cn", token=""))


def test_ms_list_files_from_a_recorded_listing(
    ms_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = recorded("ms-files-unsloth__Qwen3-30B-A3B-GGUF.json")
    asked: dict[str, Any] = {}

    def list_repo_files(**kwargs: Any) -> list[dict[str, Any]]:
        asked.update(kwargs)
        return list(raw["Data"]["Files"])

    # The SDK's own client method, so its normalisation of the raw entries runs as it does live.
    monkeypatch.setattr(ms_api.legacy, "list_repo_files", list_repo_files)
    hub = ModelScopeHub("https://www.modelscope.cn", api=ms_api)
    files = hub.list_files("unsloth/Qwen3-30B-A3B-GGUF")

    assert asked["repo_id"] == "unsloth/Qwen3-30B-A3B-GGUF"
    assert asked["revision"] == "master"
    assert asked["recursive"] is True
    blobs = [e for e in raw["Data"]["Files"] if e["Type"] == "blob"]
    assert files == [RemoteFile(e["Path"], e["Size"], e["Sha256"]) for e in blobs]
    assert "BF16" not in {f.path for f in files}  # the folder entry


def test_ms_search_from_a_recorded_answer(ms_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answer = recorded("ms-models-search-qwen2.5-7b-instruct.json")["data"]
    answer["models"].append(
        {"id": "Qwen/Qwen2.5-7B-Instruct", "downloads": 10**6, "likes": 500, "tags": ["pytorch"]}
    )
    asked: dict[str, Any] = {}

    def list_models(**kwargs: Any) -> dict[str, Any]:
        asked.update(kwargs)
        return answer

    monkeypatch.setattr(ms_api.openapi, "list_models", list_models)
    hits = ModelScopeHub("https://www.modelscope.cn", api=ms_api).search("Qwen2.5-7B-Instruct")

    assert asked["search"] == "Qwen2.5-7B-Instruct"
    assert asked["filters"] == {"library": "gguf"}
    assert [h.repo_id for h in hits] == [
        "Qwen/Qwen2.5-7B-Instruct-GGUF",
        "bartowski/Qwen2.5-7B-Instruct-GGUF",
        "okwinds/Qwen2.5-7B-Instruct-Int4-GGUF",
    ]
    assert hits[0].downloads == 95_113
    assert hits[0].likes == 61
    assert hits[0].updated is not None
    assert hits[0].updated.startswith("2024-09-20T08:10:02")
    assert hits[0].gguf_files is None
    assert hits[0].hub == "modelscope"


@pytest.mark.parametrize(
    ("raised", "error", "words"),
    [
        ("NotExistError", ModelNotFound, "has no model repository o/r"),
        ("NetworkError", HubUnreachable, "Cannot reach ModelScope"),
        ("RequestTimeoutError", HubUnreachable, "Cannot reach ModelScope"),
        ("ServerError", HubError, "ModelScope"),
        ("PermissionDeniedError", HubError, "refused access"),
    ],
)
def test_ms_errors_become_ours(
    ms_api: Any,
    monkeypatch: pytest.MonkeyPatch,
    raised: str,
    error: type[Exception],
    words: str,
) -> None:
    from modelscope_hub import errors

    def fail(**kwargs: Any) -> list[dict[str, Any]]:
        raise getattr(errors, raised)("boom")

    monkeypatch.setattr(ms_api.legacy, "list_repo_files", fail)
    with pytest.raises(error, match=words) as caught:
        ModelScopeHub("https://www.modelscope.cn", api=ms_api).list_files("o/r")
    assert type(caught.value) is error


# -- live: the real libraries against the local test hub -----------------------------------------

HUBS: tuple[HubName, ...] = ("huggingface", "modelscope")


def gguf_bytes(tag: str, size: int) -> bytes:
    return b"GGUF" + hashlib.sha256(tag.encode()).digest() * (size // 32 + 1)


@pytest.fixture
def published(test_hub: TestHub) -> dict[str, bytes]:
    """A GGUF repo with split parts in a folder and a projector, and a repo without GGUF."""
    files = {
        "tiny-Q4_K_M.gguf": gguf_bytes("q4", 3000),
        "Q8_0/tiny-Q8_0-00001-of-00002.gguf": gguf_bytes("q8a", 2000),
        "Q8_0/tiny-Q8_0-00002-of-00002.gguf": gguf_bytes("q8b", 1000),
        "mmproj-tiny-f16.gguf": gguf_bytes("mm", 500),
        "README.md": b"# tiny\n",
    }
    test_hub.add_repo("acme/tiny-chat-GGUF", dict(files), downloads=42, likes=3)
    test_hub.add_repo(
        "acme/tiny-chat", {"model.safetensors": b"\0" * 64, "README.md": b"x"}, downloads=900
    )
    return files


@pytest.mark.parametrize("name", HUBS)
def test_live_list_files_match_the_served_bytes(
    test_hub: TestHub, published: dict[str, bytes], name: HubName
) -> None:
    hub = open_hub(name, endpoint=test_hub.url)

    files = {f.path: f for f in hub.list_files("acme/tiny-chat-GGUF")}

    assert set(files) == set(published)
    for path, content in published.items():
        assert files[path].size == len(content)
        if path.endswith(".gguf"):
            assert files[path].sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize("name", HUBS)
def test_live_file_url_and_revision_serve_the_file(
    test_hub: TestHub, published: dict[str, bytes], name: HubName
) -> None:
    hub = open_hub(name, endpoint=test_hub.url)
    path = "Q8_0/tiny-Q8_0-00002-of-00002.gguf"

    revision = hub.resolve_revision("acme/tiny-chat-GGUF")
    response = httpx.get(hub.file_url("acme/tiny-chat-GGUF", path, revision))

    assert response.status_code == 200
    assert response.content == published[path]
    if name == "huggingface":
        assert len(revision) == 40  # a commit, so a download cannot change under us
        assert hub.resolve_revision("acme/tiny-chat-GGUF", "main") == revision
    else:
        assert revision == "master"
        assert hub.resolve_revision("acme/tiny-chat-GGUF", "master") == "master"


@pytest.mark.parametrize("name", HUBS)
def test_live_search_finds_gguf_repos_only(
    test_hub: TestHub, published: dict[str, bytes], name: HubName
) -> None:
    hub = open_hub(name, endpoint=test_hub.url)

    hits = hub.search("tiny-chat")

    assert [h.repo_id for h in hits] == ["acme/tiny-chat-GGUF"]
    assert hits[0].hub == name
    assert hits[0].downloads == 42
    assert hits[0].likes == 3
    assert "gguf" in hits[0].tags
    assert hits[0].gguf_files == (4 if name == "huggingface" else None)
    assert hub.search("no-such-model") == []


@pytest.mark.parametrize("name", HUBS)
def test_live_unknown_repo_and_revision(
    test_hub: TestHub, published: dict[str, bytes], name: HubName
) -> None:
    hub = open_hub(name, endpoint=test_hub.url)
    title = {"huggingface": "Hugging Face", "modelscope": "ModelScope"}[name]

    with pytest.raises(ModelNotFound, match=f"{title}.*acme/missing"):
        hub.list_files("acme/missing")
    with pytest.raises(ModelNotFound, match="acme/missing"):
        hub.resolve_revision("acme/missing")
    with pytest.raises(ModelNotFound, match="v404"):
        hub.list_files("acme/tiny-chat-GGUF", "v404")
    with pytest.raises(ModelNotFound, match="v404"):
        hub.resolve_revision("acme/tiny-chat-GGUF", "v404")


def test_live_auto_falls_back_from_an_unreachable_hugging_face(
    test_hub: TestHub, published: dict[str, bytes]
) -> None:
    settings = DownloadSettings(hf_endpoint=UNREACHABLE, modelscope_endpoint=test_hub.url)
    asked: list[str] = []

    def listing(hub: RemoteHub) -> tuple[str, list[RemoteFile]]:
        asked.append(hub.name)
        return hub.name, hub.list_files("acme/tiny-chat-GGUF")

    name, files = first_reachable(hubs_for(settings), listing)

    assert name == "modelscope"
    assert asked == ["modelscope"]  # HF failed its probe
    assert {f.path for f in files} == set(published)


def test_live_auto_does_not_fall_back_on_not_found(test_hub: TestHub) -> None:
    # Only ModelScope has this repo; a reachable Hugging Face saying "not found" must be heard.
    test_hub.add_repo("acme/ms-only-GGUF", {"m-Q4_K_M.gguf": b"GGUF"}, hubs=("modelscope",))
    settings = DownloadSettings(hf_endpoint=test_hub.url, modelscope_endpoint=test_hub.url)
    asked: list[str] = []

    def listing(hub: RemoteHub) -> list[RemoteFile]:
        asked.append(hub.name)
        return hub.list_files("acme/ms-only-GGUF")

    with pytest.raises(ModelNotFound, match="Hugging Face"):
        first_reachable(hubs_for(settings), listing)
    assert asked == ["huggingface"]


def test_live_nothing_reachable_names_every_hub() -> None:
    settings = DownloadSettings(hf_endpoint=UNREACHABLE, modelscope_endpoint="http://127.0.0.1:9")

    with pytest.raises(HubUnreachable) as error:
        first_reachable(hubs_for(settings), lambda hub: hub.search("x"))

    message = str(error.value)
    assert UNREACHABLE in message
    assert "127.0.0.1:9" in message
    assert "hf-mirror.com" in message  # what to do about it


def test_first_reachable_without_hubs_and_with_hubs_that_cannot_probe() -> None:
    with pytest.raises(HubError, match="No model hub"):
        first_reachable([], lambda hub: None)

    class Plain:
        """A RemoteHub without `probe` (e.g. a test fake): used without probing."""

        name: HubName = "huggingface"

        def search(self, query: str, *, limit: int = 30) -> list[RepoSummary]:
            raise HubUnreachable("down")

        def list_files(self, repo_id: str, revision: str | None = None) -> list[RemoteFile]:
            return []

        def file_url(self, repo_id: str, path: str, revision: str | None = None) -> str:
            return ""

        def resolve_revision(self, repo_id: str, revision: str | None = None) -> str:
            return "main"

    class Second(Plain):
        name: HubName = "modelscope"

        def search(self, query: str, *, limit: int = 30) -> list[RepoSummary]:
            return []

    assert first_reachable([Plain(), Second()], lambda hub: (hub.name, hub.search("x"))) == (
        "modelscope",
        [],
    )
