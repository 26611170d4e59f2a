"""A real `xindesk serve` on 127.0.0.1 against what a web page, a rebinding name and a guessing
client send (headers as browsers send them), and the API key kept off the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop.core.secrets import MIN_LAN_KEY_LENGTH
from tests.fixtures.server import REPO, ServerProcess, run_server
from tests.server.test_browser_safety import EVIL, FORM_POST, NO_CORS_FETCH, launch_body

pytestmark = [pytest.mark.e2e]

KEY = "sk-e2e-browser-safety-2f6d9c1a"


def _xindesk(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        check=False,
    )


def _host(server: ServerProcess) -> str:
    return server.url.removeprefix("http://")


def test_a_web_page_cannot_drive_the_default_server(
    server: ServerProcess, tiny_models: dict[str, Path]
) -> None:
    url = server.url
    body = launch_body(tiny_models["embedding"])
    for headers in (NO_CORS_FETCH, FORM_POST):
        refused = httpx.post(f"{url}/v1/models", content=body, headers=headers)
        assert refused.status_code == 403, refused.text
    # The empty cross-site form POST that turned auth on with a key nobody saw.
    locked = httpx.post(
        f"{url}/v1/xindesk/api-key", headers={**FORM_POST, "Content-Length": "0"}, content=b""
    )
    assert locked.status_code == 403
    assert httpx.get(f"{url}/v1/xindesk/api-key").json()["enabled"] is False
    patched = httpx.patch(
        f"{url}/v1/xindesk/settings",
        content=json.dumps({"server": {"cors_origins": [EVIL]}}),
        headers=NO_CORS_FETCH,
    )
    assert patched.status_code == 403
    assert httpx.get(f"{url}/v1/models").json()["data"] == []
    assert httpx.get(f"{url}/v1/xindesk/settings").json()["server"]["cors_origins"] == []


def test_a_rebinding_name_reads_and_writes_nothing(server: ServerProcess) -> None:
    port = server.url.rsplit(":", 1)[1]
    rebound = f"rebind.evil.example:{port}"
    read = httpx.get(f"{server.url}/v1/xindesk/settings", headers={"Host": rebound})
    assert read.status_code == 400
    assert "server.allowed_hosts" in read.json()["detail"]
    assert "downloads" not in read.text
    write = httpx.patch(
        f"{server.url}/v1/xindesk/settings",
        json={"ui": {"language": "zh_CN"}},
        headers={"Host": rebound, "Origin": f"http://{rebound}", "Sec-Fetch-Site": "same-origin"},
    )
    assert write.status_code == 400
    assert httpx.get(f"{server.url}/v1/xindesk/settings").json()["ui"]["language"] == "system"
    for host in (_host(server), f"localhost:{port}", f"host.docker.internal:{port}"):
        assert httpx.get(f"{server.url}/status", headers={"Host": host}).status_code == 200


def test_programs_and_the_server_own_pages_still_work(server: ServerProcess) -> None:
    # curl -X PATCH -H 'Content-Type: application/json' -d ...: no Origin.
    changed = httpx.patch(f"{server.url}/v1/xindesk/settings", json={"ui": {"language": "en"}})
    assert changed.status_code == 200, changed.text
    # /docs "Try it out": same origin.
    same = httpx.patch(
        f"{server.url}/v1/xindesk/settings",
        json={"ui": {"language": "system"}},
        headers={"Origin": server.url, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"},
    )
    assert same.status_code == 200, same.text
    # curl -d without a type sends a form: refused with what to send instead.
    form = httpx.post(
        f"{server.url}/v1/chat/completions",
        content=b'{"model": "x", "messages": []}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415
    assert "-H 'Content-Type: application/json'" in form.json()["detail"]


@pytest.fixture
def small_limit_server(tmp_path: Path) -> Iterator[ServerProcess]:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps({"server": {"max_body_mb": 1}}))
    with run_server(home) as server:
        yield server


def test_a_streamed_body_over_the_limit_is_413(small_limit_server: ServerProcess) -> None:
    data = json.dumps({"model": "x", "messages": [{"role": "user", "content": "a" * 1_500_000}]})

    def chunks() -> Iterator[bytes]:
        raw = data.encode()
        for start in range(0, len(raw), 32 * 1024):
            yield raw[start : start + 32 * 1024]

    # Chunked, no Content-Length to trust: the server counts what arrives.
    answer = httpx.post(
        f"{small_limit_server.url}/v1/chat/completions",
        content=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 413
    assert "1 MiB" in answer.json()["detail"]
    assert httpx.get(f"{small_limit_server.url}/status").status_code == 200


@pytest.mark.skipif(sys.platform not in ("linux", "darwin"), reason="ps shows argv on Linux/macOS")
def test_a_key_on_the_command_line_leaves_it(tmp_path: Path) -> None:
    with run_server(tmp_path / "home", "--api-key", KEY) as server:
        pid = server.process.pid
        shown = subprocess.run(
            ["ps", "-ww", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, check=True
        ).stdout
        assert "serve --port" in shown, shown
        assert KEY not in shown
        assert "--api-key" not in shown
        if sys.platform == "linux":
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
            assert "--port" in cmdline
            assert KEY not in cmdline
        assert "where every user of this computer can read it" in server.log()
        assert KEY not in server.log()
        # The key still guards the server, from its new place.
        assert httpx.get(f"{server.url}/v1/models").status_code == 401
        auth = {"Authorization": f"Bearer {KEY}"}
        assert httpx.get(f"{server.url}/v1/models", headers=auth).status_code == 200

        # A guessing client is slowed down; the right key is not.
        statuses = [
            httpx.get(f"{server.url}/v1/models", headers={"x-api-key": f"sk-guess-{number}"})
            for number in range(7)
        ]
        assert [r.status_code for r in statuses] == [401] * 5 + [429] * 2
        assert [statuses[5].headers["retry-after"], statuses[6].headers["retry-after"]] == [
            "1",
            "2",
        ]
        assert httpx.get(f"{server.url}/v1/models", headers=auth).status_code == 200


def test_a_key_from_a_file_or_stdin(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    with run_server(tmp_path / "home", "--api-key-file", str(key_file)) as server:
        assert httpx.get(f"{server.url}/v1/models").status_code == 401
        auth = {"x-api-key": KEY}
        assert httpx.get(f"{server.url}/v1/models", headers=auth).status_code == 200
        assert "command line" not in server.log()
    with run_server(tmp_path / "home2", "--api-key-file", "-", stdin=f"{KEY}\n".encode()) as server:
        assert httpx.get(f"{server.url}/v1/models").status_code == 401
        auth = {"Authorization": f"Bearer {KEY}"}
        assert httpx.get(f"{server.url}/v1/models", headers=auth).status_code == 200


def test_lan_access_needs_a_strong_key(tmp_path: Path) -> None:
    env = {
        "XINDESK_HOME": str(tmp_path),
        "PYTHON_KEYRING_BACKEND": "tests.fixtures.memory_keyring.MemoryKeyring",
    }
    short = "sk-short-key"
    refused = _xindesk(
        "serve", "--host", "0.0.0.0", "--port", "1", env={**env, "XINDESK_API_KEY": short}
    )
    assert refused.returncode == 1
    assert f"with an API key of {len(short)} characters" in refused.stderr
    assert f"at least {MIN_LAN_KEY_LENGTH}" in refused.stderr
    from_stdin = _xindesk(
        "serve", "--host", "0.0.0.0", "--port", "1", "--api-key-file", "-", env=env, stdin=short
    )
    assert from_stdin.returncode == 1
    assert "Refusing to listen on 0.0.0.0" in from_stdin.stderr
    created = _xindesk("api-key", "create", env=env)
    assert created.returncode == 0, created.stderr
    assert len(created.stdout.strip()) >= MIN_LAN_KEY_LENGTH
    empty = _xindesk("serve", "--api-key-file", "-", "--port", "1", env=env, stdin="\n")
    assert empty.returncode == 1
    assert "is empty" in empty.stderr
