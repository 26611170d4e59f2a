"""`xindesk doctor` as a person runs it: against a real server with a real model, the local test
hub standing in for Hugging Face and ModelScope, an address where nothing listens, and the
support bundle, which must never carry the API key or a hub token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop import __version__
from desktop.api.xinference import LaunchRequest
from desktop.client import ClientError, XinDeskClient
from tests.fixtures.hub_server import TestHub
from tests.fixtures.server import REPO, ServerProcess, free_port, run_server
from tests.fixtures.tiny_gguf import write_unknown_architecture_gguf

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

API_KEY = "sk-doctor-e2e-3b9d0f6a1c2e4d5f"
# A ModelScope token has no telltale prefix: only knowing it can keep it out of the bundle.
HUB_TOKEN = "ms-token-8c41e7a90b5d"
SECTIONS = {"build", "backend", "devices", "memory", "keyring", "models_folder", "server", "hubs"}


def doctor(
    *args: str, home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "XINDESK_HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "desktop", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        env=environ,
        check=False,
    )


def write_settings(home: Path, settings: dict[str, Any]) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")


def report_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(done.stdout)
    return data


@pytest.fixture(scope="module")
def hub() -> Iterator[TestHub]:
    with TestHub() as test_hub:
        test_hub.add_repo("xindesk/doctor-probe-GGUF", {"README.md": b"probe"})
        yield test_hub


@pytest.fixture(scope="module")
def keyed_server(
    tmp_path_factory: pytest.TempPathFactory, gemma_gguf: Path
) -> Iterator[ServerProcess]:
    """A server that needs API_KEY, with Gemma running and one failed launch in its log whose
    path holds HUB_TOKEN (which this server does not know, so its log keeps it)."""
    with run_server(
        tmp_path_factory.mktemp("doctor-server"), env={"XINDESK_API_KEY": API_KEY}
    ) as server:
        with XinDeskClient(server.url, API_KEY) as client:
            client.launch(
                LaunchRequest(
                    model_uid="gemma-doctor",
                    model_name="gemma-3-it",
                    model_engine="llama.cpp",
                    model_format="ggufv2",
                    model_path=str(gemma_gguf),
                )
            )
            # A whole file llama.cpp refuses (its architecture is unknown), so the failed load
            # is logged with the path.
            damaged = write_unknown_architecture_gguf(
                gemma_gguf, tmp_path_factory.mktemp(HUB_TOKEN) / "damaged.gguf"
            )
            with pytest.raises(ClientError):
                client.launch(
                    LaunchRequest(
                        model_uid="damaged",
                        model_name="damaged",
                        model_engine="llama.cpp",
                        model_format="ggufv2",
                        model_path=str(damaged),
                    )
                )
        yield server


def test_report_of_a_running_server_and_reachable_hubs(
    keyed_server: ServerProcess, hub: TestHub, tmp_path: Path
) -> None:
    write_settings(
        tmp_path,
        {"downloads": {"hf_endpoint": hub.url, "modelscope_endpoint": hub.url}},
    )
    done = doctor("--json", "-e", keyed_server.url, home=tmp_path, env={"XINDESK_API_KEY": API_KEY})
    assert done.returncode == 0, done.stdout + done.stderr
    report = report_of(done)
    assert report.keys() >= SECTIONS
    assert report["ok"] is True
    assert report["problems"] == []

    build = report["build"]
    assert (build["version"], build["frozen"], build["variant"]) == (__version__, False, None)
    backend = report["backend"]
    assert backend["status"] == "ok"
    assert backend["running_on"] == "CPU"
    assert backend["summary"] == "Built for CPU: models run on the CPU."
    assert any(device["name"] == "CPU" for device in report["devices"]["ggml"])
    assert 0 < report["memory"]["ram_available_bytes"] <= report["memory"]["ram_total_bytes"]
    assert report["keyring"]["status"] == "ok"
    assert report["models_folder"]["path"] == str(tmp_path / "data" / "models")
    assert report["models_folder"]["free_bytes"] > 0

    server = report["server"]
    assert server["status"] == "ok"
    assert (server["kind"], server["version"], server["auth"]) == ("XinDesk", __version__, True)
    assert {"uid": "gemma-doctor", "status": "ready", "runs_on": "CPU"} in server["models"]

    hubs = {entry["hub"]: entry for entry in report["hubs"]["hubs"]}
    assert report["hubs"]["status"] == "ok"
    for name in ("huggingface", "modelscope"):
        assert hubs[name]["endpoint"] == hub.url
        assert (hubs[name]["ok"], hubs[name]["http_status"]) == (True, 200)
        assert hubs[name]["used"] is True
    asked = {path.split("?")[0] for _method, path, _headers in hub.requests()}
    assert {"/api/models", "/openapi/v1/models"} <= asked


def test_a_server_that_needs_a_key_is_a_warning(
    keyed_server: ServerProcess, tmp_path: Path
) -> None:
    done = doctor("--json", "-e", keyed_server.url, home=tmp_path)
    report = report_of(done)
    assert report["server"]["status"] == "warn"
    assert report["server"]["http_status"] == 401
    assert "needs an API key" in report["server"]["summary"]


def test_nothing_listening_fails_only_when_the_address_was_named(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    write_settings(
        tmp_path, {"downloads": {"hf_endpoint": nowhere, "modelscope_endpoint": nowhere}}
    )
    named = doctor("--json", "-e", nowhere, home=tmp_path)
    assert named.returncode == 1
    report = report_of(named)
    assert report["server"]["status"] == "fail"
    assert report["server"]["reachable"] is False
    assert report["problems"] == [f"Server: No server answers at {nowhere} (not running?)"]
    assert report["hubs"]["status"] == "warn"
    for entry in report["hubs"]["hubs"]:
        assert entry["ok"] is False
        assert entry["http_status"] is None
        assert entry["error"].startswith("ConnectError")

    # The default address, not running: normal when the window is closed.
    default = doctor("--json", home=tmp_path, env={"XINDESK_ENDPOINT": nowhere})
    assert default.returncode == 0
    assert report_of(default)["server"]["status"] == "warn"

    text = doctor("-e", nowhere, home=tmp_path)
    assert text.returncode == 1
    assert f"Server         FAIL  No server answers at {nowhere}" in text.stdout
    assert "Model hubs     WARN  Hugging Face at" in text.stdout
    assert text.stdout.rstrip().endswith(
        f"  - Server: No server answers at {nowhere} (not running?)"
    )


def test_offline_checks_only_this_computer(tmp_path: Path) -> None:
    done = doctor("--json", "--offline", home=tmp_path)
    assert done.returncode == 0, done.stderr
    report = report_of(done)
    assert report.keys() >= SECTIONS
    assert report["server"] == {"status": "skip", "summary": "not checked (--offline)"}
    assert report["hubs"]["status"] == "skip"
    assert [check["name"] for check in report["checks"]] == [
        "build",
        "backend",
        "devices",
        "memory",
        "keyring",
        "models_folder",
        "server",
        "hubs",
    ]


def test_a_frozen_build_reports_its_variant(tmp_path: Path) -> None:
    """What the frozen app's smoke test relies on: `doctor --json` has build.variant, frozen
    true, and the backend. This CPU library in a bundle that says "cuda" is a packaging
    mistake, and the report says so."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    record = {
        "variant": "cuda",
        "version": __version__,
        "llama_cpp_python": "0.3.36",
        "cmake_args": "-DGGML_CUDA=on",
        "python": "3.11.7",
        "platform": "linux-x86_64",
    }
    (bundle / "xindesk_build.json").write_text(json.dumps(record), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.frozen = True; sys._MEIPASS = {str(bundle)!r}\n"
            "from desktop.cli import main\n"
            "raise SystemExit(main(['doctor', '--json', '--offline']))\n",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "XINDESK_HOME": str(tmp_path / "home")},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = report_of(done)
    assert report["build"]["frozen"] is True
    assert report["build"]["variant"] == "cuda"
    assert report["build"]["cmake_args"] == "-DGGML_CUDA=on"
    assert report["backend"]["built_for"] == "CUDA"
    assert report["backend"]["status"] == "warn"
    assert "has no CUDA backend" in report["backend"]["summary"]


