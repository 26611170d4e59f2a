"""A path on a network drive that stopped answering: the requests that name it fail with a 504
after the probe's time bound, and every other route keeps answering (in-process app)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from desktop.api.settings import Settings
from desktop.core import safepaths
from desktop.core.paths import AppPaths
from desktop.server.app import create_app

STALLED = "/mnt/stalled-share/model.gguf"


@pytest.fixture
def release(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """`stat` of anything under /mnt/stalled-share blocks until released, as on a hard NFS
    mount whose server went away."""
    event = threading.Event()
    real = safepaths.regular_file

    def stalled(path: Path, *, what: str = "model_path") -> object:
        if str(path).startswith("/mnt/stalled-share"):
            event.wait()
        return real(path, what=what)

    monkeypatch.setattr(safepaths, "regular_file", stalled)
    yield event
    event.set()


@pytest.fixture
def client(tmp_path: Path, release: threading.Event) -> Iterator[TestClient]:
    settings = Settings()
    settings.downloads.hf_endpoint = "http://127.0.0.1:9"
    settings.downloads.modelscope_endpoint = "http://127.0.0.1:9"
    app = create_app(settings, AppPaths.under(tmp_path / "home"), address="127.0.0.1:9997")
    with TestClient(app, base_url="http://127.0.0.1:9997") as test_client:
        test_client.app.state.xd.store.probe.timeout = 0.3  # type: ignore[attr-defined]
        yield test_client


def test_stalled_paths_answer_504_and_the_server_goes_on(client: TestClient) -> None:
    def launch(n: int) -> tuple[int, str]:
        answer = client.post(
            "/v1/models",
            json={
                "model_uid": f"stalled-{n}",
                "model_name": "gemma-3-it",
                "model_format": "ggufv2",
                "model_path": STALLED,
            },
        )
        return answer.status_code, answer.json()["detail"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(launch, range(10)))
    assert {status for status, _ in answers} == {504}
    assert all("network drive" in detail for _, detail in answers)
    imported = client.post("/v1/xindesk/installed/import", json={"path": STALLED})
    assert imported.status_code == 504
    # Launching, listing and settings still answer while those looks are stuck.
    assert client.get("/v1/models").status_code == 200
    assert client.get("/v1/xindesk/installed").status_code == 200
    assert client.get("/v1/xindesk/settings").status_code == 200
    refused = client.post(
        "/v1/models",
        json={"model_name": "gemma-3-it", "model_format": "ggufv2", "model_path": "/nope.gguf"},
    )
    assert refused.status_code == 400
