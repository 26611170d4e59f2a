"""Anthropic's Messages API with Anthropic's own SDK against the real server and Gemma: plain
and streamed messages (the SDK checks the event order), a system prompt, stop sequences, a
forced tool call and a tool result, the key as `x-api-key`, and errors in Anthropic's shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from tests.fixtures.server import ServerProcess, run_server

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

KEY = "anthropic-test-key-0123456789"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with run_server(
        tmp_path_factory.mktemp("anthropic-home"), env={"XINDESK_API_KEY": KEY}
    ) as server:
        yield server


@pytest.fixture(scope="module")
def client(keyed_server: ServerProcess, gemma_gguf: Path) -> Iterator[anthropic.Anthropic]:
    keyed_server.launch_gguf(gemma_gguf, "claude-local", api_key=KEY, n_ctx=1024)
    with anthropic.Anthropic(base_url=keyed_server.url, api_key=KEY, max_retries=0) as sdk:
        yield sdk


def test_a_message_and_its_stream(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model="claude-local",
        max_tokens=12,
        system="You answer in one short sentence.",
        messages=[{"role": "user", "content": "Name a colour."}],
        extra_body={"temperature": 0},
    )
    assert message.role == "assistant"
    assert message.content[0].type == "text"
    assert message.content[0].text
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert message.usage.input_tokens > 0
    assert 0 < message.usage.output_tokens <= 12
    with client.messages.stream(
        model="claude-local",
        max_tokens=12,
        system="You answer in one short sentence.",
        messages=[{"role": "user", "content": "Name a colour."}],
        extra_body={"temperature": 0},
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    # Greedy: the stream says what the message said.
    assert text == message.content[0].text
    assert final.usage.output_tokens == message.usage.output_tokens
    assert final.stop_reason == message.stop_reason


def test_stop_sequences_and_max_tokens(client: anthropic.Anthropic) -> None:
    cut = client.messages.create(
        model="claude-local",
        max_tokens=3,
        messages=[{"role": "user", "content": "Count from one to twenty in words."}],
        extra_body={"temperature": 0},
    )
    assert cut.stop_reason == "max_tokens"


def test_forced_tool_use_and_a_tool_result(client: anthropic.Anthropic) -> None:
    forced = client.messages.create(
        model="claude-local",
        max_tokens=80,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "get_weather"},
    )
    assert forced.stop_reason == "tool_use"
    uses = [block for block in forced.content if block.type == "tool_use"]
    assert len(uses) == 1
    assert uses[0].name == "get_weather"
    assert isinstance(uses[0].input, dict)
    assert isinstance(uses[0].input.get("city"), str)
    follow = client.messages.create(
        model="claude-local",
        max_tokens=20,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": forced.content},  # type: ignore[typeddict-item]
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": uses[0].id, "content": "Sunny, 21 C"}
                ],
            },
        ],
        extra_body={"temperature": 0},
    )
    assert follow.content
    # Streamed, the call comes as a tool_use block with its input as JSON deltas.
    with client.messages.stream(
        model="claude-local",
        max_tokens=80,
        messages=[{"role": "user", "content": "Weather in Rome?"}],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "any"},
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    streamed = [block for block in final.content if block.type == "tool_use"]
    assert streamed
    assert isinstance(streamed[0].input, dict)


def test_errors_in_anthropics_shape(
    client: anthropic.Anthropic, keyed_server: ServerProcess
) -> None:
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.create(
            model="nope", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    body = missing.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "not_found_error"
    assert "nope" in body["error"]["message"]
    with (
        pytest.raises(anthropic.AuthenticationError),
        anthropic.Anthropic(
            base_url=keyed_server.url, api_key="wrong-key-wrong-key", max_retries=0
        ) as wrong,
    ):
        wrong.messages.create(
            model="claude-local", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(anthropic.BadRequestError) as image:
        client.messages.create(
            model="claude-local",
            max_tokens=5,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "AA=="},
                        }
                    ],
                }
            ],
        )
    assert "image" in str(image.value)
    listed = httpx.get(f"{keyed_server.url}/anthropic/v1/models", headers={"x-api-key": KEY}).json()
    assert "claude-local" in {model["id"] for model in listed["data"]}


def test_count_tokens_is_the_prompt_a_message_reads(client: anthropic.Anthropic) -> None:
    asked: dict[str, Any] = {
        "model": "claude-local",
        "system": "You answer in one short sentence.",
        "messages": [{"role": "user", "content": "Name a colour."}],
    }
    counted = client.messages.count_tokens(**asked)
    message = client.messages.create(max_tokens=4, **asked)
    assert counted.input_tokens > 0
    assert counted.input_tokens == message.usage.input_tokens
    longer = client.messages.count_tokens(
        **{**asked, "messages": [{"role": "user", "content": "Name a colour. " * 20}]}
    )
    assert longer.input_tokens > counted.input_tokens
    # A prompt longer than the model's context is still counted (a message would be refused).
    huge = client.messages.count_tokens(
        **{**asked, "messages": [{"role": "user", "content": "colour " * 3000}]}
    )
    assert huge.input_tokens > 1024
