"""Ollama's API with Ollama's own Python client (`ollama`) against the real server and Gemma:
chat and generate, streamed (NDJSON) and not, JSON-schema `format`, tools, embeddings (new and
old routes), the model list, what is loaded, show, delete, keep_alive, and errors in Ollama's
shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import ollama
import pytest

from tests.fixtures.hub_server import TestHub
from tests.fixtures.server import ServerProcess, free_port, run_server

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@contextmanager
def _ollama(url: str) -> Iterator[ollama.Client]:
    """Ollama's client, its connections closed at the end."""
    client = ollama.Client(host=url, timeout=300)
    try:
        yield client
    finally:
        client._client.close()


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[ollama.Client]:
    with _ollama(server.url) as connected:
        yield connected


@pytest.fixture(scope="module")
def gemma(server: ServerProcess, gemma_gguf: Path) -> str:
    server.launch_gguf(gemma_gguf, "gemma-chat", n_ctx=1024)
    return "gemma-chat"


def test_version_tags_and_show(client: ollama.Client, gemma: str) -> None:
    assert httpx.get(f"{client._client.base_url}/api/version").json()["version"]
    listed = {m.model: m for m in client.list().models}
    assert f"{gemma}:latest" in listed
    details = listed[f"{gemma}:latest"].details
    assert details is not None
    assert details.format == "gguf"
    assert details.family == "gemma3"
    assert details.quantization_level == "Q4_K_M"
    shown = client.show(gemma)
    assert "completion" in (shown.capabilities or [])
    assert shown.modelinfo is not None
    assert shown.modelinfo["general.architecture"] == "gemma3"
    assert f"{gemma}:latest" in {m.model for m in client.ps().models}


def test_chat_streamed_and_not(client: ollama.Client, gemma: str) -> None:
    messages = [{"role": "user", "content": "Name a colour."}]
    options = {"temperature": 0, "num_predict": 8}
    whole = client.chat(model=gemma, messages=messages, options=options, stream=False)
    assert whole.done
    assert whole.message.role == "assistant"
    assert whole.message.content
    assert whole.eval_count is not None
    assert 0 < whole.eval_count <= 8
    assert whole.prompt_eval_count is not None
    assert whole.prompt_eval_count > 0
    assert whole.done_reason in ("stop", "length")
    parts = list(
        client.chat(model=f"{gemma}:latest", messages=messages, options=options, stream=True)
    )
    assert parts[-1].done
    assert not any(p.done for p in parts[:-1])
    # Greedy: the stream says what the whole answer said.
    assert "".join(p.message.content or "" for p in parts) == whole.message.content


def test_generate_with_a_json_schema_format(client: ollama.Client, gemma: str) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    answer = client.generate(
        model=gemma,
        prompt="Describe a person as JSON.",
        format=schema,
        options={"temperature": 0, "num_predict": 60},
    )
    value = json.loads(answer.response)
    assert isinstance(value["name"], str)
    assert isinstance(value["age"], int)
    streamed = list(
        client.generate(
            model=gemma,
            prompt="Count: one, two,",
            raw=True,
            stream=True,
            options={"num_predict": 4},
        )
    )
    assert streamed[-1].done
    assert "".join(s.response for s in streamed[:-1])


def test_tools_come_back_as_ollama_tool_calls(client: ollama.Client, gemma: str) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    # A forced call through the OpenAI route shows the tool path works; Ollama has no
    # tool_choice, so ask plainly and accept either a call or text, but check a call's shape.
    answer = client.chat(
        model=gemma,
        messages=[{"role": "user", "content": "What is the weather in Paris? Use the tool."}],
        tools=tools,
        options={"temperature": 0, "num_predict": 80},
    )
    assert answer.done
    for call in answer.message.tool_calls or []:
        assert call.function.name == "get_weather"
        assert isinstance(call.function.arguments, dict)
    # A tool result in the conversation is accepted.
    follow = client.chat(
        model=gemma,
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
                ],
            },
            {"role": "tool", "content": "Sunny, 21 C", "tool_name": "get_weather"},
        ],
        tools=tools,
        options={"temperature": 0, "num_predict": 20},
    )
    assert follow.done
    assert follow.message.content


