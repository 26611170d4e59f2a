"""Hostile and unlucky paths through a real `xindesk serve`: named pipes, devices and folders as
model files, and a hub whose listing names files outside the models folder.

Every answer must be a 4xx with a `{"detail": ...}` that names the problem (never a 500, never a
hang, never the names of the files inside a folder), and the server must go on answering."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.fixtures.hub_server import TestHub
from tests.fixtures.server import ServerProcess, run_server

pytestmark = pytest.mark.e2e

# Far above what a refusal takes; only a request that hangs comes near it.
HANG = 30.0


def _launch_body(path: Path | str, **extra: object) -> dict[str, object]:
    return {
        "model_uid": "x",
        "model_name": "gemma-3-it",
        "model_engine": "llama.cpp",
        "model_format": "ggufv2",
        "model_path": str(path),
        **extra,
    }


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    os.mkfifo(path)
    return path


def test_fifo_as_model_path_is_refused_and_the_server_goes_on(
    server: ServerProcess, fifo: Path
) -> None:
    """Twelve launches of a named pipe at once: each a prompt 4xx, and the server answers
    other routes afterwards (a pipe opened for reading waits for a writer forever)."""
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(
            pool.map(
                lambda n: httpx.post(
                    f"{server.url}/v1/models",
                    json=_launch_body(fifo, model_uid=f"fifo-{n}"),
                    timeout=HANG,
                ),
                range(12),
            )
        )
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert "named pipe" in answer.json()["detail"]
        assert str(fifo) in answer.json()["detail"]
    assert httpx.get(f"{server.url}/v1/models", timeout=HANG).status_code == 200
    assert httpx.get(f"{server.url}/v1/xindesk/installed", timeout=HANG).status_code == 200


@pytest.mark.parametrize("key", ["draft_model_path"])
def test_fifo_as_draft_model_is_refused(
    server: ServerProcess, fifo: Path, gemma_gguf: Path, key: str
) -> None:
    answer = httpx.post(
        f"{server.url}/v1/models",
        json=_launch_body(gemma_gguf, model_uid="draft-fifo", **{key: str(fifo)}),
        timeout=HANG,
    )
    assert answer.status_code == 400, answer.text
    assert "named pipe" in answer.json()["detail"]
    assert key in answer.json()["detail"]


def test_fifo_and_device_imports_are_refused(server: ServerProcess, fifo: Path) -> None:
    for path, words in ((fifo, "named pipe"), (Path("/dev/zero"), "device")):
        answer = httpx.post(
            f"{server.url}/v1/xindesk/installed/import", json={"path": str(path)}, timeout=HANG
        )
        assert answer.status_code == 400, answer.text
        assert words in answer.json()["detail"]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_device_as_model_path_is_refused(server: ServerProcess, device: str) -> None:
    answer = httpx.post(f"{server.url}/v1/models", json=_launch_body(device), timeout=HANG)
    assert answer.status_code == 400, answer.text
    assert "a device" in answer.json()["detail"]


def test_folder_as_model_path_does_not_list_it(server: ServerProcess, tmp_path: Path) -> None:
    folder = tmp_path / "secret-folder"
    folder.mkdir()
    (folder / "private-diary.gguf").write_bytes(b"GGUF")
    (folder / "tax-return.pdf").write_bytes(b"%PDF")
    for asked in (
        _launch_body(folder),
        _launch_body(tmp_path / "x.gguf", draft_model_path=str(folder)),
    ):
        answer = httpx.post(f"{server.url}/v1/models", json=asked, timeout=HANG)
        assert answer.status_code == 400, answer.text
        detail = answer.json()["detail"]
        assert "private-diary" not in detail
        assert "tax-return" not in detail
    imported = httpx.post(
        f"{server.url}/v1/xindesk/installed/import", json={"path": str(folder)}, timeout=HANG
    )
    assert imported.status_code == 400
    assert "is a folder" in imported.json()["detail"]
    assert "private-diary" not in imported.json()["detail"]


@pytest.mark.parametrize("path", ["/tmp/x\x00.gguf", "/tmp/\n.gguf", ""])
def test_control_characters_in_paths_are_a_400(server: ServerProcess, path: str) -> None:
    asked = [
        ("/v1/xindesk/installed/import", {"path": path}),
        ("/v1/xindesk/models-folder", {"path": path}),
    ]
    if path:  # an empty model_path means none: the catalog's file is launched
        asked.append(("/v1/models", _launch_body(path)))
    for route, body in asked:
        answer = httpx.post(f"{server.url}{route}", json=body, timeout=HANG)
        assert 400 <= answer.status_code < 500, (route, answer.text)
        assert answer.json()["detail"]


# -- a hub whose listing names files outside the models folder ---------------------------------

REPO = "acme/evil-GGUF"
HOSTILE = ["../../../../x-Q4_K_M.gguf", "/abs/x.gguf", "a\\..\\..\\x.gguf", "C:/x.gguf"]


@pytest.fixture
def hostile_hub() -> Iterator[TestHub]:
    payload = random.Random(5).randbytes(4096)
    with TestHub() as hub:
        files: dict[str, bytes | Path] = {path: payload for path in HOSTILE}
        hub.add_repo(REPO, files, hostile_paths=True)
        yield hub


def test_hostile_listing_through_the_server(tmp_path: Path, hostile_hub: TestHub) -> None:
    home = tmp_path / "home"
    config = home / "config"
    config.mkdir(parents=True)
    settings = {
        "downloads": {
            "source": "huggingface",
            "hf_endpoint": hostile_hub.url,
            "modelscope_endpoint": hostile_hub.url,
        }
    }
    (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    before = {p for p in tmp_path.rglob("*")}
    with run_server(home, env=hostile_hub.hf_env()) as server:
        api = f"{server.url}/v1/xindesk/downloads"
        for hub in ("huggingface", "modelscope"):
            for path in HOSTILE:
                answer = httpx.post(
                    api, json={"repo_id": REPO, "files": [path], "hub": hub}, timeout=HANG
                )
                assert answer.status_code == 400, answer.text
                assert repr(path) in answer.json()["detail"]
            chosen = httpx.post(
                api, json={"repo_id": REPO, "quantization": "Q4_K_M", "hub": hub}, timeout=HANG
            )
            assert chosen.status_code == 400, chosen.text
            assert "x-Q4_K_M.gguf" in chosen.json()["detail"]
        assert httpx.get(api, timeout=HANG).json()["downloads"] == []
    created = {p for p in tmp_path.rglob("*")} - before
    assert [p for p in created if not p.is_relative_to(home)] == []
    # Every download was refused, so no model file or partial file exists anywhere.
    assert [p for p in created if p.name.endswith((".gguf", ".part"))] == []


# -- a GGUF cut short inside its tensor data ----------------------------------------------------


def test_truncated_gguf_is_damaged_everywhere(server: ServerProcess, gemma_gguf: Path) -> None:
    """A Gemma copy whose header is whole but whose last 4 MiB of tensor data are missing: the
    installed list calls it damaged, import refuses it, and launching it is a 400 that says so
    (llama.cpp itself would fail to load it, which answered 500)."""
    from desktop.core.memory.gguf_info import read_gguf_metadata, tensor_data_end
    from tests.fixtures.tiny_gguf import write_truncated_gguf

    end = tensor_data_end(read_gguf_metadata(gemma_gguf))
    assert end is not None
    home = server.log_file.parent  # `run_server` keeps its log in the home folder
    cut = write_truncated_gguf(
        gemma_gguf,
        home / "data" / "models" / "google" / "cut-GGUF" / "gemma-3-270m-cut-Q4_K_M.gguf",
        end - 4 * 1024 * 1024,
    )
    try:
        listed = httpx.get(f"{server.url}/v1/xindesk/installed", timeout=HANG).json()["models"]
        (entry,) = [m for m in listed if m["path"] == str(cut)]
        assert entry["usable"] is False
        assert "truncated" in entry["problem"]
        imported = httpx.post(
            f"{server.url}/v1/xindesk/installed/import", json={"path": str(cut)}, timeout=HANG
        )
        assert imported.status_code == 400
        assert "truncated" in imported.json()["detail"]
        launched = httpx.post(
            f"{server.url}/v1/models", json=_launch_body(cut, model_uid="cut"), timeout=HANG
        )
        assert launched.status_code == 400, launched.text
        assert "truncated" in launched.json()["detail"]
        assert str(cut) in launched.json()["detail"]
        assert httpx.get(f"{server.url}/v1/models", timeout=HANG).json()["data"] == []
    finally:
        cut.unlink()


# -- unknown uids and names, as xinference-client sees them -------------------------------------


def test_unknown_uids_answer_as_xinference_does(server: ServerProcess) -> None:
    """Xinference 4.1: describe and terminate of an unknown uid are a 400 naming it; progress is
    200 with nothing done (clients poll it beside the launch that registers the uid); engines of
    an unknown model are null (recorded: GET /v1/engines/LLM/nope-model -> 200 null)."""
    from xinference_client import RESTfulClient

    client = RESTfulClient(server.url)
    for call in (client.describe_model, client.terminate_model):
        with pytest.raises(RuntimeError, match="uid: nope"):
            call("nope")
    progress = client.get_launch_model_progress("nope")
    assert progress["progress"] == 0.0
    assert progress["stage"] == "pending"
    assert client.query_engine_by_model_name("nope-model") is None
    assert client.query_engine_by_model_name("nope-model", model_type=None) is None
    known = client.query_engine_by_model_name("qwen2.5-instruct")
    assert list(known) == ["llama.cpp"]
    for path in ("/v1/models/nope", "/v1/engines/LLM/nope-model", "/v1/models/nope/progress"):
        answer = httpx.get(f"{server.url}{path}", timeout=HANG)
        assert answer.status_code in (200, 400)
        assert answer.headers["content-type"].startswith("application/json")
