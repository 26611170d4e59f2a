"""The `xindesk` command line against a real server, and the API key with real clients."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest
from xinference_client import RESTfulClient

from tests.fixtures.server import REPO, ServerProcess, run_server

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _xindesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_cli_launch_list_engine_terminate(server: ServerProcess, gemma_gguf: Path) -> None:
    launched = _xindesk(
        "launch",
        "-e",
        server.url,
        "-n",
        "gemma-3-it",
        "-f",
        "ggufv2",
        "-q",
        "Q4_K_M",
        "-u",
        "cli-gemma",
        "--model-path",
        str(gemma_gguf),
        "--n_ctx",
        "1024",
    )
    assert launched.returncode == 0, launched.stderr
    assert "Model uid: cli-gemma" in launched.stdout
    described = httpx.get(f"{server.url}/v1/models/cli-gemma").json()
    assert described["context_length"] == 1024

    listed = _xindesk("list", "-e", server.url)
    assert "cli-gemma" in listed.stdout
    assert "gemma-3-it" in listed.stdout

    engine = _xindesk("engine", "-e", server.url, "-n", "qwen2.5-instruct")
    assert "llama.cpp" in engine.stdout
    assert "q4_k_m" in engine.stdout

    registrations = _xindesk("registrations", "-e", server.url, "-t", "rerank")
    assert "bge-reranker-v2-m3" in registrations.stdout

    seed = _xindesk("launch", "-e", server.url, "-n", "qwen-chat", "-s", "14", "-f", "pytorch")
    assert seed.returncode == 1
    assert "xindesk launch -n qwen-chat -s 14 -f ggufv2" in seed.stderr

    terminated = _xindesk("terminate", "-e", server.url, "--model-uid", "cli-gemma")
    assert terminated.returncode == 0
    assert "cli-gemma" not in _xindesk("list", "-e", server.url).stdout


def test_lan_without_key_is_refused(tmp_path: Path) -> None:
    result = _xindesk(
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "1",
        env={
            "XINDESK_HOME": str(tmp_path),
            "PYTHON_KEYRING_BACKEND": "tests.fixtures.memory_keyring.MemoryKeyring",
        },
    )
    assert result.returncode == 1
    assert "Refusing to listen on 0.0.0.0 without an API key" in result.stderr


def test_api_key_with_real_clients(tmp_path: Path, gemma_gguf: Path) -> None:
    key = "sk-test-key-123"
    with run_server(tmp_path / "home", "--api-key", key) as server:
        assert httpx.get(f"{server.url}/v1/cluster/auth").json() == {"auth": True}
        assert httpx.get(f"{server.url}/v1/models").status_code == 401

        with pytest.raises(RuntimeError):
            RESTfulClient(server.url).list_models()
        client = RESTfulClient(server.url, api_key=key)
        uid = client.launch_model(
            model_name="gemma-3-it",
            model_engine="llama.cpp",
            model_format="ggufv2",
            model_path=str(gemma_gguf),
            model_uid="keyed",
            n_ctx=1024,
        )
        reply = client.get_model(uid).chat(
            messages=[{"role": "user", "content": "Hi"}], generate_config={"max_tokens": 4}
        )
        assert reply["choices"][0]["message"]["content"] is not None

        good = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
        assert [m.id for m in good.models.list()] == ["keyed"]
        bad = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
        assert "sk-test-key-123" not in server.log()


def test_cli_unload_load_and_keep(server: ServerProcess, gemma_gguf: Path) -> None:
    uid = server.launch_gguf(gemma_gguf, "cli-kept", n_ctx=512)
    endpoint = ("-e", server.url)
    unloaded = _xindesk("unload", *endpoint, "--model-uid", uid)
    assert unloaded.returncode == 0, unloaded.stderr
    assert unloaded.stdout.strip() == f"{uid}: unloaded"
    listed = _xindesk("list", *endpoint)
    row = next(line for line in listed.stdout.splitlines() if line.startswith(uid))
    assert "unloaded" in row
    assert "idle 30 min" in row
    kept = _xindesk(
        "keep", *endpoint, "--model-uid", uid, "--pin", "--load-at-start", "--idle-minutes", "5"
    )
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.strip() == f"{uid}: unloaded, pinned, loads at start"
    loaded = _xindesk("load", *endpoint, "--model-uid", uid)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == f"{uid}: ready"
    row = next(
        line for line in _xindesk("list", *endpoint).stdout.splitlines() if line.startswith(uid)
    )
    assert "ready" in row
    assert "pinned" in row
    missing = _xindesk("unload", *endpoint, "--model-uid", "nope")
    assert missing.returncode != 0
    assert "nope" in missing.stderr
    _xindesk("terminate", *endpoint, "--model-uid", uid)