def test_embeddings_new_and_old(
    client: ollama.Client, server: ServerProcess, gemma_gguf: Path
) -> None:
    server.launch_gguf(
        gemma_gguf, "gemma-embed", model_name="gemma-embed", model_type="embedding", n_ctx=512
    )
    result = client.embed(model="gemma-embed", input=["The cat sat.", "A dog ran."])
    assert len(result.embeddings) == 2
    assert len(result.embeddings[0]) == 640
    assert result.prompt_eval_count is not None
    assert result.prompt_eval_count > 0
    old = client.embeddings(model="gemma-embed", prompt="The cat sat.")
    assert len(old.embedding) == 640
    assert abs(sum(a - b for a, b in zip(old.embedding, result.embeddings[0], strict=True))) < 1e-3


def test_errors_in_ollamas_shape_and_delete(
    client: ollama.Client, server: ServerProcess, gemma_gguf: Path, gemma: str
) -> None:
    with pytest.raises(ollama.ResponseError) as missing:
        client.chat(model="nope", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.status_code == 404
    assert "nope" in missing.value.error
    wrong = httpx.post(f"{server.url}/api/chat", json={"model": 5, "messages": "x"})
    assert wrong.status_code == 422
    assert wrong.json()["error"]
    bad_keep = httpx.post(
        f"{server.url}/api/generate",
        json={"model": gemma, "prompt": "hi", "keep_alive": "soon", "stream": False},
    )
    assert bad_keep.status_code == 400
    assert "keep_alive" in bad_keep.json()["error"]
    server.launch_gguf(gemma_gguf, "doomed", n_ctx=256)
    client.delete("doomed")
    assert "doomed:latest" not in {m.model for m in client.list().models}


def test_the_ollama_port_answers_the_same_api(tmp_path: Path, gemma_gguf: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps({"server": {"ollama_port": port}}))
    with run_server(home) as server, ExitStack() as stack:
        server.launch_gguf(gemma_gguf, "both", n_ctx=256)
        on_ollama_port = stack.enter_context(_ollama(f"http://127.0.0.1:{port}"))
        assert "both:latest" in {m.model for m in on_ollama_port.list().models}
        answer = on_ollama_port.generate(model="both", prompt="Hi", options={"num_predict": 2})
        assert answer.done
        assert f"also answering on http://127.0.0.1:{port}" in server.log()
        # The browser protections hold there too.
        cross_site = httpx.request(
            "DELETE",
            f"http://127.0.0.1:{port}/api/delete",
            content=json.dumps({"model": "both"}),
            headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
        )
        assert cross_site.status_code in (403, 415)
        assert "both:latest" in {m.model for m in on_ollama_port.list().models}
    assert server.process.returncode is not None


def test_pull_downloads_through_the_hub_and_serves_the_model(
    tmp_path: Path, gemma_gguf: Path
) -> None:
    home = tmp_path / "home"
    with TestHub() as hub:
        hub.add_repo("acme/Tiny-GGUF", {"tiny-Q4_K_M.gguf": gemma_gguf, "README.md": b"tiny"})
        (home / "config").mkdir(parents=True)
        settings = {"downloads": {"source": "huggingface", "hf_endpoint": hub.url, "retries": 2}}
        (home / "config" / "settings.json").write_text(json.dumps(settings))
        with run_server(home) as server, _ollama(server.url) as client:
            statuses = [s.status for s in client.pull("hf.co/acme/Tiny-GGUF:Q4_K_M", stream=True)]
            assert statuses[0] == "pulling manifest"
            assert statuses[-1] == "success"
            listed = {m.model for m in client.list().models}
            assert "tiny-gguf:q4_k_m" in listed
            # Served unloaded; the first request by Ollama's name loads it.
            answer = client.generate(
                model="hf.co/acme/Tiny-GGUF:Q4_K_M", prompt="Hi", options={"num_predict": 2}
            )
            assert answer.done
            with pytest.raises(ollama.ResponseError) as unknown:
                client.pull("no-such-model:1b", stream=False)
            assert unknown.value.status_code == 400
