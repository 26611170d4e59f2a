"""OpenAI's Responses API with the `openai` SDK against the real server and Gemma: a response
and its stream (events in order, each numbered), instructions, a JSON-schema text format,
function tools and their outputs, previous_response_id, and a cut-off answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import BadRequestError, OpenAI

from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture(scope="module")
def client(server: ServerProcess, gemma_gguf: Path) -> Iterator[OpenAI]:
    server.launch_gguf(gemma_gguf, "resp", n_ctx=1024)
    with OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0) as sdk:
        yield sdk


def test_a_response_and_its_stream(client: OpenAI) -> None:
    answer = client.responses.create(
        model="resp",
        instructions="Answer in one short sentence.",
        input="Name a colour.",
        max_output_tokens=12,
        temperature=0,
    )
    assert answer.status in ("completed", "incomplete")
    assert answer.output_text
    assert answer.usage is not None
    assert answer.usage.input_tokens > 0
    assert 0 < answer.usage.output_tokens <= 12
    events = list(
        client.responses.create(
            model="resp",
            instructions="Answer in one short sentence.",
            input="Name a colour.",
            max_output_tokens=12,
            temperature=0,
            stream=True,
        )
    )
    kinds = [event.type for event in events]
    assert kinds[0] == "response.created"
    assert kinds[1] == "response.in_progress"
    assert kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == answer.output_text
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == answer.output_text


def test_json_schema_text_format(client: OpenAI) -> None:
    schema = {
        "type": "object",
        # A bounded string: the grammar closes the object within the token budget.
        "properties": {"colour": {"type": "string", "maxLength": 24}},
        "required": ["colour"],
        "additionalProperties": False,
    }
    answer = client.responses.create(
        model="resp",
        input="Pick a colour.",
        text={"format": {"type": "json_schema", "name": "pick", "schema": schema}},
        max_output_tokens=200,
        temperature=0,
    )
    assert answer.status == "completed", answer.incomplete_details
    assert isinstance(json.loads(answer.output_text)["colour"], str)


def test_function_tools_and_previous_response(client: OpenAI) -> None:
    called = client.responses.create(
        model="resp",
        input="What is the weather in Paris?",
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
        max_output_tokens=80,
    )
    calls = [item for item in called.output if item.type == "function_call"]
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert isinstance(json.loads(calls[0].arguments)["city"], str)
    follow = client.responses.create(
        model="resp",
        previous_response_id=called.id,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "Sunny"}],
        tools=[WEATHER],  # type: ignore[list-item]
        max_output_tokens=20,
        temperature=0,
    )
    assert follow.previous_response_id == called.id
    assert follow.output
    with pytest.raises(BadRequestError, match="not known here"):
        client.responses.create(model="resp", previous_response_id="resp_nope", input="hi")


def test_cut_off_and_refusals(client: OpenAI) -> None:
    cut = client.responses.create(
        model="resp", input="Count from one to fifty in words.", max_output_tokens=3
    )
    assert cut.status == "incomplete"
    assert cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"
    with pytest.raises(BadRequestError, match="reads text only"):
        client.responses.create(
            model="resp",
            input=[
                {
                    "role": "user",
                    "content": [{"type": "input_image", "image_url": "data:image/png;base64,AA=="}],
                }
            ],
        )
