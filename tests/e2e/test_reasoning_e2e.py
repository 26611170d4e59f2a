"""Thinking models through the real server: the reasoning comes as `reasoning_content`, the
answer free of tags, streamed and not, whether the model opens the block itself (Qwen3) or the
template opened it in the prompt (the DeepSeek-R1 distills); Xinference's launch option
`reasoning_content: false` leaves the text whole. The model is a tiny scripted thinker
(tests/fixtures/thinking_gguf.py) on the real llama.cpp."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import ollama
import pytest
from openai import OpenAI
from xinference_client import RESTfulClient

from tests.fixtures.server import ServerProcess, run_server
from tests.fixtures.thinking_gguf import ANSWER, REASONING, write_thinking_gguf

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HELLO = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("reasoning")
    qwen = write_thinking_gguf(home / "files" / "qwen-style.gguf", opens_block=True)
    r1 = write_thinking_gguf(home / "files" / "r1-style.gguf", opens_block=False)
    with run_server(home / "home") as running:
        for uid, name, path, extra in [
            ("qwen-thinker", "qwen3", qwen, {}),
            ("r1-thinker", "deepseek-r1-distill-qwen", r1, {}),
            ("r1-whole", "deepseek-r1-distill-qwen", r1, {"reasoning_content": False}),
        ]:
            running.launch_gguf(path, uid, model_name=name, n_ctx=512, **extra)
        yield running


@pytest.fixture(scope="module")
def openai_sdk(server: ServerProcess) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{server.url}/v1", api_key="none") as client:
        yield client


@pytest.fixture(scope="module")
def anthropic_sdk(server: ServerProcess) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.url, api_key="none", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def ollama_client(server: ServerProcess) -> Iterator[ollama.Client]:
    client = ollama.Client(host=server.url, timeout=120)
    try:
        yield client
    finally:
        client._client.close()  # the client has no close of its own


@pytest.mark.parametrize(("uid", "tags"), [("qwen-thinker", 2), ("r1-thinker", 1)])
def test_the_reasoning_is_apart_from_the_answer(openai_sdk: OpenAI, uid: str, tags: int) -> None:
    answer = openai_sdk.chat.completions.create(
        model=uid, messages=HELLO, temperature=0, max_tokens=40
    )
    message = answer.choices[0].message
    assert message.content == ANSWER
    assert (message.model_extra or {})["reasoning_content"] == REASONING
    assert answer.choices[0].finish_reason == "stop"
    usage = answer.usage
    assert usage is not None
    assert usage.completion_tokens_details is not None
    # One token a word, and the tags the model wrote (the R1 prompt opened the block).
    assert usage.completion_tokens_details.reasoning_tokens == len(REASONING.split()) + tags
    assert usage.completion_tokens == usage.completion_tokens_details.reasoning_tokens + len(
        ANSWER.split()
    )


@pytest.mark.parametrize("uid", ["qwen-thinker", "r1-thinker"])
def test_streamed_reasoning_comes_first_and_no_tag_reaches_the_text(
    openai_sdk: OpenAI, uid: str
) -> None:
    stream = openai_sdk.chat.completions.create(
        model=uid, messages=HELLO, temperature=0, max_tokens=40, stream=True
    )
    order: list[str] = []
    reasoning = content = ""
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        piece = (delta.model_extra or {}).get("reasoning_content")
        if piece:
            reasoning += piece
            order.append("reasoning")
        if delta.content:
            content += delta.content
            order.append("content")
    assert reasoning == REASONING
    assert content == ANSWER
    assert order.index("content") > len(order) - 1 - order[::-1].index("reasoning")


def test_cut_off_while_thinking_says_length(openai_sdk: OpenAI) -> None:
    answer = openai_sdk.chat.completions.create(
        model="r1-thinker", messages=HELLO, temperature=0, max_tokens=3
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "length"
    assert (choice.message.model_extra or {})["reasoning_content"] == "Okay the user"
    assert not choice.message.content


def test_the_launch_option_reasoning_content_false_leaves_the_text_whole(
    openai_sdk: OpenAI,
) -> None:
    answer = openai_sdk.chat.completions.create(
        model="r1-whole", messages=HELLO, temperature=0, max_tokens=40
    )
    message = answer.choices[0].message
    assert "reasoning_content" not in (message.model_extra or {})
    assert message.content is not None
    assert f"{REASONING}</think> {ANSWER}" in message.content


def test_xinference_client_reads_the_reasoning(server: ServerProcess) -> None:
    model = RESTfulClient(server.url).get_model("qwen-thinker")
    answer = model.chat(messages=HELLO, generate_config={"temperature": 0, "max_tokens": 40})
    message = answer["choices"][0]["message"]
    assert message["content"] == ANSWER
    assert message["reasoning_content"] == REASONING


def test_a_plain_model_answer_has_no_reasoning_field(server: ServerProcess) -> None:
    # The wire stays as it was for models that do not think: no null reasoning_content.
    body = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": "r1-whole", "messages": HELLO, "max_tokens": 5, "temperature": 0},
        timeout=60,
    ).json()
    assert "reasoning_content" not in body["choices"][0]["message"]
    assert "completion_tokens_details" not in body["usage"]


# -- the other APIs ---------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_thinking_blocks_when_thinking_is_on(
    anthropic_sdk: anthropic.Anthropic, stream: bool
) -> None:
    client = anthropic_sdk
    asked: dict[str, Any] = {
        "model": "r1-thinker",
        "max_tokens": 40,
        "messages": HELLO,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    if stream:
        with client.messages.stream(**asked) as events:
            kinds = [event.type for event in events]
            message = events.get_final_message()
        assert "thinking" in kinds
        assert kinds.index("thinking") < kinds.index("text")
    else:
        message = client.messages.create(**asked)
    blocks = [
        (block.type, getattr(block, "thinking", None) or getattr(block, "text", None))
        for block in message.content
    ]
    assert blocks == [("thinking", REASONING), ("text", ANSWER)]


def test_anthropic_without_thinking_shows_only_the_answer(
    anthropic_sdk: anthropic.Anthropic,
) -> None:
    client = anthropic_sdk
    message = client.messages.create(model="r1-thinker", max_tokens=40, messages=HELLO)
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == ANSWER  # type: ignore[union-attr]


def test_ollama_sends_the_reasoning_as_thinking(ollama_client: ollama.Client) -> None:
    client = ollama_client
    reply = client.chat(model="r1-thinker", messages=HELLO, options={"temperature": 0})
    assert reply.message.thinking == REASONING
    assert reply.message.content == ANSWER
    thinking = content = ""
    for part in client.chat(model="r1-thinker", messages=HELLO, stream=True):
        thinking += part.message.thinking or ""
        content += part.message.content or ""
    assert (thinking, content) == (REASONING, ANSWER)
    quiet = client.chat(model="r1-thinker", messages=HELLO, think=False)
    assert quiet.message.thinking is None
    assert quiet.message.content == ANSWER


def test_responses_put_the_reasoning_in_a_reasoning_item(openai_sdk: OpenAI) -> None:
    client = openai_sdk
    response = client.responses.create(model="qwen-thinker", input="Hi", max_output_tokens=40)
    assert [item.type for item in response.output] == ["reasoning", "message"]
    reasoning = response.output[0]
    assert reasoning.type == "reasoning"
    assert [part.text for part in reasoning.content or []] == [REASONING]
    assert response.output_text == ANSWER
    assert response.usage is not None
    assert response.usage.output_tokens_details.reasoning_tokens == len(REASONING.split()) + 2

    deltas = ""
    with client.responses.stream(model="qwen-thinker", input="Hi", max_output_tokens=40) as events:
        for event in events:
            if event.type == "response.reasoning_text.delta":
                deltas += event.delta
        final = events.get_final_response()
    assert deltas == REASONING
    assert final.output_text == ANSWER


def test_a_grammar_answer_skips_the_reasoning_the_template_opened(openai_sdk: OpenAI) -> None:
    # With response_format the grammar shapes the answer; the R1 template opened a reasoning
    # block, which the server closes first, so the shaped text is the answer, not reasoning.
    answer = openai_sdk.chat.completions.create(
        model="r1-thinker",
        messages=HELLO,
        temperature=0,
        max_tokens=12,
        response_format={"type": "json_object"},
    )
    message = answer.choices[0].message
    assert "reasoning_content" not in (message.model_extra or {})
    assert message.content
    assert message.content.lstrip().startswith("{")
