"""The GUI's administration routes (in-process app): settings, API key, hub tokens, logs,
server info and diagnostics."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import psutil
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from keyring.backends import fail

from desktop.api.settings import Settings
from desktop.core.paths import AppPaths
from desktop.core.secrets import API_KEY, SecretStore
from desktop.server.app import create_app
from desktop.server.deps import ServerState
from desktop.server.logbuffer import LogBuffer
from tests.fixtures.hub_server import TestHub
from tests.fixtures.memory_keyring import MemoryKeyring

OLD_KEY = "sk-old-key-for-tests"
HF_TOKEN = "hf_TestTokenThatMustNeverShow"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY")

MakeClient = Callable[..., TestClient]


@pytest.fixture(autouse=True)
def fresh_keychain(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """keyring keeps one backend per process; each test gets an empty one of its own."""
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    return backend


@pytest.fixture(autouse=True)
def restore_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings changes set the proxy variables of this process; they are put back after."""
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, "placeholder")  # remembers whether it was set
        monkeypatch.delenv(name)


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.under(tmp_path / "home")


@pytest.fixture
def make_client(paths: AppPaths) -> Iterator[MakeClient]:
    """Start an app (lifespan included); every one started is stopped at the end."""
    stack: list[TestClient] = []

    def make(
        *,
        api_key: str | None = None,
        address: str = "127.0.0.1:9997",
        settings: Settings | None = None,
        hub_url: str = "http://127.0.0.1:9",
    ) -> TestClient:
        if settings is None:
            settings = Settings()
            # Port 9: nothing listens, so no test reaches a real hub, whatever the network.
            settings.downloads.hf_endpoint = hub_url
            settings.downloads.modelscope_endpoint = hub_url
        host, port = address.rsplit(":", 1)
        # As `xindesk serve` does: the live address is in the settings object.
        settings.server.host, settings.server.port = host, int(port)
        app = create_app(settings, paths, api_key=api_key, address=address)
        client = TestClient(app, base_url="http://127.0.0.1:9997")
        client.__enter__()
        if api_key:
            client.headers["Authorization"] = f"Bearer {api_key}"
        stack.append(client)
        return client

    yield make
    for client in reversed(stack):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


def state_of(client: TestClient) -> ServerState:
    app = client.app
    assert isinstance(app, FastAPI)
    state: ServerState = app.state.xd
    return state


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


# -- settings ---------------------------------------------------------------------------------


def test_get_settings_is_the_settings_model(client: TestClient) -> None:
    answer = client.get("/v1/xindesk/settings")
    assert answer.status_code == 200
    body = answer.json()
    assert Settings.model_validate(body) == state_of(client).settings
    assert body["downloads"]["hf_endpoint"] == "http://127.0.0.1:9"


