"""The FastGPT export and the "test as FastGPT" check against a real server with real models.

One server with an API key runs Gemma 3 270M as the chat model, Gemma again as an embedding
model, and the tiny cross-encoder GGUF as the reranker. The check must pass every item there,
and fail with a reason a person can act on when the key is wrong or a role is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from desktop.client import XinDeskClient
from desktop.core.export import select_models
from desktop.core.export.check import CheckModels, CheckResult, check_names, run_fastgpt_check
from tests.fixtures.server import REPO, ServerProcess, run_server

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

KEY = "sk-fastgpt-check-123"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _launch(server: ServerProcess, path: Path, uid: str, **options: Any) -> None:
    response = httpx.post(
        f"{server.url}/v1/models",
        headers=AUTH,
        json={
            "model_uid": uid,
            "model_engine": "llama.cpp",
            "model_format": "ggufv2",
            "model_path": str(path),
            **options,
        },
        timeout=180,
    )
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def fastgpt_server(
    tmp_path_factory: pytest.TempPathFactory, gemma_gguf: Path, tiny_models: dict[str, Path]
) -> Iterator[ServerProcess]:
    with run_server(tmp_path_factory.mktemp("fastgpt-home"), "--api-key", KEY) as server:
        _launch(server, gemma_gguf, "gemma", model_name="gemma-3-it", n_ctx=1024)
        _launch(
            server,
            gemma_gguf,
            "gemma-embed",
            model_name="gemma-embed",
            model_type="embedding",
            n_ctx=512,
        )
        _launch(
            server,
            tiny_models["reranker"],
            "reranker",
            model_name="bge-reranker-v2-m3",
            model_type="rerank",
        )
        yield server


def _models(server: ServerProcess) -> CheckModels:
    with XinDeskClient(server.url, KEY) as client:
        return CheckModels.from_selection(select_models(client.list_models()))


def _xindesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, "XINDESK_API_KEY": KEY},
        check=False,
    )


def test_export_follows_the_running_models(fastgpt_server: ServerProcess) -> None:
    with XinDeskClient(fastgpt_server.url, KEY) as client:
        exported = client.export_fastgpt("v4.9", target="same")
        legacy = client.export_fastgpt("legacy", target="docker", host="192.168.7.7")
    assert exported.content_type == "json"
    entries = {e["model"]: e["metadata"] for e in json.loads(exported.text)}
    assert set(entries) == {"gemma", "gemma-embed", "reranker"}
    gemma = entries["gemma"]
    assert (gemma["type"], gemma["maxContext"]) == ("llm", 1024)
    # Gemma 3 declares no tool calling and runs without a vision projector.
    assert (gemma["toolChoice"], gemma["functionCall"], gemma["vision"]) == (False, False, False)
    assert gemma["requestUrl"] == f"{fastgpt_server.url}/v1/chat/completions"
    embed = entries["gemma-embed"]
    assert (embed["type"], embed["maxToken"]) == ("embedding", 512)
    assert entries["reranker"]["requestUrl"] == f"{fastgpt_server.url}/v1/rerank"
    assert {e["requestAuth"] for e in entries.values()} == {KEY}
    assert not any("1536" in w for w in exported.warnings)

    port = urlparse(fastgpt_server.url).port
    config = json.loads(legacy.text)
    assert config["systemEnv"]["oneapiUrl"] == f"http://192.168.7.7:{port}/v1"
    assert config["reRankModels"][0]["requestUrl"] == f"http://192.168.7.7:{port}/v1/rerank"
    assert any("host-gateway" in w for w in legacy.warnings)
    assert KEY not in fastgpt_server.log()


def test_check_passes_every_item(fastgpt_server: ServerProcess) -> None:
    models = _models(fastgpt_server)
    assert models == CheckModels("gemma", "gemma-embed", "reranker", chat_tool_choice=False)
    seen: list[CheckResult] = []
    results = run_fastgpt_check(fastgpt_server.url, KEY, models, on_result=seen.append)
    assert [r.name for r in results] == check_names()
    assert {r.name: r.reason for r in results if not r.passed} == {}
    assert seen == results
    by_name = {r.name: r.reason for r in results}
    assert "640 float dimensions" in by_name["embedding"]
    assert "Scored all 100 documents" in by_name["rerank, 100 documents"]
    assert "request_function" in by_name["tools, forced tool_choice"]


def test_check_fails_clearly_with_a_wrong_key(fastgpt_server: ServerProcess) -> None:
    results = run_fastgpt_check(f"{fastgpt_server.url}/v1", "sk-wrong", _models(fastgpt_server))
    assert len(results) == len(check_names())
    for result in results:
        assert not result.passed
        assert "HTTP 401, the key was refused" in result.reason


def test_check_fails_clearly_on_a_model_of_the_wrong_kind(fastgpt_server: ServerProcess) -> None:
    # The chat model given as embedding and rerank model: the server's 400 is the reason.
    results = run_fastgpt_check(
        fastgpt_server.url, KEY, CheckModels(chat=None, embedding="gemma", rerank="gemma")
    )
    failed = {r.name: r.reason for r in results if not r.passed}
    assert len(failed) == len(check_names())
    assert "No chat model is running" in failed["chat, streaming"]
    assert "HTTP 400" in failed["embedding"]
    assert "needs an embedding model" in failed["embedding"]
    assert "needs a rerank model" in failed["rerank, 100 documents"]


def test_cli_exports_and_checks_without_a_reranker(fastgpt_server: ServerProcess) -> None:
    exported = _xindesk(
        "export", "fastgpt", "--format", "oneapi", "--target", "same", "-e", fastgpt_server.url
    )
    assert exported.returncode == 0, exported.stderr
    assert f"代理 (proxy):    {fastgpt_server.url} " in exported.stdout
    assert "模型 (models):   gemma,gemma-embed\n" in exported.stdout
    assert "Note: One API does not forward rerank" in exported.stderr

    response = httpx.delete(f"{fastgpt_server.url}/v1/models/reranker", headers=AUTH, timeout=60)
    assert response.status_code == 200
    checked = _xindesk("export", "fastgpt", "--check", "-e", fastgpt_server.url)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    failed = [line for line in lines if line.startswith("FAIL")]
    assert len(failed) == 1
    assert failed[0].startswith("FAIL  rerank, 100 documents")
    assert "No rerank model is running" in failed[0]
    assert sum(line.startswith("PASS") for line in lines) == len(check_names()) - 1
    assert lines[-1] == f"{len(check_names()) - 1} of {len(check_names())} checks passed."
