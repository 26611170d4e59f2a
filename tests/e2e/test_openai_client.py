"""The official `openai` client against a real server: chat streaming, tools, JSON output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Get the time in a time zone.",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string"}},
            "required": ["zone"],
        },
    },
}


@pytest.fixture(scope="module")
def gemma(server: ServerProcess, gemma_gguf: Path) -> Iterator[str]:
    server.launch_gguf(gemma_gguf, "gemma-oai", n_ctx=2048)
    yield "gemma-oai"
    httpx.delete(f"{server.url}/v1/models/gemma-oai", timeout=60)


@pytest.fixture
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="not-needed", max_retries=0)


def test_models_list(client: openai.OpenAI, gemma: str) -> None:
    assert gemma in [m.id for m in client.models.list()]


def test_chat_stream(client: openai.OpenAI, gemma: str) -> None:
    stream = client.chat.completions.create(
        model=gemma,
        messages=[{"role": "user", "content": "Name three colors."}],
        max_tokens=20,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes in (["stop"], ["length"])
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens > 0
    assert chunks[-1].choices == []


def test_stop_and_max_tokens(client: openai.OpenAI, gemma: str) -> None:
    reply = client.chat.completions.create(
        model=gemma,
        messages=[{"role": "user", "content": "Count: 1, 2, 3, 4, 5, 6, 7"}],
        max_tokens=5,
        temperature=0,
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 5


def test_seeded_sampling_is_reproducible(client: openai.OpenAI, gemma: str) -> None:
    def ask() -> str:
        reply = client.chat.completions.create(
            model=gemma,
            messages=[{"role": "user", "content": "Tell me a story."}],
            max_tokens=16,
            temperature=1.0,
            seed=1234,
        )
        return reply.choices[0].message.content or ""

    assert ask() == ask()


def test_tool_choice_required_returns_a_valid_call(client: openai.OpenAI, gemma: str) -> None:
    reply = client.chat.completions.create(
        model=gemma,
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice="required",
        temperature=0,
        max_tokens=256,  # type: ignore[list-item]
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None
    assert len(calls) == 1
    assert calls[0].function.name in ("get_weather", "get_time")
    arguments = json.loads(calls[0].function.arguments)
    assert isinstance(arguments, dict)
    required = "city" if calls[0].function.name == "get_weather" else "zone"
    assert isinstance(arguments[required], str)


def test_named_tool_choice_streams_that_function(client: openai.OpenAI, gemma: str) -> None:
    stream = client.chat.completions.create(
        model=gemma,
        messages=[{"role": "user", "content": "Time in Tokyo?"}],
        tools=[WEATHER_TOOL, TIME_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        max_tokens=256,
        temperature=0,
        stream=True,
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    calls = [tc for d in deltas for tc in (d.tool_calls or [])]
    assert len(calls) == 1
    assert calls[0].function is not None
    assert calls[0].function.name == "get_time"
    assert "zone" in json.loads(calls[0].function.arguments or "{}")
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["tool_calls"]


def test_unknown_named_tool_is_a_400(client: openai.OpenAI, gemma: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=gemma,
            messages=[{"role": "user", "content": "x"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            tool_choice={"type": "function", "function": {"name": "nope"}},
        )
    assert "nope" in caught.value.response.json()["detail"]


def test_json_schema_response_is_valid(client: openai.OpenAI, gemma: str) -> None:
    schema = {
        "type": "object",
        "properties": {
            # Bounded, so the grammar itself guarantees the object ends within max_tokens
            # even while sampling (an unbounded string lets a tiny model ramble).
            "name": {"type": "string", "maxLength": 24},
            # No minimum/maximum: llama-cpp-python's schema converter does not turn numeric
            # bounds into grammar, so a sampled model may go past them.
            "age": {"type": "integer"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": 12},
                "maxItems": 3,
            },
        },
        "required": ["name", "age", "tags"],
        "additionalProperties": False,
    }
    reply = client.chat.completions.create(
        model=gemma,
        messages=[{"role": "user", "content": "Describe a person as JSON."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema},
        },
        max_tokens=200,
        temperature=0.7,
    )
    data = json.loads(reply.choices[0].message.content or "")
    assert set(data) == {"name", "age", "tags"}
    assert isinstance(data["age"], int)
    assert isinstance(data["tags"], list)
    assert len(data["name"]) <= 24


def test_json_object_response_is_valid(client: openai.OpenAI, gemma: str) -> None:
    reply = client.chat.completions.create(
        model=gemma,
        messages=[{"role": "user", "content": "Give me a JSON object."}],
        response_format={"type": "json_object"},
        max_tokens=64,
    )
    content = reply.choices[0].message.content or ""
    if reply.choices[0].finish_reason == "stop":
        assert isinstance(json.loads(content), dict)
    else:
        assert content.lstrip().startswith("{")


def test_completions(client: openai.OpenAI, gemma: str) -> None:
    reply = client.completions.create(model=gemma, prompt="The sky is", max_tokens=8)
    assert reply.choices[0].text
    stream = client.completions.create(model=gemma, prompt="The sky is", max_tokens=8, stream=True)
    texts = [c.choices[0].text for c in stream]
    assert "".join(texts)


def test_embeddings_on_a_chat_model_is_a_clear_400(client: openai.OpenAI, gemma: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=gemma, input="hello")
    assert "/v1/embeddings needs an embedding model" in caught.value.response.json()["detail"]


def test_legacy_functions_form_is_forced_like_tools(server: ServerProcess, gemma: str) -> None:
    """FastGPT still sends the legacy `functions` + `function_call` form."""
    response = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={
            "model": gemma,
            "messages": [{"role": "user", "content": "Weather in Rome?"}],
            "functions": [WEATHER_TOOL["function"]],
            "function_call": {"name": "get_weather"},
            "max_tokens": 256,
            "temperature": 0,
        },
        timeout=120,
    )
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    assert "city" in json.loads(call["function"]["arguments"])


def test_tool_choice_auto_gives_a_well_formed_answer(client: openai.OpenAI, gemma: str) -> None:
    """With `auto` the model may answer or call; either way the reply is well formed."""
    reply = client.chat.completions.create(
        model=gemma,
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        tools=[WEATHER_TOOL],
        tool_choice="auto",
        max_tokens=48,
        temperature=0,  # type: ignore[list-item]
    )
    choice = reply.choices[0]
    if choice.message.tool_calls:
        assert choice.finish_reason == "tool_calls"
        assert choice.message.tool_calls[0].function.name == "get_weather"
        json.loads(choice.message.tool_calls[0].function.arguments)
    else:
        assert choice.finish_reason in ("stop", "length")
        assert choice.message.content
        assert "<tool_call>" not in choice.message.content
