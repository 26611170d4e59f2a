"""Thinking models through the real server: the reasoning comes as `reasoning_content`, the
answer free of tags, streamed and not, whether the model opens the block itself (Qwen3) or the
template opened it in the prompt (the DeepSeek-R1 distills); Xinference's launch option
`reasoning_content: false` leaves the text whole. The model is a tiny scripted thinker
(tests/fixtures/thinking_gguf.py) on the real llama.cpp."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
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


def _client(server: ServerProcess) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key="none")


@pytest.mark.parametrize(("uid", "tags"), [("qwen-thinker", 2), ("r1-thinker", 1)])
def test_the_reasoning_is_apart_from_the_answer(server: ServerProcess, uid: str, tags: int) -> None:
    answer = _client(server).chat.completions.create(
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
    server: ServerProcess, uid: str
) -> None:
    stream = _client(server).chat.completions.create(
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


def test_cut_off_while_thinking_says_length(server: ServerProcess) -> None:
    answer = _client(server).chat.completions.create(
        model="r1-thinker", messages=HELLO, temperature=0, max_tokens=3
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "length"
    assert (choice.message.model_extra or {})["reasoning_content"] == "Okay the user"
    assert not choice.message.content


def test_the_launch_option_reasoning_content_false_leaves_the_text_whole(
    server: ServerProcess,
) -> None:
    answer = _client(server).chat.completions.create(
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
