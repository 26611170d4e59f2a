"""The GUI's administration routes on a real `xindesk serve`, through XinDeskClient."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from desktop.client import ClientError, XinDeskClient
from tests.fixtures.server import ServerProcess, run_server

pytestmark = [pytest.mark.e2e]


def test_settings_round_trip_logs_and_server_info(server: ServerProcess) -> None:
    home = server.log_file.parent
    with XinDeskClient(server.url) as client:
        assert client.get_settings().ui.language == "system"
        answer = client.update_settings(
            {"ui": {"language": "zh_CN"}, "downloads": {"max_parallel": 3}}
        )
        assert answer.restart_required == []
        settings = client.get_settings()
        assert settings == answer.settings
        assert settings.ui.language == "zh_CN"
        assert settings.downloads.max_parallel == 3

        saved = json.loads((home / "config" / "settings.json").read_text(encoding="utf-8"))
        assert saved["ui"]["language"] == "zh_CN"
        # The server runs on a test port given with --port; that is not what gets saved.
        assert saved["server"]["port"] == 9997

        with pytest.raises(ClientError) as invalid:
            client.update_settings({"downloads": {"max_parallel": 0}})
        assert invalid.value.status == 422
        assert "downloads.max_parallel" in invalid.value.detail

        ready = client.logs(contains="API ready")
        assert [r.logger for r in ready.records] == ["xindesk.server"]
        # uvicorn's own lines, logged after the app started, are kept too.
        running = client.logs(contains="Uvicorn running on").records
        assert running
        assert running[0].level == "INFO"
        assert client.logs(after=ready.last_seq, contains="API ready").records == []
        changed = client.logs(contains="settings changed").records
        assert "ui.language" in changed[-1].message

        info = client.server_info()
        assert info.port == urlsplit(server.url).port
        assert (info.host, info.lan_access, info.auth) == ("127.0.0.1", False, False)
        assert info.models_dir == str(home / "data" / "models")


@pytest.mark.slow
def test_memory_of_a_running_model(server: ServerProcess, gemma_gguf: Path) -> None:
    uid = server.launch_gguf(gemma_gguf, "memory-gemma", n_ctx=1024)
    try:
        with XinDeskClient(server.url) as client:
            described = client.describe(uid)
            rss = psutil.Process(described.worker_pid).memory_info().rss
            # A loaded model keeps well over 10 MiB resident (weights, KV cache, llama.cpp).
            assert described.memory_bytes > 10 * 2**20
            assert described.memory_bytes == pytest.approx(rss, rel=0.5)
            models = client.diagnostics().models
            (listed,) = [m for m in models if m.uid == uid]
            assert listed.status == "ready"
            assert listed.memory_bytes > 10 * 2**20
    finally:
        httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60)


def test_api_key_rotation_and_removal(tmp_path: Path) -> None:
    with run_server(tmp_path / "home") as proc, XinDeskClient(proc.url) as client:
        assert client.api_key_info().enabled is False
        created = client.create_api_key()
        assert created.stored is True
        key = created.api_key
        # The client sends the new key by itself; anyone without it is refused.
        assert client.api_key_info().enabled is True
        assert httpx.get(f"{proc.url}/v1/xindesk/settings").status_code == 401

        rotated = client.create_api_key(use=False).api_key
        with pytest.raises(ClientError) as old:
            client.get_settings()
        assert old.value.status == 401
        client.set_api_key(rotated)
        assert client.get_settings().server.lan_access is False

        client.set_hub_token("huggingface", "hf_e2eTokenNeverShown")
        assert client.hub_tokens().huggingface.set is True
        bundle = client.diagnostics().model_dump_json()
        for secret in (key, rotated, "hf_e2eTokenNeverShown"):
            assert secret not in bundle
            assert secret not in client.logs(limit=5000).model_dump_json()
        client.delete_hub_token("huggingface")
        assert client.hub_tokens().huggingface.set is False

        client.delete_api_key()
        client.set_api_key(None)
        assert client.api_key_info().enabled is False
    # Nothing secret went to the terminal either.
    assert rotated not in proc.log()