def test_bundle_holds_no_key_or_token(keyed_server: ServerProcess, tmp_path: Path) -> None:
    # The server's own log keeps the token (it does not know it is one): the bundle must not.
    with XinDeskClient(keyed_server.url, API_KEY) as client:
        raw_log = client.logs(limit=5000).model_dump_json()
    assert HUB_TOKEN in raw_log
    assert API_KEY not in raw_log

    dead_proxy = f"http://alice:{HUB_TOKEN}@127.0.0.1:{free_port()}"
    write_settings(tmp_path / "home", {"downloads": {"proxy": dead_proxy}})
    target = tmp_path / "support.zip"
    done = doctor(
        "--bundle",
        str(target),
        "-e",
        keyed_server.url,
        home=tmp_path / "home",
        env={"XINDESK_API_KEY": API_KEY, "MODELSCOPE_API_TOKEN": HUB_TOKEN},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Support bundle: {target}" in done.stderr
    for secret in (API_KEY, HUB_TOKEN):
        assert secret not in done.stdout
        assert secret not in done.stderr

    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == [
            "README.txt",
            "doctor.json",
            "doctor.txt",
            "server-log.txt",
            "settings.json",
        ]
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    for name, text in files.items():
        assert API_KEY not in text, name
        assert HUB_TOKEN not in text, name

    log = files["server-log.txt"]
    # The failed launch is in the log, with the token's place marked.
    failed = [line for line in log.splitlines() if "damaged.gguf" in line]
    assert failed
    assert all("***" in line for line in failed)
    assert "API ready" in log
    settings = json.loads(files["settings.json"])
    assert settings["downloads"]["proxy"].startswith("http://***@127.0.0.1:")
    report = json.loads(files["doctor.json"])
    assert report["server"]["status"] == "ok"
    assert report["hubs"]["proxy"] == settings["downloads"]["proxy"]
    assert report["hubs"]["status"] == "warn"  # nothing listens at the proxy
