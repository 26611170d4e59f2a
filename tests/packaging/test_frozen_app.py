"""Smoke tests of the frozen Linux CPU app: what a person gets from the tarball or AppImage.

The bundle runs with the real llama.cpp libraries it carries, the real Gemma model, real
clients and no keychain (headless Linux: keyring's fail backend, as on a fresh server).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest
from openai import OpenAI
from xinference_client import RESTfulClient

from desktop.api.downloads import StartDownload
from desktop.client import XinDeskClient
from tests.fixtures.hub_server import TestHub
from tests.fixtures.server import free_port, run_server
from tests.packaging.conftest import REPO, FrozenApp

pytestmark = [pytest.mark.packaging, pytest.mark.slow]

# No keychain, as on a headless Linux machine; keyring's own "fail" backend is what keyring
# picks there. (The tests' in-memory backend is not inside the bundle.)
NO_KEYCHAIN = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def frozen_env(home: Path, **extra: str) -> dict[str, str]:
    environ = {
        name: value
        for name, value in os.environ.items()
        # The bundle must not lean on this checkout or this virtual environment.
        if name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    environ.update(NO_KEYCHAIN, XINDESK_HOME=str(home), **extra)
    return environ


def test_the_bundle_holds_llama_cpp_resources_and_its_build_record(frozen_app: FrozenApp) -> None:
    internal = frozen_app.folder / "_internal"
    assert frozen_app.executable.is_file()
    assert os.access(frozen_app.executable, os.X_OK)
    # llama_cpp loads these with ctypes at run time; PyInstaller cannot see that by itself.
    libs = {path.name for path in (internal / "llama_cpp" / "lib").iterdir()}
    assert {"libllama.so", "libggml.so", "libggml-base.so", "libggml-cpu.so"} <= libs
    assert (internal / "resources" / "catalog" / "llm.json").is_file()
    assert (internal / "resources" / "translations" / "xindesk_zh_CN.qm").is_file()
    for name in ("index.html", "page.js", "strings.js", "page.css"):
        assert (internal / "resources" / "web" / name).is_file(), name
    record = json.loads((internal / "xindesk_build.json").read_text())
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert record["variant"] == "cpu"
    assert record["version"] == version
    assert record["platform"] == "linux-x86_64"
    # Build tools in the environment stay out of the app.
    for name in ("pytest", "PyInstaller", "mypy"):
        assert not (internal / name).exists(), name


def test_the_archive_unpacks_to_the_same_runnable_app(
    frozen_app: FrozenApp, tmp_path: Path
) -> None:
    tarballs = [path for path in frozen_app.archives if path.name.endswith(".tar.gz")]
    assert len(tarballs) == 1, frozen_app.archives
    assert "linux-x86_64-cpu" in tarballs[0].name
    with tarfile.open(tarballs[0]) as archive:
        archive.extractall(tmp_path, filter="tar")
    unpacked = tmp_path / "XinDesk" / "xindesk"
    result = subprocess.run(
        [str(unpacked), "--help"],
        env=frozen_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout


def test_frozen_serve_launches_gemma_and_streams_a_chat(
    frozen_app: FrozenApp, gemma_gguf: Path, tmp_path: Path
) -> None:
    with run_server(
        tmp_path / "home", env=NO_KEYCHAIN, program=[str(frozen_app.executable)]
    ) as server:
        status = httpx.get(f"{server.url}/status", timeout=10)
        assert status.status_code == 200
        # The page at the server's address comes from the bundle too.
        page = httpx.get(f"{server.url}/", timeout=10)
        assert page.status_code == 200
        assert "/ui/page.js" in page.text
        assert httpx.get(f"{server.url}/ui/page.js", timeout=10).status_code == 200
        # The model worker is the same executable, started by multiprocessing inside the bundle.
        client = RESTfulClient(server.url)
        uid = client.launch_model(
            model_name="gemma-3-it",
            model_engine="llama.cpp",
            model_format="ggufv2",
            quantization="Q4_K_M",
            model_path=str(gemma_gguf),
            model_uid="frozen-gemma",
            n_ctx=2048,
        )
        assert uid == "frozen-gemma"
        openai = OpenAI(base_url=f"{server.url}/v1", api_key="not-needed")
        stream = openai.chat.completions.create(
            model=uid,
            messages=[{"role": "user", "content": "Name three colours."}],
            max_tokens=16,
            temperature=0,
            stream=True,
        )
        pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
        assert len([piece for piece in pieces if piece]) >= 2
        assert "".join(pieces).strip()
        client.terminate_model(uid)
        assert uid not in client.list_models()
    assert "Traceback" not in server.log(), server.log()[-4000:]


def test_frozen_window_opens_and_starts_its_own_server(
    frozen_app: FrozenApp, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    port = free_port()
    settings = home / "config" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"server": {"port": port}, "ui": {"welcome_done": True}}))
    result = subprocess.run(
        [str(frozen_app.executable)],
        env=frozen_env(home, QT_QPA_PLATFORM="offscreen", XINDESK_STARTUP_PROBE="server"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("window-shown ") for line in lines), result.stdout + result.stderr
    assert f"server-running http://127.0.0.1:{port}" in lines, result.stdout + result.stderr
    # Quitting the window stopped the server child it started (it may take a moment to exit).
    deadline = time.monotonic() + 30
    while port_open(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_open(port)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_frozen_serve_downloads_from_both_hubs(frozen_app: FrozenApp, tmp_path: Path) -> None:
    """huggingface_hub and modelscope.hub still work once frozen (modelscope is trimmed to its
    hub package in build.spec), against the local test hub."""
    payload = os.urandom(3 * 2**20 + 123)
    home = tmp_path / "home"
    with TestHub() as hub:
        hub.add_repo("acme/Frozen-GGUF", {"frozen-Q4_K_M.gguf": payload})
        settings = home / "config" / "settings.json"
        settings.parent.mkdir(parents=True)
        settings.write_text(
            json.dumps({"downloads": {"hf_endpoint": hub.url, "modelscope_endpoint": hub.url}})
        )
        env = {**NO_KEYCHAIN, **hub.hf_env(), **hub.ms_env()}
        with (
            run_server(home, env=env, program=[str(frozen_app.executable)]) as server,
            XinDeskClient(server.url, timeout=60) as client,
        ):
            for source in ("huggingface", "modelscope"):
                job = client.start_download(
                    StartDownload(
                        repo_id="acme/Frozen-GGUF", files=["frozen-Q4_K_M.gguf"], hub=source
                    )
                )
                deadline = time.monotonic() + 120
                while (state := client.download(job.id).state) not in FINISHED:
                    assert time.monotonic() < deadline, f"{source} download stuck in {state}"
                    time.sleep(0.2)
                finished = client.download(job.id)
                assert state == "completed", finished
                assert finished.hub == source
                file = Path(finished.folder) / "frozen-Q4_K_M.gguf"
                assert (
                    hashlib.sha256(file.read_bytes()).digest() == hashlib.sha256(payload).digest()
                )
                client.forget_download(job.id)
                # The second hub must fetch the file again, not find it in place.
                file.unlink()
        assert "Traceback" not in server.log(), server.log()[-4000:]


FINISHED = {"completed", "failed", "cancelled"}


def test_frozen_doctor_reports_the_build_and_writes_a_bundle(
    frozen_app: FrozenApp, tmp_path: Path
) -> None:
    env = frozen_env(tmp_path / "home")
    result = subprocess.run(
        [str(frozen_app.executable), "doctor", "--json", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["build"]["frozen"] is True
    assert report["build"]["variant"] == "cpu"
    assert report["backend"]["status"] == "ok"
    assert report["backend"]["load_problem"] is None
    # No keychain in this environment: a warning with the fallback, not a failure.
    assert report["keyring"]["available"] is False
    assert report["keyring"]["status"] == "warn"

    bundle = tmp_path / "support.zip"
    result = subprocess.run(
        [str(frozen_app.executable), "doctor", "--offline", "--bundle", str(bundle)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        assert {"doctor.json", "doctor.txt"} <= names
        assert json.loads(archive.read("doctor.json"))["build"]["frozen"] is True


def test_the_installers_smoke_script_passes_on_this_build(frozen_app: FrozenApp) -> None:
    """`installers/smoke_test.py` is what the hosted workflow runs after every build."""
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "installers" / "smoke_test.py"),
            "cpu",
            "--dist",
            str(frozen_app.folder.parent),
        ],
        env=frozen_env(frozen_app.folder.parent / "smoke-home"),
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, result.stdout + result.stderr
