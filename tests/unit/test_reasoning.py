"""A thinking model's reasoning, split from its answer as it streams (`engine.reasoning`), and
the worker's batching of the two kinds of text."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.core.engine.answers import PlainAnswer, ToolStreamAnswer
from desktop.core.engine.reasoning import ReasoningSplit, starts_inside
from desktop.core.engine.worker_side import merge_deltas

THINK = ("<think>", "</think>")


def _split(*, inside: bool = False, inner: Any = None, tags: tuple[str, str] = THINK) -> Any:
    return ReasoningSplit(inner or PlainAnswer(), tags, inside=inside)


def _run(split: Any, pieces: list[str], finish: str = "stop") -> tuple[str, str, list[Any]]:
    events = []
    for piece in pieces:
        events += split.feed(piece)
    events += split.finish({"finish_reason": finish, "usage": {"completion_tokens": 9}})
    reasoning = "".join(p["text"] for kind, p in events if kind == "reasoning")
    answer = "".join(p["text"] for kind, p in events if kind == "delta")
    return reasoning, answer, events


def _done(events: list[Any]) -> dict[str, Any]:
    dones = [payload for kind, payload in events if kind == "done"]
    assert len(dones) == 1
    return dones[0]


def test_tags_split_across_tokens_are_found() -> None:
    pieces = ["<th", "ink", ">\n", "Let me", " think", ".</", "thi", "nk>", "\n\n", "Hello", "!"]
    reasoning, answer, events = _run(_split(), pieces)
    assert reasoning == "Let me think."
    assert answer == "Hello!"
    # Every piece until the answer began was a token of the reasoning (tags included).
    assert _done(events)["usage"]["completion_tokens_details"] == {"reasoning_tokens": 8}
    # The reasoning comes as it is written, not all at the end.
    kinds = [kind for kind, _ in events]
    assert kinds.index("reasoning") < kinds.index("delta")
    assert kinds.count("reasoning") >= 2


def test_a_prompt_that_opened_the_block_starts_inside() -> None:
    prompt = "<｜User｜>Hi<｜Assistant｜><think>\n"
    assert starts_inside(prompt, "<think>")
    assert not starts_inside("<|im_start|>assistant\n", "<think>")
    reasoning, answer, _ = _run(_split(inside=True), ["\nOkay, ", "a greeting.", "</think>", "Hi"])
    assert reasoning == "Okay, a greeting."
    assert answer == "Hi"


@pytest.mark.parametrize(
    "pieces",
    [
        ["Hello <think> is", " a tag"],  # a tag after the start is text
        ["\n", "Hello"],  # whitespace before the answer stays
        ["<", "b>bold</b>"],  # starts like the tag, is not
        [],
    ],
)
def test_an_answer_without_reasoning_is_left_whole(pieces: list[str]) -> None:
    reasoning, answer, events = _run(_split(), pieces)
    assert reasoning == ""
    assert answer == "".join(pieces)
    assert "completion_tokens_details" not in _done(events)["usage"]


def test_a_closing_tag_look_alike_stays_in_the_reasoning() -> None:
    reasoning, answer, _ = _run(_split(inside=True), ["a </th", "ing> b", "</think>c"])
    assert reasoning == "a </thing> b"
    assert answer == "c"


def test_cut_off_while_thinking_keeps_the_reasoning_and_says_length() -> None:
    reasoning, answer, events = _run(_split(), ["<think>", "still thinking </th"], "length")
    assert reasoning == "still thinking </th"
    assert answer == ""
    assert _done(events)["finish_reason"] == "length"


def test_the_answer_after_the_reasoning_still_has_its_tool_calls_parsed() -> None:
    inner = ToolStreamAnswer("qwen", {"get_weather"})
    call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    reasoning, answer, events = _run(
        _split(inner=inner), ["<think>", "Need the weather.", "</think>\n\n", call]
    )
    assert reasoning == "Need the weather."
    assert "<tool_call>" not in answer
    calls = [payload["calls"] for kind, payload in events if kind == "tool_calls"]
    assert calls[0][0]["name"] == "get_weather"
    assert _done(events)["finish_reason"] == "tool_calls"


def test_gpt_oss_channel_words_as_tags() -> None:
    # With its special tokens left out, gpt-oss writes "analysis...assistantfinal...": the tags
    # Xinference's registry gives the family.
    split = _split(tags=("analysis", "assistantfinal"))
    reasoning, answer, _ = _run(split, ["analysis", "User says hi.", "assistant", "final", "Hi!"])
    assert reasoning == "User says hi."
    assert answer == "Hi!"


def test_the_worker_batches_each_kind_of_text_apart() -> None:
    events = [
        ("a", "reasoning", {"text": "x"}),
        ("a", "reasoning", {"text": "y"}),
        ("b", "delta", {"text": "1"}),
        ("a", "delta", {"text": "z"}),
        ("a", "delta", {"text": "w"}),
        ("b", "delta", {"text": "2"}),
    ]
    assert merge_deltas(events) == [
        ("a", "reasoning", {"text": "xy"}),
        ("b", "delta", {"text": "12"}),
        ("a", "delta", {"text": "zw"}),
    ]
