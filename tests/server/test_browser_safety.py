"""Web pages in the user's browser cannot drive the server (in-process app, headers exactly as
browsers send them), and the API key resists guessing: the guard in `desktop/server/guards.py`,
the throttle in `desktop/server/throttle.py`, the key rules and the address settings."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from desktop.api.settings import Settings
from desktop.core.errors import ConfigError, InvalidSettings
from desktop.core.paths import AppPaths
from desktop.core.secrets import MIN_LAN_KEY_LENGTH, generate_api_key, lan_key_problem
from desktop.core.settings import SettingsStore, load_settings, save_settings
from desktop.server.app import create_app
from desktop.server.deps import ServerState
from desktop.server.guards import BrowserGuard, HostAllowlist, host_of, is_json
from desktop.server.throttle import FREE_FAILURES, MAX_WAIT_S, WINDOW_S, WrongKeyThrottle
from tests.fixtures.memory_keyring import MemoryKeyring

BASE = "http://127.0.0.1:9997"
EVIL = "https://evil.example"
KEY = "sk-browser-safety-key-0123456789"

# What a page on evil.example sends with fetch(..., {method: "POST", mode: "no-cors", body})
# and with a form it submits: the requests a browser makes without asking the server first.
NO_CORS_FETCH = {
    "Origin": EVIL,
    "Content-Type": "text/plain;charset=UTF-8",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Dest": "empty",
}
FORM_POST = {
    "Origin": EVIL,
    "Content-Type": "application/x-www-form-urlencoded",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "iframe",
}

MakeClient = Callable[..., TestClient]


@pytest.fixture(autouse=True)
def fresh_keychain(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    return backend


@pytest.fixture(autouse=True)
def restore_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A saved proxy setting sets this process's proxy variables; they are put back after."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "placeholder")  # remembers whether it was set
        monkeypatch.delenv(name)


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.under(tmp_path / "home")


@pytest.fixture
def make_client(paths: AppPaths) -> Iterator[MakeClient]:
    """Apps on 127.0.0.1:9997 (lifespan included), stopped at the end of the test."""
    started: list[TestClient] = []

    def make(
        *,
        api_key: str | None = None,
        address: str = "127.0.0.1:9997",
        settings: Settings | None = None,
    ) -> TestClient:
        settings = settings or Settings()
        # Port 9: nothing listens, so no test reaches a real hub.
        settings.downloads.hf_endpoint = "http://127.0.0.1:9"
        settings.downloads.modelscope_endpoint = "http://127.0.0.1:9"
        app = create_app(settings, paths, api_key=api_key, address=address)
        client = TestClient(app, base_url=BASE)
        client.__enter__()
        started.append(client)
        return client

    yield make
    for client in reversed(started):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


def state_of(client: TestClient) -> ServerState:
    app = client.app
    assert isinstance(app, FastAPI)
    state: ServerState = app.state.xd
    return state


def launch_body(model: Path) -> str:
    return json.dumps(
        {
            "model_uid": "planted",
            "model_name": "planted",
            "model_engine": "llama.cpp",
            "model_format": "ggufv2",
            "model_path": str(model),
        }
    )


# -- the attacks of the report ------------------------------------------------------------------


def test_a_page_cannot_launch_a_model(
    client: TestClient, tiny_models: dict[str, Path], paths: AppPaths
) -> None:
    body = launch_body(tiny_models["embedding"])
    for headers in (NO_CORS_FETCH, FORM_POST):
        refused = client.post("/v1/models", content=body, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "server.cors_origins" in refused.json()["detail"]
    # Without Origin (a browser never leaves it out of a POST, but a body in a simple type
    # is refused on its own too): 415, saying what to send.
    for content_type in (
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=----x",
    ):
        refused = client.post("/v1/models", content=body, headers={"Content-Type": content_type})
        assert refused.status_code == 415, refused.text
        assert "Content-Type: application/json" in refused.json()["detail"]
    # No type at all, with a body (fetch with a Blob body sends none): refused as well.
    assert client.post("/v1/models", content=body.encode()).status_code == 415
    assert client.get("/v1/models").json() == {"object": "list", "data": []}


def test_a_page_cannot_turn_auth_on_or_change_settings(client: TestClient, paths: AppPaths) -> None:
    # The empty cross-site POST that used to lock the user out.
    for headers in (
        {**FORM_POST, "Content-Length": "0"},
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
        # A browser that leaves Origin out still says where the request comes from.
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
        {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ):
        assert client.post("/v1/xindesk/api-key", headers=headers).status_code == 403
    assert state_of(client).api_key is None
    assert client.get("/v1/xindesk/api-key").json()["enabled"] is False

    patch = json.dumps({"server": {"cors_origins": [EVIL]}, "ui": {"language": "zh_CN"}})
    refused = client.patch("/v1/xindesk/settings", content=patch, headers=NO_CORS_FETCH)
    assert refused.status_code == 403
    # Even with the JSON type (which a page can only send after a preflight it would fail).
    refused = client.patch(
        "/v1/xindesk/settings",
        content=patch,
        headers={
            "Origin": EVIL,
            "Content-Type": "application/json",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert refused.status_code == 403
    assert state_of(client).settings.server.cors_origins == []
    assert not paths.settings_file.exists()


def test_programs_without_origin_are_not_affected(client: TestClient) -> None:
    # curl, the SDKs, FastGPT's server: no Origin, no Sec-Fetch-*, a JSON body or none.
    answer = client.patch(
        "/v1/xindesk/settings",
        content=json.dumps({"ui": {"language": "zh_CN"}}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert answer.status_code == 200, answer.text
    created = client.post("/v1/xindesk/api-key")
    assert created.status_code == 200
    key = created.json()["api_key"]
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    # The user typing an address into the browser (no Origin, Sec-Fetch-Site: none).
    typed = client.get("/status", headers={"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"})
    assert typed.status_code == 200


def test_the_server_own_pages_may_change_things(client: TestClient) -> None:
    # /docs ("Try it out") is this origin: the browser sends Origin on its POSTs.
    same = {"Origin": BASE, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
    answer = client.patch("/v1/xindesk/settings", json={"ui": {"language": "en"}}, headers=same)
    assert answer.status_code == 200, answer.text
    # The same host on another port, or another loopback name, is another origin.
    for other in ("http://127.0.0.1:3000", "http://localhost:9997", "https://127.0.0.1:9997"):
        refused = client.patch(
            "/v1/xindesk/settings",
            json={"ui": {"language": "en"}},
            headers={"Origin": other, "Sec-Fetch-Site": "same-site"},
        )
        assert refused.status_code == 403, other


# -- Host: DNS rebinding ------------------------------------------------------------------------


def test_dns_rebinding_names_are_refused(client: TestClient) -> None:
    # A page on rebind.evil.example whose name now points at 127.0.0.1: same origin for the
    # browser, so it may read answers; only the Host gives it away.
    for method, path in (
        ("GET", "/v1/models"),
        ("GET", "/v1/xindesk/settings"),
        ("GET", "/status"),
    ):
        refused = client.request(method, path, headers={"Host": "rebind.evil.example:9997"})
        assert refused.status_code == 400
        detail = refused.json()["detail"]
        assert "rebind.evil.example" in detail
        assert "server.allowed_hosts" in detail
    refused = client.patch(
        "/v1/xindesk/settings",
        json={"ui": {"language": "zh_CN"}},
        headers={"Host": "rebind.evil.example:9997", "Origin": "http://rebind.evil.example:9997"},
    )
    assert refused.status_code == 400
    assert state_of(client).settings.ui.language == "system"
    for host in ("127.0.0.1:9997", "localhost:9997", "[::1]:9997", "app.localhost", "LOCALHOST."):
        assert client.get("/status", headers={"Host": host}).status_code == 200, host
    # How Docker Desktop containers (FastGPT) reach this computer.
    assert client.get("/status", headers={"Host": "host.docker.internal:9997"}).status_code == 200
    # An address of this machine's LAN is no name of a server that listens on loopback only.
    assert client.get("/status", headers={"Host": "192.168.1.5:9997"}).status_code == 400


def test_names_the_user_adds_apply_at_once(client: TestClient) -> None:
    assert client.get("/status", headers={"Host": "mypc.lan"}).status_code == 400
    answer = client.patch(
        "/v1/xindesk/settings", json={"server": {"allowed_hosts": ["MyPC.lan", "*.home.arpa"]}}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["settings"]["server"]["allowed_hosts"] == ["mypc.lan", "*.home.arpa"]
    assert answer.json()["restart_required"] == []
    for host in ("mypc.lan:9997", "nas.home.arpa"):
        assert client.get("/status", headers={"Host": host}).status_code == 200, host
    assert client.get("/status", headers={"Host": "home.arpa.evil.example"}).status_code == 400


def test_host_allowlist_beyond_loopback_knows_this_machine() -> None:
    asked: list[float] = []
    now = [0.0]
    machine = {"192.168.1.5", "fd00::5", "mypc", "mypc.local"}

    def this_machine() -> set[str]:
        asked.append(now[0])
        return set(machine)

    lan = HostAllowlist("0.0.0.0", this_machine=this_machine, clock=lambda: now[0])
    assert lan.allows("192.168.1.5")
    assert lan.allows("fd00::5")
    assert lan.allows("mypc.local")
    assert lan.allows("0.0.0.0"), "the address it was started on"
    assert not lan.allows("evil.example")
    assert len(asked) == 1, "a miss right after a look does not look again"
    # The machine moved to another network: a miss looks again, at most every few seconds.
    machine.add("10.0.0.7")
    assert not lan.allows("10.0.0.7")
    now[0] = 11.0
    assert lan.allows("10.0.0.7")
    assert len(asked) == 2

    local = HostAllowlist("127.0.0.1", this_machine=this_machine)
    assert not local.allows("192.168.1.5")
    for name in ("localhost", "::1", "127.0.0.2"):
        assert local.allows(name)
    bound = HostAllowlist("192.168.1.5", this_machine=lambda: set())
    assert bound.allows("192.168.1.5")


def test_without_a_host_an_origin_is_never_this_server() -> None:
    # HTTP/1.0 may leave Host out; then no Origin, even an unreadable one, is "same origin".
    reached: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])

    guard = BrowserGuard(app, listen_host="127.0.0.1", settings=Settings)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    def scope(origin: bytes | None) -> Scope:
        headers = [(b"origin", origin)] if origin is not None else []
        return {
            "type": "http",
            "method": "POST",
            "path": "/v1/xindesk/api-key",
            "scheme": "http",
            "headers": headers,
            "query_string": b"",
        }

    for origin in (b"null", EVIL.encode()):
        asyncio.run(guard(scope(origin), receive, send))
        assert sent[0]["status"] == 403
        sent.clear()
    asyncio.run(guard(scope(None), receive, send))
    assert reached == ["/v1/xindesk/api-key"], "no Origin: a program, not a page"


def test_host_header_parsing() -> None:
    assert host_of("LocalHost:9997") == "localhost"
    assert host_of("[::1]:9997") == "::1"
    assert host_of("[::1]") == "::1"
    assert host_of("example.com.") == "example.com"
    assert host_of("example.com:port") is None
    assert host_of("[::1") is None
    assert host_of("a b:80") is None
    assert is_json("application/json; charset=utf-8")
    assert is_json("application/vnd.api+json")
    assert not is_json("text/plain;charset=UTF-8")
    assert not is_json("")


# -- CORS: one allowlist ----------------------------------------------------------------------


def test_listed_origins_get_cors_and_may_call(make_client: MakeClient) -> None:
    app_origin = "https://app.example.com"
    settings = Settings.model_validate({"server": {"cors_origins": [app_origin + "/"]}})
    client = make_client(settings=settings, api_key=KEY)
    preflight = client.options(
        "/v1/chat/completions",
        headers={
            "Origin": app_origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
            "Sec-Fetch-Mode": "cors",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == app_origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "authorization,content-type"

    cors = {"Origin": app_origin, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}
    auth = {"Authorization": f"Bearer {KEY}"}
    listed = client.get("/v1/models", headers={**cors, **auth})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == app_origin
    assert "Origin" in listed.headers["vary"]
    changed = client.post("/v1/models", json={"model_name": "x"}, headers={**cors, **auth})
    assert changed.status_code == 400, "past the guard: the launch itself is what fails"
    assert changed.headers["access-control-allow-origin"] == app_origin
    # Its page can read a refusal, too.
    refused = client.post(
        "/v1/models", content="{}", headers={**cors, **auth, "Content-Type": "text/plain"}
    )
    assert refused.status_code == 415
    assert refused.headers["access-control-allow-origin"] == app_origin

    # Any other origin: no preflight, no CORS header, no change.
    other = client.options(
        "/v1/chat/completions",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert other.status_code == 403
    assert "access-control-allow-origin" not in other.headers
    read = client.get("/v1/models", headers={"Origin": EVIL, **auth})
    assert "access-control-allow-origin" not in read.headers

    # The list is the live setting: taking the origin out applies at once.
    answer = client.patch(
        "/v1/xindesk/settings", json={"server": {"cors_origins": []}}, headers=auth
    )
    assert answer.status_code == 200
    assert (
        client.post("/v1/models", json={"model_name": "x"}, headers={**cors, **auth}).status_code
        == 403
    )


# -- body size --------------------------------------------------------------------------------


def test_bodies_over_the_limit_are_413(make_client: MakeClient) -> None:
    settings = Settings.model_validate({"server": {"max_body_mb": 1}})
    client = make_client(settings=settings)
    big = json.dumps({"model": "x", "messages": [{"role": "user", "content": "a" * 1_200_000}]})
    declared = client.post(
        "/v1/chat/completions", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert "1 MiB" in declared.json()["detail"]
    assert "server.max_body_mb" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:
        # Streamed without a Content-Length: counted as it arrives.
        data = big.encode()
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    streamed = client.post(
        "/v1/chat/completions", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert "server.max_body_mb" in streamed.json()["detail"]
    # Under the limit, the route gets the body (and answers for itself: no such model).
    small = client.post("/v1/chat/completions", json={"model": "x", "messages": []})
    assert small.status_code == 400
    assert Settings().server.max_body_mb == 64


# -- the API key ------------------------------------------------------------------------------


def test_guessed_keys_are_slowed_down_and_the_right_one_never(make_client: MakeClient) -> None:
    client = make_client(api_key=KEY)
    right = {"Authorization": f"Bearer {KEY}"}

    def guess(number: int) -> dict[str, str]:
        return {"Authorization": f"Bearer sk-guess-{number}"}

    # No key at all is no guess (a browser opening the address, a client not set up yet), and
    # a client repeating one stale key gets the 401 that says what is wrong, however often.
    for _ in range(FREE_FAILURES + 3):
        assert client.get("/v1/models").status_code == 401
        assert client.get("/v1/models", headers=guess(0)).status_code == 401
    for number in range(1, FREE_FAILURES):
        assert client.get("/v1/models", headers=guess(number)).status_code == 401
    waits = []
    for number in range(FREE_FAILURES, FREE_FAILURES + 4):
        slowed = client.get("/v1/models", headers=guess(number))
        assert slowed.status_code == 429
        assert "Too many different wrong API keys" in slowed.json()["detail"]
        waits.append(int(slowed.headers["retry-after"]))
        assert client.get("/v1/models", headers=right).status_code == 200
    assert waits == [1, 2, 4, 8]
    # Once slowed, the address stays slowed for any wrong key, an old one too.
    again = client.get("/v1/models", headers=guess(0))
    assert (again.status_code, again.headers["retry-after"]) == (429, "8")
    assert client.get("/v1/models", headers={"x-api-key": KEY}).status_code == 200
    assert state_of(client).key_throttle.failures("testclient") == FREE_FAILURES + 4


def test_the_throttle_forgets_after_its_window() -> None:
    now = [0.0]
    throttle = WrongKeyThrottle(clock=lambda: now[0])
    for number in range(FREE_FAILURES):
        assert throttle.failed("10.0.0.9", f"guess-{number}") is None
    waits = [throttle.failed("10.0.0.9", f"more-{number}") for number in range(10)]
    assert waits == [1, 2, 4, 8, 16, 32, MAX_WAIT_S, MAX_WAIT_S, MAX_WAIT_S, MAX_WAIT_S]
    assert throttle.failed("10.0.0.10", "guess-0") is None, "per address"
    now[0] = WINDOW_S + 1
    assert throttle.failures("10.0.0.9") == 0
    assert throttle.failed("10.0.0.9", "guess-0") is None


def test_lan_access_needs_a_strong_key(make_client: MakeClient) -> None:
    weak = make_client(api_key="sk-short")
    for patch in ({"server": {"lan_access": True}}, {"server": {"host": "0.0.0.0"}}):
        refused = weak.patch("/v1/xindesk/settings", json=patch, headers={"x-api-key": "sk-short"})
        assert refused.status_code == 409
        assert f"at least {MIN_LAN_KEY_LENGTH} characters" in refused.json()["detail"]
        assert "has 8" in refused.json()["detail"]
    # The key the server makes is strong enough, and then LAN access can be turned on.
    created = weak.post("/v1/xindesk/api-key", headers={"x-api-key": "sk-short"})
    key = created.json()["api_key"]
    assert len(key) >= MIN_LAN_KEY_LENGTH
    assert lan_key_problem(key) is None
    turned_on = weak.patch(
        "/v1/xindesk/settings", json={"server": {"lan_access": True}}, headers={"x-api-key": key}
    )
    assert turned_on.status_code == 200, turned_on.text
    assert len(generate_api_key()) >= MIN_LAN_KEY_LENGTH
    assert lan_key_problem(None) is not None
    assert lan_key_problem("x" * (MIN_LAN_KEY_LENGTH - 1)) is not None


# -- address settings ---------------------------------------------------------------------------

BAD_VALUES = [
    ("downloads", "proxy", "::::not a url"),
    ("downloads", "proxy", "ftp://127.0.0.1:21"),
    ("downloads", "hf_endpoint", "hf-mirror.com"),
    ("downloads", "hf_endpoint", "https://hf-mirror.com:99999"),
    ("downloads", "modelscope_endpoint", "https://exa mple.com"),
    ("ui", "remote_url", "socks5://10.0.0.5:1080"),
    ("server", "cors_origins", ["*"]),
    ("server", "cors_origins", ["https://app.example.com/path"]),
    ("server", "allowed_hosts", ["mypc.lan:9997"]),
    ("server", "allowed_hosts", ["http://mypc.lan"]),
]


@pytest.mark.parametrize(("section", "name", "value"), BAD_VALUES)
def test_bad_addresses_are_422_and_never_saved(
    client: TestClient, paths: AppPaths, section: str, name: str, value: object
) -> None:
    save_settings(state_of(client).settings, paths)
    before = paths.settings_file.read_text()
    answer = client.patch("/v1/xindesk/settings", json={section: {name: value}})
    assert answer.status_code == 422, answer.text
    assert f"{section}.{name}" in answer.json()["detail"]
    assert paths.settings_file.read_text() == before


def test_good_addresses_are_saved(client: TestClient, paths: AppPaths) -> None:
    answer = client.patch(
        "/v1/xindesk/settings",
        json={
            "downloads": {
                # Port 9: nothing listens there, should anything use it.
                "proxy": "http://user:pass@127.0.0.1:9",
                "hf_endpoint": " https://hf-mirror.com ",
                "modelscope_endpoint": "",
            },
            "ui": {"remote_url": "http://[fd00::5]:9997"},
            "server": {"cors_origins": ["HTTPS://App.Example.com:443/", "http://localhost:3000"]},
        },
    )
    assert answer.status_code == 200, answer.text
    saved = json.loads(paths.settings_file.read_text())
    assert saved["downloads"]["proxy"] == "http://user:pass@127.0.0.1:9"
    assert saved["downloads"]["hf_endpoint"] == "https://hf-mirror.com"
    assert saved["downloads"]["modelscope_endpoint"] is None
    assert saved["ui"]["remote_url"] == "http://[fd00::5]:9997"
    assert saved["server"]["cors_origins"] == ["https://app.example.com", "http://localhost:3000"]
    # SOCKS proxies pass the check (checked on the model: saving one would set this process's
    # proxy variables to it).
    for proxy in ("socks5://127.0.0.1:1080", "socks5h://user:pass@proxy.lan:1080"):
        assert Settings.model_validate({"downloads": {"proxy": proxy}}).downloads.proxy == proxy


def test_a_file_with_old_bad_values_still_loads(
    paths: AppPaths, caplog: pytest.LogCaptureFixture
) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(
        json.dumps(
            {
                "server": {
                    "port": 9100,
                    "cors_origins": ["https://ok.example", "*", "not an origin"],
                    "allowed_hosts": ["nas.lan", "nas.lan:80"],
                },
                "downloads": {"proxy": "::::not a url", "hf_endpoint": "https://hf-mirror.com"},
                "ui": {"remote_url": "10.0.0.5", "language": "zh_CN"},
            }
        )
    )
    with caplog.at_level(logging.WARNING, logger="xindesk.settings"):
        settings = load_settings(paths)
    assert settings.server.port == 9100
    assert settings.server.cors_origins == ["https://ok.example"]
    assert settings.server.allowed_hosts == ["nas.lan"]
    assert settings.downloads.proxy is None
    assert settings.downloads.hf_endpoint == "https://hf-mirror.com"
    assert settings.ui.remote_url is None
    assert settings.ui.language == "zh_CN"
    warned = caplog.text
    for name in ("downloads.proxy", "ui.remote_url", "server.cors_origins", "server.allowed_hosts"):
        assert name in warned
    assert "::::not a url" not in warned, "a proxy address may hold a password"

    # The next save writes the file without them; the good values stay.
    SettingsStore(paths, settings).update({"ui": {"language": "en"}})
    saved = json.loads(paths.settings_file.read_text())
    assert saved["downloads"]["proxy"] is None
    assert saved["server"]["cors_origins"] == ["https://ok.example"]
    assert saved["server"]["port"] == 9100

    # Any other invalid value still stops the load, as before.
    paths.settings_file.write_text(json.dumps({"server": {"port": 0, "cors_origins": ["*"]}}))
    with pytest.raises(ConfigError, match="invalid values"):
        load_settings(paths)
    store = SettingsStore(paths, Settings())
    with pytest.raises(InvalidSettings, match=r"downloads\.proxy"):
        store.update({"downloads": {"proxy": "::::not a url"}})