def test_patch_merges_saves_and_applies(client: TestClient, paths: AppPaths) -> None:
    answer = client.patch(
        "/v1/xindesk/settings",
        json={
            "downloads": {"source": "modelscope", "proxy": None},
            "ui": {"language": "zh_CN"},
            "models": {"default_context_length": 4096},
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["restart_required"] == []
    assert body["settings"]["downloads"]["source"] == "modelscope"
    assert body["settings"]["ui"]["language"] == "zh_CN"
    # Untouched fields of a patched section keep their values.
    assert body["settings"]["downloads"]["hf_endpoint"] == "http://127.0.0.1:9"
    assert body["settings"]["ui"]["keep_running_in_tray"] is True

    saved = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    assert saved["downloads"]["source"] == "modelscope"
    assert saved["ui"]["language"] == "zh_CN"
    assert saved["models"]["default_context_length"] == 4096

    state = state_of(client)
    assert state.settings.models.default_context_length == 4096
    # The supervisor launches with the same settings object the route changed.
    assert state.supervisor.settings is state.settings
    assert client.get("/v1/xindesk/settings").json() == body["settings"]


def test_patched_source_and_endpoint_reach_the_download_manager(client: TestClient) -> None:
    downloads = state_of(client).downloads
    assert [hub.name for hub in downloads.hubs()] == ["huggingface", "modelscope"]

    answer = client.patch(
        "/v1/xindesk/settings",
        json={"downloads": {"source": "modelscope", "hf_endpoint": "https://hf-mirror.example"}},
    )
    assert answer.status_code == 200, answer.text

    assert [hub.name for hub in downloads.hubs()] == ["modelscope"]
    (hf,) = downloads.hubs("huggingface")
    assert getattr(hf, "endpoint", None) == "https://hf-mirror.example"


def test_patched_source_decides_which_hub_search_asks(
    make_client: MakeClient, test_hub: TestHub
) -> None:
    test_hub.add_repo("acme/Tiny-GGUF", {"tiny-Q4_K_M.gguf": b"x" * 64}, downloads=5)
    client = make_client(hub_url=test_hub.url)
    client.patch("/v1/xindesk/settings", json={"downloads": {"source": "huggingface"}})
    found = client.get("/v1/xindesk/search", params={"q": "tiny"})
    assert found.status_code == 200, found.text
    assert {hit["hub"] for hit in found.json()["results"]} == {"huggingface"}

    test_hub.reset_counters()
    client.patch("/v1/xindesk/settings", json={"downloads": {"source": "modelscope"}})
    found = client.get("/v1/xindesk/search", params={"q": "tiny"})
    assert found.status_code == 200, found.text
    assert [hit["hub"] for hit in found.json()["results"]] == ["modelscope"]
    asked = [path for _method, path, _headers in test_hub.requests()]
    assert asked
    assert not any(path.startswith("/api/models") for path in asked), asked


def _download_workers() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("xindesk-download-"))


def test_patched_max_parallel_changes_the_number_of_download_workers(
    client: TestClient,
) -> None:
    before = _download_workers()
    assert state_of(client).settings.downloads.max_parallel == 2

    assert client.patch("/v1/xindesk/settings", json={"downloads": {"max_parallel": 4}}).is_success
    wait_until(lambda: _download_workers() == before + 2)

    assert client.patch("/v1/xindesk/settings", json={"downloads": {"max_parallel": 1}}).is_success
    wait_until(lambda: _download_workers() == before - 1)


def test_invalid_settings_are_a_422_and_change_nothing(client: TestClient, paths: AppPaths) -> None:
    assert client.patch("/v1/xindesk/settings", json={"ui": {"language": "en"}}).is_success
    on_disk = paths.settings_file.read_bytes()
    before = client.get("/v1/xindesk/settings").json()

    for patch, named in [
        ({"downloads": {"max_parallel": 99, "source": "modelscope"}}, "downloads.max_parallel"),
        ({"downloads": {"source": "gitee"}}, "downloads.source"),
        ({"downloads": {"sorce": "modelscope"}}, "downloads.sorce"),
        ({"server": {"port": 0}}, "server.port"),
        ({"downloads": "modelscope"}, "downloads"),
    ]:
        answer = client.patch("/v1/xindesk/settings", json=patch)
        assert answer.status_code == 422, patch
        assert named in answer.json()["detail"], answer.json()

    not_an_object = client.patch("/v1/xindesk/settings", json=["ui"])
    assert not_an_object.status_code == 422
    assert paths.settings_file.read_bytes() == on_disk
    assert client.get("/v1/xindesk/settings").json() == before


def test_lan_access_needs_a_key(make_client: MakeClient, paths: AppPaths) -> None:
    open_server = make_client()
    for patch in ({"server": {"lan_access": True}}, {"server": {"host": "0.0.0.0"}}):
        refused = open_server.patch("/v1/xindesk/settings", json=patch)
        assert refused.status_code == 409
        assert "create a key first" in refused.json()["detail"].lower()
    assert not paths.settings_file.exists()
    assert open_server.get("/v1/xindesk/settings").json()["server"]["lan_access"] is False


def test_lan_access_with_a_key_waits_for_a_restart(
    make_client: MakeClient, paths: AppPaths
) -> None:
    client = make_client(api_key=OLD_KEY)
    answer = client.patch("/v1/xindesk/settings", json={"server": {"lan_access": True}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["restart_required"] == ["server.lan_access"]
    assert json.loads(paths.settings_file.read_text())["server"]["lan_access"] is True
    # Still listening where it was started.
    assert client.get("/v1/xindesk/server").json()["lan_access"] is False
    # The key stays: without it, the next start would open the API to the network.
    assert client.delete("/v1/xindesk/api-key").status_code == 409

    # Still pending on a later, unrelated change; gone once set back.
    later = client.patch("/v1/xindesk/settings", json={"ui": {"language": "en"}})
    assert later.json()["restart_required"] == ["server.lan_access"]
    back = client.patch("/v1/xindesk/settings", json={"server": {"lan_access": False}})
    assert back.json()["restart_required"] == []


def test_the_command_line_address_is_not_saved(make_client: MakeClient, paths: AppPaths) -> None:
    client = make_client(address="127.0.0.1:12345")
    answer = client.patch("/v1/xindesk/settings", json={"server": {"port": 9000}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["restart_required"] == ["server.port"]
    assert client.get("/v1/xindesk/server").json()["port"] == 12345

    client.patch("/v1/xindesk/settings", json={"ui": {"language": "zh_CN"}})
    saved = json.loads(paths.settings_file.read_text())
    assert saved["server"]["port"] == 9000
    assert saved["server"]["host"] == "127.0.0.1"
    # The endpoints these tests set in memory only are not written either.
    assert saved["downloads"]["hf_endpoint"] is None


def test_models_folder_moves_only_through_its_own_route(
    client: TestClient, paths: AppPaths, tmp_path: Path
) -> None:
    refused = client.patch(
        "/v1/xindesk/settings", json={"models": {"models_dir": str(tmp_path / "elsewhere")}}
    )
    assert refused.status_code == 400
    assert "/v1/xindesk/models-folder" in refused.json()["detail"]
    assert not paths.settings_file.exists()

    # Sending back what GET gave (models_dir included, unchanged) is fine.
    current = client.get("/v1/xindesk/settings").json()
    current["ui"]["language"] = "zh_CN"
    assert client.patch("/v1/xindesk/settings", json=current).status_code == 200

    version = client.patch("/v1/xindesk/settings", json={"schema_version": 99})
    assert version.status_code == 400


# -- the API key ------------------------------------------------------------------------------


def test_api_key_info_never_shows_the_key(make_client: MakeClient) -> None:
    client = make_client(api_key=OLD_KEY)
    answer = client.get("/v1/xindesk/api-key")
    assert answer.status_code == 200
    assert OLD_KEY not in answer.text
    body = answer.json()
    assert body["enabled"] is True
    assert body["keyring"] == {
        "available": True,
        "backend": "tests.fixtures.memory_keyring.MemoryKeyring",
        "message": None,
    }
    assert make_client().get("/v1/xindesk/api-key").json()["enabled"] is False


def test_rotating_the_key_retires_the_old_one_at_once(make_client: MakeClient) -> None:
    client = make_client(api_key=OLD_KEY)
    answer = client.post("/v1/xindesk/api-key")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    new_key = body["api_key"]
    assert new_key.startswith("sk-")
    assert new_key != OLD_KEY
    assert body["stored"] is True
    assert SecretStore().get(API_KEY) == new_key

    old = client.get("/v1/xindesk/settings")
    assert old.status_code == 401
    new = client.get("/v1/xindesk/settings", headers={"Authorization": f"Bearer {new_key}"})
    assert new.status_code == 200
    client.headers["Authorization"] = f"Bearer {new_key}"
    assert client.get("/v1/models").status_code == 200

    logs = client.get("/v1/xindesk/logs")
    assert new_key not in logs.text
    assert "API key replaced" in logs.text


def test_creating_a_key_turns_auth_on(client: TestClient) -> None:
    key = client.post("/v1/xindesk/api-key").json()["api_key"]
    assert client.get("/v1/xindesk/settings").status_code == 401
    assert client.get("/v1/xindesk/api-key", headers={"x-api-key": key}).json()["enabled"] is True


def test_without_a_keychain_the_key_lives_in_the_process_only(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())

    info = client.get("/v1/xindesk/api-key").json()
    assert info["keyring"]["available"] is False
    assert info["keyring"]["backend"] == "keyring.backends.fail.Keyring"
    assert "--api-key" in info["keyring"]["message"]

    answer = client.post("/v1/xindesk/api-key")
    assert answer.status_code == 200
    body = answer.json()
    assert body["stored"] is False
    assert "--api-key" in body["message"]
    assert "XINDESK_API_KEY" in body["message"]
    assert "until this server stops" in body["message"]
    key = body["api_key"]
    assert client.get("/v1/xindesk/settings").status_code == 401
    assert client.get("/v1/xindesk/settings", headers={"x-api-key": key}).status_code == 200


def test_deleting_the_key_turns_auth_off(make_client: MakeClient) -> None:
    SecretStore().set(API_KEY, OLD_KEY)
    client = make_client(api_key=OLD_KEY)
    answer = client.delete("/v1/xindesk/api-key")
    assert answer.status_code == 200, answer.text
    assert answer.json()["enabled"] is False
    assert SecretStore().get(API_KEY) is None
    del client.headers["Authorization"]
    assert client.get("/v1/xindesk/settings").status_code == 200


def test_the_key_stays_while_listening_on_the_network(make_client: MakeClient) -> None:
    client = make_client(api_key=OLD_KEY, address="0.0.0.0:9997")
    refused = client.delete("/v1/xindesk/api-key")
    assert refused.status_code == 409
    assert "LAN access" in refused.json()["detail"]
    assert client.get("/v1/xindesk/settings", headers={"Authorization": ""}).status_code == 401


# -- hub tokens -------------------------------------------------------------------------------


def test_hub_tokens_are_stored_and_never_shown(client: TestClient) -> None:
    assert client.get("/v1/xindesk/hub-tokens").json() == {
        "huggingface": {"set": False, "environment": False},
        "modelscope": {"set": False, "environment": False},
    }
    answer = client.put("/v1/xindesk/hub-tokens/huggingface", json={"token": HF_TOKEN})
    assert answer.status_code == 200, answer.text
    assert HF_TOKEN not in answer.text
    assert SecretStore().get("hf_token") == HF_TOKEN

    listed = client.get("/v1/xindesk/hub-tokens")
    assert HF_TOKEN not in listed.text
    assert listed.json()["huggingface"]["set"] is True
    assert listed.json()["modelscope"]["set"] is False

    logging.getLogger("xindesk.test").warning("a library echoed %s back", HF_TOKEN)
    logs = client.get("/v1/xindesk/logs", params={"contains": "echoed"})
    assert HF_TOKEN not in logs.text
    assert [r["message"] for r in logs.json()["records"]] == ["a library echoed *** back"]
    assert HF_TOKEN not in client.get("/v1/xindesk/diagnostics").text

    assert client.delete("/v1/xindesk/hub-tokens/huggingface").json() == {
        "hub": "huggingface",
        "set": False,
    }
    assert SecretStore().get("hf_token") is None
    assert client.get("/v1/xindesk/hub-tokens").json()["huggingface"]["set"] is False


def test_environment_tokens_are_reported(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELSCOPE_API_TOKEN", "ms-env-token")
    listed = client.get("/v1/xindesk/hub-tokens")
    assert "ms-env-token" not in listed.text
    assert listed.json()["modelscope"] == {"set": False, "environment": True}


def test_a_stored_token_is_sent_to_the_hub(make_client: MakeClient, test_hub: TestHub) -> None:
    test_hub.add_repo("acme/Tiny-GGUF", {"tiny-Q4_K_M.gguf": b"x" * 64})
    client = make_client(hub_url=test_hub.url)
    client.put("/v1/xindesk/hub-tokens/huggingface", json={"token": HF_TOKEN})
    found = client.get("/v1/xindesk/search", params={"q": "tiny", "hub": "huggingface"})
    assert found.status_code == 200, found.text
    sent = [headers.get("authorization") for _m, _p, headers in test_hub.requests()]
    assert f"Bearer {HF_TOKEN}" in sent

    test_hub.reset_counters()
    client.delete("/v1/xindesk/hub-tokens/huggingface")
    client.get("/v1/xindesk/search", params={"q": "tiny", "hub": "huggingface"})
    sent = [headers.get("authorization") for _m, _p, headers in test_hub.requests()]
    assert sent
    assert f"Bearer {HF_TOKEN}" not in sent


def test_hub_token_errors(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = client.put("/v1/xindesk/hub-tokens/gitee", json={"token": "x"})
    assert unknown.status_code == 404
    assert "huggingface" in unknown.json()["detail"]
    assert client.delete("/v1/xindesk/hub-tokens/gitee").status_code == 404
    assert client.put("/v1/xindesk/hub-tokens/modelscope", json={"token": ""}).status_code == 422

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    unavailable = client.put("/v1/xindesk/hub-tokens/modelscope", json={"token": "ms-token"})
    assert unavailable.status_code == 503
    assert "MODELSCOPE_API_TOKEN" in unavailable.json()["detail"]
    assert client.delete("/v1/xindesk/hub-tokens/modelscope").status_code == 503


# -- logs -------------------------------------------------------------------------------------


def test_logs_page_by_seq_and_filter(client: TestClient) -> None:
    startup = client.get("/v1/xindesk/logs", params={"contains": "API ready"}).json()
    assert [r["logger"] for r in startup["records"]] == ["xindesk.server"]

    test_log = logging.getLogger("xindesk.test")
    start = client.get("/v1/xindesk/logs").json()["last_seq"]
    for index in range(5):
        test_log.info("paging line %d", index)
    test_log.warning("paging warning")

    first = client.get("/v1/xindesk/logs", params={"after": start, "limit": 2}).json()
    assert [r["message"] for r in first["records"]] == ["paging line 0", "paging line 1"]
    assert first["last_seq"] == first["records"][-1]["seq"]
    rest = client.get("/v1/xindesk/logs", params={"after": first["last_seq"]}).json()
    messages = [r["message"] for r in rest["records"] if "paging" in r["message"]]
    assert messages == ["paging line 2", "paging line 3", "paging line 4", "paging warning"]
    seqs = [r["seq"] for r in first["records"] + rest["records"]]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)

    warnings = client.get("/v1/xindesk/logs", params={"after": start, "level": "warning"})
    records = warnings.json()["records"]
    assert [(r["level"], r["message"]) for r in records] == [("WARNING", "paging warning")]
    assert records[0]["logger"] == "xindesk.test"
    assert abs(records[0]["time"] - time.time()) < 60

    # Nothing new: the same last_seq comes back, so polling does not skip or repeat.
    again = client.get("/v1/xindesk/logs", params={"after": rest["last_seq"]}).json()
    assert again == {"records": [], "last_seq": rest["last_seq"]}

    assert client.get("/v1/xindesk/logs", params={"level": "LOUD"}).status_code == 422
    assert client.get("/v1/xindesk/logs", params={"limit": 0}).status_code == 422


def test_logs_keep_uvicorn_records_once_and_tracebacks(client: TestClient) -> None:
    # uvicorn.error propagates to uvicorn, and the buffer is attached to both.
    logging.getLogger("uvicorn.error").warning("uvicorn says hello")
    try:
        raise RuntimeError("boom for the log")
    except RuntimeError:
        logging.getLogger("xindesk.test").exception("it failed")
    hello = client.get("/v1/xindesk/logs", params={"contains": "uvicorn says hello"}).json()
    assert len(hello["records"]) == 1
    failed = client.get("/v1/xindesk/logs", params={"contains": "it failed"}).json()
    (record,) = failed["records"]
    assert "Traceback" in record["message"]
    assert "RuntimeError: boom for the log" in record["message"]


def test_the_buffer_keeps_the_newest_records() -> None:
    buffer = LogBuffer(capacity=3)
    logger = logging.getLogger("xindesk.test.buffer")
    logger.addHandler(buffer)
    logger.setLevel(logging.INFO)
    try:
        buffer.add_secret("s3cr3t")
        for index in range(5):
            logger.info("line %d s3cr3t", index)
    finally:
        logger.removeHandler(buffer)
        logger.setLevel(logging.NOTSET)
    found, last = buffer.records()
    assert [e.seq for e in found] == [3, 4, 5]
    assert [e.message for e in found] == ["line 2 ***", "line 3 ***", "line 4 ***"]
    assert last == 5
    assert [e.seq for e in buffer.tail(2)] == [4, 5]
    # A reader that paged a buffer before a restart sees a last_seq below its own.
    assert buffer.records(after=50) == ([], 5)


def test_logs_need_the_key(make_client: MakeClient) -> None:
    client = make_client(api_key=OLD_KEY)
    assert client.get("/v1/xindesk/logs", headers={"Authorization": ""}).status_code == 401
    for path in ("/settings", "/api-key", "/hub-tokens", "/server", "/diagnostics"):
        response = client.get(f"/v1/xindesk{path}", headers={"Authorization": "Bearer wrong"})
        assert response.status_code == 401, path


# -- server and diagnostics -------------------------------------------------------------------


def _up_ipv4_addresses() -> set[str]:
    stats = psutil.net_if_stats()
    return {
        a.address
        for name, addresses in psutil.net_if_addrs().items()
        if name in stats and stats[name].isup
        for a in addresses
        if a.family.name == "AF_INET"
    }


def test_server_info(make_client: MakeClient, paths: AppPaths) -> None:
    client = make_client(api_key=OLD_KEY, address="0.0.0.0:9998")
    body = client.get("/v1/xindesk/server").json()
    assert body["host"] == "0.0.0.0"
    assert body["port"] == 9998
    assert body["lan_access"] is True
    assert body["auth"] is True
    assert body["version"]
    assert body["models_dir"] == str(paths.default_models_dir)
    assert abs(body["started_at"] - time.time()) < 120
    assert set(body["lan_addresses"]) <= _up_ipv4_addresses()
    for address in body["lan_addresses"]:
        assert not ipaddress.IPv4Address(address).is_loopback
    assert OLD_KEY not in json.dumps(body)

    local = make_client().get("/v1/xindesk/server").json()
    assert (local["host"], local["lan_access"], local["auth"]) == ("127.0.0.1", False, False)


def test_diagnostics_bundle_holds_no_secret(make_client: MakeClient) -> None:
    client = make_client(api_key=OLD_KEY)
    assert client.put("/v1/xindesk/hub-tokens/huggingface", json={"token": HF_TOKEN}).is_success
    patched = client.patch(
        "/v1/xindesk/settings",
        json={"downloads": {"proxy": "http://alice:Pr0xyPassw0rd@127.0.0.1:3128"}},
    )
    assert patched.status_code == 200
    assert os.environ["HTTPS_PROXY"] == "http://alice:Pr0xyPassw0rd@127.0.0.1:3128"
    logging.getLogger("xindesk.test").error("key %s and token %s", OLD_KEY, HF_TOKEN)

    answer = client.get("/v1/xindesk/diagnostics")
    assert answer.status_code == 200, answer.text
    text = answer.text
    for secret in (OLD_KEY, HF_TOKEN, "Pr0xyPassw0rd"):
        assert secret not in text
    body: dict[str, Any] = answer.json()
    for field in ("version", "python", "platform", "hardware", "settings", "models"):
        assert body[field] is not None, field
    assert body["settings"]["downloads"]["proxy"] == "http://***@127.0.0.1:3128"
    assert body["settings"]["downloads"]["hf_endpoint"] == "http://127.0.0.1:9"
    assert body["hardware"]["ram_total_bytes"] == psutil.virtual_memory().total
    assert body["models"] == []
    assert body["downloads"] == {"counts": {}, "failed": []}
    assert body["keyring"]["available"] is True
    assert body["disk"]["free_bytes"] > 0
    assert any("key *** and token ***" in line for line in body["logs"])
    assert any("API ready" in line for line in body["logs"])
    assert len(body["logs"]) <= 200

    # Clearing the proxy setting gives the environment back.
    client.patch("/v1/xindesk/settings", json={"downloads": {"proxy": None}})
    assert "HTTPS_PROXY" not in os.environ


def test_diagnostics_lists_failed_downloads(make_client: MakeClient, paths: AppPaths) -> None:
    from desktop.core.hub.jobs import DownloadJob, JobFile, JobState, JobStore

    # A record left by an earlier run: the server loads it when it starts.
    JobStore(paths.downloads_dir).save(
        DownloadJob(
            id="failedjob001",
            hub="huggingface",
            repo_id="acme/x",
            files=[JobFile(path="x.gguf", size=10)],
            folder=paths.default_models_dir / "acme" / "x",
            label="acme/x/x.gguf",
            state=JobState.FAILED,
            error="Forbidden (HTTP 403)",
        )
    )
    summary = make_client().get("/v1/xindesk/diagnostics").json()["downloads"]
    assert summary == {
        "counts": {"failed": 1},
        "failed": [
            {
                "id": "failedjob001",
                "label": "acme/x/x.gguf",
                "hub": "huggingface",
                "error": "Forbidden (HTTP 403)",
            }
        ],
    }
