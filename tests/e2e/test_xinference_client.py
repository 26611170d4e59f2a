"""The xinference-client 4.x flow against a real `xindesk serve` and the real Gemma model.

Mirrors Xinference's own client test (launch, list, get, generate, chat, three concurrent
streams, terminate), with a local GGUF launched by `model_path`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from xinference_client import RESTfulClient

from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _launch_gemma(client: RESTfulClient, path: Path, uid: str = "gemma") -> str:
    return client.launch_model(
        model_name="gemma-3-it",
        model_engine="llama.cpp",
        model_format="ggufv2",
        quantization="Q4_K_M",
        model_path=str(path),
        model_uid=uid,
        n_ctx=2048,
    )


def test_full_client_flow(server: ServerProcess, gemma_gguf: Path) -> None:
    client = RESTfulClient(server.url)
    uid = _launch_gemma(client, gemma_gguf)
    assert uid == "gemma"

    models = client.list_models()
    assert "gemma" in models
    assert models["gemma"]["model_type"] == "LLM"
    assert models["gemma"]["model_engine"] == "llama.cpp"
    assert models["gemma"]["context_length"] == 2048

    model = client.get_model(uid)
    assert type(model).__name__ == "RESTfulChatModelHandle"

    completion = model.generate("Once upon a time", generate_config={"max_tokens": 12})
    assert completion["object"] == "text_completion"
    assert completion["choices"][0]["text"]
    assert 0 < completion["usage"]["completion_tokens"] <= 12

    reply = model.chat(
        messages=[{"role": "user", "content": "Say hello."}],
        generate_config={"max_tokens": 16, "temperature": 0.0},
    )
    assert reply["choices"][0]["message"]["role"] == "assistant"
    assert reply["choices"][0]["message"]["content"]
    assert reply["usage"]["prompt_tokens"] > 0

    chunks = list(
        model.chat(
            messages=[{"role": "user", "content": "Count to five."}],
            generate_config={"stream": True, "max_tokens": 16, "temperature": 0.0},
        )
    )
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
    finishing = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(finishing) == 1
    assert finishing[0]["choices"][0]["delta"] == {"content": ""}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text

    # Xinference's own test: messages passed where a list is expected must fail.
    with pytest.raises(RuntimeError):
        model.chat({"max_tokens": 64})  # type: ignore[arg-type]

    client.terminate_model(uid)
    assert "gemma" not in client.list_models()


def test_three_concurrent_streams_all_complete(server: ServerProcess, gemma_gguf: Path) -> None:
    """llama-cpp-python's own server cuts a running stream when another arrives; we must not."""
    client = RESTfulClient(server.url)
    uid = _launch_gemma(client, gemma_gguf, uid="gemma-concurrent")
    model = client.get_model(uid)
    results: dict[int, dict[str, Any]] = {}
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            chunks = list(
                model.chat(
                    messages=[{"role": "user", "content": f"Write a list of {index + 3} fruits."}],
                    generate_config={"stream": True, "max_tokens": 24, "temperature": 0.0},
                )
            )
            results[index] = {
                "finish": [
                    c["choices"][0]["finish_reason"]
                    for c in chunks
                    if c["choices"] and c["choices"][0]["finish_reason"]
                ],
                "text": "".join(
                    c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
                ),
            }
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    assert sorted(results) == [0, 1, 2]
    for result in results.values():
        assert len(result["finish"]) == 1
        assert result["finish"][0] in ("stop", "length")
        assert result["text"]
    client.terminate_model(uid)
