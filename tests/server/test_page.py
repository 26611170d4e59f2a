"""The page at `/` as the server serves it (in-process): its files, the headers that keep it to
itself, no key needed for the files while the API behind them asks for one, and its words in
both languages. The page's behaviour in a real browser is tests/e2e/test_web_page.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from fastapi.testclient import TestClient

from desktop.api.common import JobState
from desktop.api.settings import Settings
from desktop.core.paths import AppPaths, resources_dir
from desktop.server.app import create_app
from desktop.server.page import PAGE_HEADERS
from desktop.server.routers.export import own_endpoint
from tests.fixtures.memory_keyring import MemoryKeyring

BASE = "http://127.0.0.1:9997"
KEY = "sk-page-test-key-0123456789abcdef"
WEB = resources_dir() / "web"


@pytest.fixture(autouse=True)
def fresh_keychain(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)


@pytest.fixture(params=[None, KEY], ids=["open", "with-key"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings()
    settings.downloads.hf_endpoint = "http://127.0.0.1:9"
    settings.downloads.modelscope_endpoint = "http://127.0.0.1:9"
    app = create_app(settings, AppPaths.under(tmp_path / "home"), api_key=request.param)
    with TestClient(app, base_url=BASE) as test_client:
        yield test_client


def test_the_page_and_its_files_need_no_key(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>XinDesk</title>" in page.text
    for name, kind in [
        ("page.js", "javascript"),
        ("strings.js", "javascript"),
        ("page.css", "text/css"),
    ]:
        answer = client.get(f"/ui/{name}")
        assert answer.status_code == 200, name
        assert kind in answer.headers["content-type"]
        assert f"/ui/{name}" in page.text, f"the page loads {name}"
    assert client.get("/favicon.svg").headers["content-type"] == "image/svg+xml"
    assert client.get("/ui", follow_redirects=False).headers["location"] == "/"


def test_the_api_behind_the_page_asks_for_the_key_when_there_is_one(client: TestClient) -> None:
    auth = client.get("/v1/cluster/auth").json()["auth"]
    assert client.get("/v1/models").status_code == (401 if auth else 200)


@pytest.mark.parametrize("path", ["/", "/ui/page.js", "/ui/page.css", "/favicon.svg"])
def test_every_answer_of_the_page_keeps_it_to_itself(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    for name, value in PAGE_HEADERS.items():
        assert headers[name] == value
    policy = headers["content-security-policy"]
    # No framing by other sites (clickjacking), no scripts but its own files.
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "path", ["/ui/../pyproject.toml", "/ui/%2e%2e/pyproject.toml", "/ui/nothing.js", "/ui/"]
)
def test_nothing_outside_the_page_files_is_served(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert "detail" in answer.json()


def test_the_page_is_not_part_of_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert "/favicon.svg" not in paths
    assert not any(path.startswith("/ui") for path in paths)
    assert 'href="/docs"' in client.get("/").text


def _strings(language: str) -> set[str]:
    text = (WEB / "strings.js").read_text(encoding="utf-8")
    start = text.index(f"  {language}: {{")
    end = text.index("\n  },", start)
    return set(re.findall(r"^\s{4}(\w+):", text[start:end], re.MULTILINE))


def _keys_used() -> set[str]:
    html = (WEB / "index.html").read_text(encoding="utf-8")
    script = (WEB / "page.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-t="(\w+)"', html))
    used |= set(re.findall(r'\bt\("(\w+)"', script))
    # Keys built from a state or verdict name: every value the API can send.
    used |= {f"state_{s}" for s in ("ready", "loading", "unloaded", "error")}
    used |= {f"job_{state}" for state in JobState}
    used |= {f"verdict_{v}" for v in ("fits_gpu", "partial_offload", "cpu_only", "does_not_fit")}
    return used


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_word_of_the_page_is_in_both_languages(language: str) -> None:
    missing = _keys_used() - _strings(language)
    assert not missing, f"{language} lacks {sorted(missing)}"
    assert _strings("en") == _strings("zh"), "both languages have the same keys"


def test_the_chinese_words_are_chinese() -> None:
    text = (WEB / "strings.js").read_text(encoding="utf-8")
    zh = text[text.index("  zh: {") :]
    values = re.findall(r'^\s{4}\w+:\s*"(.*)",$', zh, re.MULTILINE)
    assert len(values) == len(_strings("zh"))
    # A value holds Chinese, or nothing but names and placeholders ("CPU", "{0}（HTTP {1}）").
    names = re.compile(r"\{\d\}|\b(CPU|GPU|HTTP)\b")
    english = [
        value
        for value in values
        if not re.search(r"[\u4e00-\u9fff]", value) and re.search(r"[A-Za-z]", names.sub("", value))
    ]
    assert not english, english


def test_the_page_loads_nothing_from_another_site() -> None:
    # No file of another origin: the page works offline and on a LAN without internet.
    for name in ("index.html", "page.js", "page.css", "strings.js"):
        text = (WEB / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://(?!127\.0\.0\.1|host\.docker\.internal|\$\{)", text), name


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:9997"),
        ("0.0.0.0", "http://127.0.0.1:9997"),
        ("::", "http://[::1]:9997"),
        ("::1", "http://[::1]:9997"),
        ("192.168.1.20", "http://192.168.1.20:9997"),
        ("localhost", "http://localhost:9997"),
    ],
)
def test_the_check_reaches_this_server_where_it_listens(host: str, expected: str) -> None:
    assert own_endpoint(host, 9997) == expected
