"""Offline and blocked hubs through a real `xindesk serve`: a hub address that refuses
connections, and one that accepts them and never answers (a firewall that swallows traffic, a
dead proxy). Search, listing and downloads fail in seconds with a message that says what to try,
never after the libraries' minute of retries."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.server import ServerProcess, free_port, run_server

pytestmark = pytest.mark.e2e

log = logging.getLogger("tests.offline")

# Only a hang comes near this; the time each answer took is printed, not asserted.
HANG = 120.0


@pytest.fixture
def silent_address() -> Iterator[str]:
    """An address whose connections are accepted (by the kernel's backlog) and never answered."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def offline_server(tmp_path: Path, silent_address: str) -> Iterator[ServerProcess]:
    refused = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    settings = {"downloads": {"hf_endpoint": silent_address, "modelscope_endpoint": refused}}
    (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    with run_server(tmp_path / "home") as server:
        yield server


def _timed(method: str, url: str, **options: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = httpx.request(method, url, timeout=HANG, **options)  # type: ignore[arg-type]
    return answer, time.monotonic() - started


@pytest.mark.parametrize(
    ("hub", "words"),
    [
        ("huggingface", ["Cannot reach Hugging Face", "no answer within", "ModelScope source"]),
        ("modelscope", ["Cannot reach ModelScope", "offline, or blocked", "Hugging Face source"]),
        (None, ["Cannot reach Hugging Face", "Cannot reach ModelScope"]),
    ],
)
def test_search_fails_fast_with_what_to_try(
    offline_server: ServerProcess, hub: str | None, words: list[str]
) -> None:
    """`hub` None is the settings' source, "auto": both hubs, both unreachable."""
    params = {"q": "qwen"} if hub is None else {"q": "qwen", "hub": hub}
    answer, seconds = _timed("GET", f"{offline_server.url}/v1/xindesk/search", params=params)
    log.info("search hub=%s: %d after %.2f s", hub, answer.status_code, seconds)
    assert answer.status_code == 502, answer.text
    detail = answer.json()["detail"]
    for word in words:
        assert word in detail


def test_listing_and_downloads_fail_fast(offline_server: ServerProcess) -> None:
    api = f"{offline_server.url}/v1/xindesk"
    asked = [
        ("GET", f"{api}/repo", {"params": {"repo_id": "acme/x-GGUF", "hub": "huggingface"}}),
        ("GET", f"{api}/repo", {"params": {"repo_id": "acme/x-GGUF", "hub": "modelscope"}}),
        ("POST", f"{api}/downloads", {"json": {"repo_id": "acme/x-GGUF", "files": ["x.gguf"]}}),
        ("POST", f"{api}/downloads", {"json": {"model_name": "qwen2.5-instruct"}}),
    ]
    for method, url, options in asked:
        answer, seconds = _timed(method, url, **options)
        log.info("%s %s %s: %d after %.2f s", method, url, options, answer.status_code, seconds)
        assert answer.status_code == 502, answer.text
        assert "Cannot reach" in answer.json()["detail"]
        assert "offline, or blocked" in answer.json()["detail"]
    assert httpx.get(f"{api}/downloads", timeout=HANG).json()["downloads"] == []
