"""Downloads through the real server: launch of a catalog model that is not on disk (through
xinference-client, progress observed), SIGKILL mid-download and resume, and the REST routes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from xinference_client import RESTfulClient

from desktop.core.hub.transfer import PART_SUFFIX
from tests.fixtures.hub_server import CATALOG_FILE, CATALOG_REPO, TestHub
from tests.fixtures.polling import wait_until
from tests.fixtures.server import ServerProcess, run_server

pytestmark = pytest.mark.e2e


def _write_settings(home: Path, hub: TestHub, **downloads: object) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    settings = {
        "downloads": {
            "source": "huggingface",
            "hf_endpoint": hub.url,
            "modelscope_endpoint": hub.url,
            "retries": 3,
            **downloads,
        }
    }
    (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")


def _catalog_folder(home: Path) -> Path:
    return home / "data" / "models" / "bartowski" / "google_gemma-3-1b-it-GGUF"


def _wait_for_part(part: Path, at_least: int) -> None:
    wait_until(
        lambda: part.exists() and part.stat().st_size >= at_least,
        timeout=60,
        what="the download getting going",
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_launch_downloads_then_loads(tmp_path: Path, hub: TestHub, gemma_gguf: Path) -> None:
    home = tmp_path / "home"
    _write_settings(home, hub)
    # Slow the file down so the download stage is long enough to be seen.
    hub.stall(2.0, after_bytes=32 * 1024 * 1024, path=CATALOG_FILE)
    with run_server(home, env=hub.hf_env()) as server:
        client = RESTfulClient(server.url)
        stages: list[tuple[str, float]] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                reply = httpx.get(f"{server.url}/v1/models/gemma-dl/progress", timeout=10).json()
                stages.append((reply["stage"], reply["progress"]))
                time.sleep(0.1)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            uid = client.launch_model(
                model_name="gemma-3-1b-it",
                model_engine="llama.cpp",
                model_format="ggufv2",
                model_size_in_billions=1,
                quantization="Q4_K_M",
                model_uid="gemma-dl",
                n_ctx=512,
            )
        finally:
            done.set()
            watcher.join()
        assert uid == "gemma-dl"
        downloading = [p for stage, p in stages if stage == "downloading"]
        assert downloading, stages
        assert any(0 < p < 0.95 for p in downloading), downloading
        assert downloading == sorted(downloading)
        model = client.get_model(uid)
        reply = model.generate("Hello", generate_config={"max_tokens": 4})  # type: ignore[union-attr]
        assert reply["choices"][0]["text"] is not None
        installed = _catalog_folder(home)
        assert _sha(installed / CATALOG_FILE) == _sha(gemma_gguf)
        cached = httpx.get(f"{server.url}/v1/cache/models", timeout=10).json()["list"]
        assert any(entry["path"].endswith(CATALOG_FILE) for entry in cached)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkill_mid_download_resumes_after_restart(
    tmp_path: Path, hub: TestHub, gemma_gguf: Path
) -> None:
    home = tmp_path / "home"
    _write_settings(home, hub)
    size = gemma_gguf.stat().st_size
    hub.stall(30, after_bytes=size // 2, path=CATALOG_FILE)
    part = _catalog_folder(home) / (CATALOG_FILE + PART_SUFFIX)
    with run_server(home, env=hub.hf_env()) as server:
        job = httpx.post(
            f"{server.url}/v1/xindesk/downloads",
            json={"repo_id": CATALOG_REPO, "files": [CATALOG_FILE]},
            timeout=30,
        ).json()
        _wait_for_part(part, size // 4)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    kept = part.stat().st_size
    assert 0 < kept < size
    assert not (part.parent / CATALOG_FILE).exists()
    served_before = hub.bytes_served(CATALOG_REPO, CATALOG_FILE)
    with run_server(home, env=hub.hf_env()) as server:
        deadline = time.monotonic() + 120
        while True:
            state = httpx.get(f"{server.url}/v1/xindesk/downloads/{job['id']}", timeout=10).json()
            if state["state"] in ("completed", "failed"):
                break
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert state["state"] == "completed", state
    assert _sha(part.parent / CATALOG_FILE) == _sha(gemma_gguf)
    # The restart fetched only what the partial file lacked (plus at most one chunk).
    assert hub.bytes_served(CATALOG_REPO, CATALOG_FILE) - served_before <= size - kept + 2**20


def _api(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=60)


@pytest.mark.timeout(300)
def test_library_routes(tmp_path: Path, hub: TestHub, gemma_gguf: Path) -> None:
    home = tmp_path / "home"
    _write_settings(home, hub)
    hub.add_repo(
        "acme/Tiny-7B-GGUF",
        {
            "tiny-7b-Q4_K_M.gguf": b"x" * 4096,
            "tiny-7b-Q8_0-00001-of-00002.gguf": b"y" * 2048,
            "tiny-7b-Q8_0-00002-of-00002.gguf": b"z" * 2048,
            "mmproj-tiny-f16.gguf": b"p" * 1024,
        },
        downloads=10,
    )
    hub.add_repo("acme/not-a-model", {"README.md": b"nothing"})
    with run_server(home, env=hub.hf_env()) as server, _api(server) as api:
        found = api.get("/v1/xindesk/search", params={"q": "tiny"}).json()
        assert [r["repo_id"] for r in found["results"]] == ["acme/Tiny-7B-GGUF"]

        repo = api.get("/v1/xindesk/repo", params={"repo_id": "acme/Tiny-7B-GGUF"}).json()
        assert [c["quantization"] for c in repo["choices"]] == ["Q8_0", "Q4_K_M"]
        assert repo["choices"][0]["size"] == 4096
        assert repo["choices"][0]["parts"] == 2
        assert [p["path"] for p in repo["projectors"]] == ["mmproj-tiny-f16.gguf"]

        assert repo["choices"][0]["fit"] is None
        assert repo["fit_note"]

        hub.reset_counters()
        real = api.get(
            "/v1/xindesk/repo", params={"repo_id": CATALOG_REPO, "context_length": 2048}
        ).json()
        (choice,) = real["choices"]
        assert choice["fit"]["verdict"] in ("fits_gpu", "partial_offload", "cpu_only")
        assert choice["fit"]["ram_needed"] > choice["size"]
        assert choice["recommended"]
        assert real["recommended"] == "Q4_K_M"
        assert any("2048" in line for line in real["assumptions"])
        # Only the header was read, not the 250 MB file.
        assert 0 < hub.bytes_served(CATALOG_REPO, CATALOG_FILE) < 16 * 2**20

        missing = api.get("/v1/xindesk/repo", params={"repo_id": "acme/nope"})
        assert missing.status_code == 400
        assert "acme/nope" in missing.json()["detail"]

        job = api.post(
            "/v1/xindesk/downloads", json={"repo_id": "acme/Tiny-7B-GGUF", "quantization": "q8_0"}
        ).json()
        assert [f["path"] for f in job["files"]] == [
            "tiny-7b-Q8_0-00001-of-00002.gguf",
            "tiny-7b-Q8_0-00002-of-00002.gguf",
        ]
        deadline = time.monotonic() + 60
        while job["state"] not in ("completed", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
            job = api.get(f"/v1/xindesk/downloads/{job['id']}").json()
        assert job["state"] == "completed", job
        assert job["downloaded_bytes"] == job["total_bytes"] == 4096

        unknown = api.post("/v1/xindesk/downloads/nope/pause")
        assert unknown.status_code == 404
        assert "nope" in unknown.json()["detail"]
        bad = api.post("/v1/xindesk/downloads", json={"repo_id": "acme/Tiny-7B-GGUF"})
        assert bad.status_code == 422
        assert "detail" in bad.json()

        registered = api.post(
            "/v1/xindesk/repo/register", json={"repo_id": "acme/Tiny-7B-GGUF"}
        ).json()
        assert registered["model_name"] == "Tiny-7B-GGUF"
        quants = {s["quantization"] for s in registered["model_specs"]}
        assert quants == {"Q8_0", "Q4_K_M"}
        names = [r["model_name"] for r in api.get("/v1/model_registrations/LLM").json()]
        assert "Tiny-7B-GGUF" in names

        imported = api.post("/v1/xindesk/installed/import", json={"path": str(gemma_gguf)})
        assert imported.status_code == 200, imported.text
        listed = api.get("/v1/xindesk/installed").json()["models"]
        assert str(gemma_gguf) in [m["path"] for m in listed]
        not_gguf = api.post("/v1/xindesk/installed/import", json={"path": str(home)})
        assert not_gguf.status_code == 400

        table = api.get("/v1/xindesk/catalog/LLM/gemma-3-1b-it", params={"size": "1"}).json()[
            "specs"
        ]
        q4 = next(row for row in table if row["quantization"] == "Q4_K_M")
        assert q4["size"] == gemma_gguf.stat().st_size
        assert q4["files"][0]["path"] == CATALOG_FILE
        assert q4["model_size_in_billions"] == "1"
        assert not q4["downloaded"]
        q8 = next(row for row in table if row["quantization"] == "Q8_0")
        assert q8["size"] is None
        assert q8["missing"] == ["google_gemma-3-1b-it-Q8_0.gguf"]

        moved_to = tmp_path / "elsewhere" / "models"
        moved = api.post("/v1/xindesk/models-folder", json={"path": str(moved_to)})
        assert moved.status_code == 200, moved.text
        part_one = moved_to / "acme" / "Tiny-7B-GGUF" / "tiny-7b-Q8_0-00001-of-00002.gguf"
        assert part_one.read_bytes() == b"y" * 2048
        assert not (home / "data" / "models" / "acme").exists()
        saved = json.loads((home / "config" / "settings.json").read_text(encoding="utf-8"))
        assert saved["models"]["models_dir"] == str(moved_to)
        listed = api.get("/v1/xindesk/installed").json()["models"]
        assert str(part_one) in [m["path"] for m in listed]

        hardware = api.get("/v1/xindesk/hardware").json()
        assert hardware["ram_total_bytes"] > 0
        assert hardware["backend"]


@pytest.mark.timeout(300)
def test_cli_download_ctrl_c_pauses_and_rerun_resumes(
    tmp_path: Path, hub: TestHub, gemma_gguf: Path
) -> None:
    import subprocess
    import sys

    home = tmp_path / "home"
    _write_settings(home, hub)
    size = gemma_gguf.stat().st_size
    hub.stall(20, after_bytes=size // 3, path=CATALOG_FILE)
    folder = _catalog_folder(home)
    part = folder / (CATALOG_FILE + PART_SUFFIX)
    with run_server(home, env=hub.hf_env()) as server:
        command = [
            sys.executable,
            "-m",
            "desktop",
            "download",
            "gemma-3-1b-it",
            "-s",
            "1",
            "-q",
            "Q4_K_M",
            "-e",
            server.url,
        ]
        first = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy()
        )
        _wait_for_part(part, size // 4)
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=60)
        assert first.returncode == 130, (out, err)
        assert b"Paused" in out
        jobs = httpx.get(f"{server.url}/v1/xindesk/downloads", timeout=10).json()["downloads"]
        assert [j["state"] for j in jobs] == ["paused"]
        second = subprocess.run(command, capture_output=True, timeout=240, env=os.environ.copy())
        assert second.returncode == 0, (second.stdout, second.stderr)
        assert b"Done" in second.stdout
        jobs = httpx.get(f"{server.url}/v1/xindesk/downloads", timeout=10).json()["downloads"]
        assert [j["state"] for j in jobs] == ["completed"]
    assert _sha(folder / CATALOG_FILE) == _sha(gemma_gguf)


@pytest.mark.timeout(300)
def test_cancel_a_launch_while_it_downloads(tmp_path: Path, hub: TestHub) -> None:
    """Xinference cannot cancel a launch that is downloading (its issue #4452); XinDesk can."""
    home = tmp_path / "home"
    _write_settings(home, hub)
    hub.stall(30, after_bytes=8 * 2**20, path=CATALOG_FILE)
    request = {
        "model_name": "gemma-3-1b-it",
        "model_engine": "llama.cpp",
        "model_format": "ggufv2",
        "model_size_in_billions": 1,
        "quantization": "Q4_K_M",
        "model_uid": "gemma-cancel",
    }
    with run_server(home, env=hub.hf_env()) as server, _api(server) as api:
        launched = api.post("/v1/models", params={"wait_ready": False}, json=request)
        assert launched.status_code == 200, launched.text
        deadline = time.monotonic() + 60
        while True:
            progress = api.get("/v1/models/gemma-cancel/progress").json()
            if progress["stage"] == "downloading" and progress["progress"] > 0:
                break
            assert time.monotonic() < deadline, progress
            time.sleep(0.05)
        instances = api.get("/v1/models/instances").json()
        assert [(i["model_uid"], i["status"]) for i in instances] == [("gemma-cancel", "CREATING")]
        assert api.post("/v1/models/gemma-cancel/cancel").status_code == 200
        deadline = time.monotonic() + 30
        while api.get("/v1/models/instances").json():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        jobs = api.get("/v1/xindesk/downloads").json()["downloads"]
        assert [j["state"] for j in jobs] == ["cancelled"]
        assert api.get("/v1/models").json()["data"] == []


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_searched_repo_registers_and_launches_by_name(tmp_path: Path, hub: TestHub) -> None:
    home = tmp_path / "home"
    _write_settings(home, hub)
    with run_server(home, env=hub.hf_env()) as server, _api(server) as api:
        import subprocess
        import sys

        found = subprocess.run(
            [sys.executable, "-m", "desktop", "search", "gemma", "-e", server.url],
            capture_output=True,
            timeout=60,
            check=True,
        )
        assert CATALOG_REPO.encode() in found.stdout
        registered = api.post(
            "/v1/xindesk/repo/register",
            json={"repo_id": f"https://huggingface.co/{CATALOG_REPO}", "model_name": "my-gemma"},
        )
        assert registered.status_code == 200, registered.text
        client = RESTfulClient(server.url)
        uid = client.launch_model(
            model_name="my-gemma",
            model_engine="llama.cpp",
            model_format="ggufv2",
            quantization="Q4_K_M",
            n_ctx=512,
        )
        model = client.get_model(uid)
        reply = model.chat(  # type: ignore[union-attr]
            messages=[{"role": "user", "content": "Hi"}], generate_config={"max_tokens": 4}
        )
        assert reply["choices"][0]["message"]["role"] == "assistant"
