"""Tool-call parsing, the streaming filter, forced calls and the generic tool prompt.

The model outputs below follow the formats each family's chat template and reference parser use
(Qwen/Hermes, Llama 3.1, GLM-4, Gemma 3, DeepSeek R1/V3/V3.1, Mistral v3/v11/v13, gpt-oss
harmony); the docstrings of the format modules in `desktop.core.engine.toolcalls` name the sources.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from desktop.core.engine.toolcalls import (
    PARSERS,
    ParsedReply,
    ToolCall,
    ToolCallStreamFilter,
    forced_call_schema,
    forced_call_to_tool_call,
    generic_tool_prompt,
    parse_tool_calls,
    tool_result_messages_to_text,
)

NAMES: set[str] = {"get_weather", "get_time"}

WEATHER = {"city": "Paris"}
TIME_PARIS = {"timezone": "Europe/Paris"}


@dataclass(frozen=True)
class Case:
    """One model reply and what parsing it must give."""

    id: str
    parser: str | None
    text: str
    content: str | None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    reasoning: str | None = None
    names: frozenset[str] = frozenset(NAMES)


def _unchanged(case_id: str, parser: str | None, text: str, **extra: Any) -> Case:
    """A reply that holds no valid call: it must come back verbatim (stripped) as content."""
    return Case(case_id, parser, text, text.strip(), [], **extra)


DS_BEGIN = "<｜tool▁calls▁begin｜>"
DS_CALL = "<｜tool▁call▁begin｜>"
DS_SEP = "<｜tool▁sep｜>"
DS_CALL_END = "<｜tool▁call▁end｜>"
DS_END = "<｜tool▁calls▁end｜>"


def _ds_r1(name: str, args: str) -> str:
    return f"{DS_CALL}function{DS_SEP}{name}\n```json\n{args}\n```{DS_CALL_END}"


CASES: list[Case] = [
    # -- qwen (Qwen2.5 / Qwen3 / QwQ, Hermes style) ---------------------------------------------
    Case(
        "qwen-one",
        "qwen",
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        None,
        [("get_weather", WEATHER)],
    ),
    Case(
        "qwen-two-with-content",
        "qwen",
        "I'll look up both for you.\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "北京"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_time", "arguments": {"timezone": "Asia/Shanghai"}}\n'
        "</tool_call>",
        "I'll look up both for you.",
        [("get_weather", {"city": "北京"}), ("get_time", {"timezone": "Asia/Shanghai"})],
    ),
    Case(
        "qwen3-think-then-call",
        "qwen",
        "<think>\nThe user wants the weather in Paris.\n</think>\n\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        "<think>\nThe user wants the weather in Paris.\n</think>",
        [("get_weather", WEATHER)],
    ),
    Case(
        "qwen-content-after-call",
        "qwen",
        'Checking.\n<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>\nOne moment.',
        "Checking.\n\nOne moment.",
        [("get_time", {})],
    ),
    Case(
        "qwen-arguments-as-json-string",
        "qwen",
        '<tool_call>\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}\n'
        "</tool_call>",
        None,
        [("get_weather", WEATHER)],
    ),
    Case(
        "qwen-unclosed-last-block",
        "qwen",
        '<tool_call>\n{"name": "get_time", "arguments": {"timezone": "Europe/Paris"}}',
        None,
        [("get_time", TIME_PARIS)],
    ),
    Case(
        "qwen3-coder-xml",
        "qwen",
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
        "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>",
        None,
        [("get_weather", {"city": "Paris", "days": 3})],
    ),
    Case(
        "qwen-bare-json-reply",
        "qwen",
        '{"name": "get_weather", "arguments": {"city": "Paris"}}',
        None,
        [("get_weather", WEATHER)],
    ),
    _unchanged(
        "qwen-malformed",
        "qwen",
        'Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}\n</tool_call>',
    ),
    _unchanged(
        "qwen-unknown-tool",
        "qwen",
        '<tool_call>\n{"name": "send_email", "arguments": {"to": "a@b.c"}}\n</tool_call>',
    ),
    _unchanged("qwen-plain", "qwen", "The weather in Paris is usually mild in spring."),
    # -- llama3 (Llama 3.1 / 3.3) ----------------------------------------------------------------
    Case(
        "llama3-one",
        "llama3",
        '{"name": "get_weather", "parameters": {"city": "Paris"}}',
        None,
        [("get_weather", WEATHER)],
    ),
    Case(
        "llama3-type-function",
        "llama3",
        '{"type": "function", "name": "get_time", "parameters": {"timezone": "Europe/Paris"}}',
        None,
        [("get_time", TIME_PARIS)],
    ),
    Case(
        "llama3-two-semicolon",
        "llama3",
        '{"name": "get_weather", "parameters": {"city": "Paris"}}; '
        '{"name": "get_time", "parameters": {"timezone": "Europe/Paris"}}',
        None,
        [("get_weather", WEATHER), ("get_time", TIME_PARIS)],
    ),
    Case(
        "llama3-python-tag-with-content",
        "llama3",
        'Let me look that up.<|python_tag|>{"name": "get_weather", "arguments": '
        '{"city": "Paris"}}<|eom_id|>',
        "Let me look that up.",
        [("get_weather", WEATHER)],
    ),
    Case(
        "llama3-builtin-python-call",
        "llama3",
        '<|python_tag|>brave_search.call(query="weather in Paris")',
        None,
        [("brave_search", {"query": "weather in Paris"})],
        names=frozenset({"brave_search"}),
    ),
    _unchanged(
        "llama3-json-mid-text",
        "llama3",
        'The call would be {"name": "get_weather", "parameters": {"city": "Paris"}} I think.',
    ),
    _unchanged(
        "llama3-malformed",
        "llama3",
        '{"name": "get_weather", "parameters": {"city": "Paris"}',
    ),
    _unchanged(
        "llama3-unknown-tool",
        "llama3",
        '{"name": "send_email", "parameters": {"to": "a@b.c"}}',
    ),
    # -- glm4 (GLM-4-9B-chat, GLM-4-0414; GLM-4.5 tags) -----------------------------------------
    Case(
        "glm4-one",
        "glm4",
        'get_weather\n{"city": "Beijing"}',
        None,
        [("get_weather", {"city": "Beijing"})],
    ),
    Case(
        "glm4-one-observation",
        "glm4",
        'get_weather\n{"city": "Beijing"}<|observation|>',
        None,
        [("get_weather", {"city": "Beijing"})],
    ),
    Case(
        "glm4-two",
        "glm4",
        'get_weather\n{"city": "Beijing"}<|assistant|>get_time\n{"timezone": "Asia/Shanghai"}',
        None,
        [("get_weather", {"city": "Beijing"}), ("get_time", {"timezone": "Asia/Shanghai"})],
    ),
    Case(
        "glm4-content-then-call",
        "glm4",
        '好的，我来查一下。<|assistant|>get_weather\n{"city": "北京"}',
        "好的，我来查一下。",
        [("get_weather", {"city": "北京"})],
    ),
    Case(
        "glm45-arg-tags",
        "glm4",
        "Let me check.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n"
        "<arg_value>Beijing</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n"
        "</tool_call>",
        "Let me check.",
        [("get_weather", {"city": "Beijing", "days": 3})],
    ),
    _unchanged("glm4-plain", "glm4", "\nHello! How can I help you today?"),
    _unchanged("glm4-name-word-in-text", "glm4", "get_weather is the tool I would use here."),
    _unchanged("glm4-malformed", "glm4", 'get_weather\n{"city": "Beijing"'),
    _unchanged("glm4-unknown-tool", "glm4", 'send_email\n{"to": "a@b.c"}'),
    # -- gemma (Gemma 3: tool_code blocks, Python call lists, JSON) ------------------------------
    Case(
        "gemma-tool-code-one",
        "gemma",
        '```tool_code\nget_weather(city="Paris")\n```',
        None,
        [("get_weather", WEATHER)],
    ),
    Case(
        "gemma-tool-code-print-with-content",
        "gemma",
        'Let me check the weather.\n```tool_code\nprint(get_weather(city="Paris", days=2))\n```',
        "Let me check the weather.",
        [("get_weather", {"city": "Paris", "days": 2})],
    ),
    Case(
        "gemma-tool-code-two-lines",
        "gemma",
        '```tool_code\nget_weather(city="Paris")\nget_time(timezone="Europe/Paris")\n```',
        None,
        [("get_weather", WEATHER), ("get_time", TIME_PARIS)],
    ),
    Case(
        "gemma-call-list-two",
        "gemma",
        '[get_weather(city="Paris"), get_time(timezone="Europe/Paris")]',
        None,
        [("get_weather", WEATHER), ("get_time", TIME_PARIS)],
    ),
    Case(
        "gemma-bare-call-literals",
        "gemma",
        "get_weather(city='Paris', days=-1, hourly=True, extra=None, tags=['a', 'b'], "
        "opts={'x': 1.5})",
        None,
        [
            (
                "get_weather",
                {
                    "city": "Paris",
                    "days": -1,
                    "hourly": True,
                    "extra": None,
                    "tags": ["a", "b"],
                    "opts": {"x": 1.5},
                },
            )
        ],
    ),
    Case(
        "gemma-json",
        "gemma",
        '{"name": "get_weather", "parameters": {"city": "Paris"}}',
        None,
        [("get_weather", WEATHER)],
    ),
    _unchanged("gemma-malformed", "gemma", '```tool_code\nget_weather(city="Paris"\n```'),
    _unchanged(
        "gemma-not-a-literal",
        "gemma",
        '```tool_code\nget_weather(city=__import__("os").getcwd())\n```',
    ),
    _unchanged("gemma-positional", "gemma", '[get_weather("Paris")]'),
    _unchanged("gemma-unknown-tool", "gemma", '[send_email(to="a@b.c")]'),
    _unchanged("gemma-plain-code", "gemma", "Here:\n```python\nprint('hi')\n```"),
    # -- deepseek (R1 and its distills, V3, V3.1) -----------------------------------------------
    Case(
        "deepseek-r1-one-after-think",
        "deepseek",
        "<think>\nNeed the weather.\n</think>\n\n"
        f"{DS_BEGIN}{_ds_r1('get_weather', json.dumps(WEATHER))}{DS_END}",
        "<think>\nNeed the weather.\n</think>",
        [("get_weather", WEATHER)],
    ),
    Case(
        "deepseek-r1-two-with-content",
        "deepseek",
        "I will check both.\n"
        f"{DS_BEGIN}{_ds_r1('get_weather', json.dumps(WEATHER))}\n"
        f"{_ds_r1('get_time', json.dumps(TIME_PARIS))}{DS_END}",
        "I will check both.",
        [("get_weather", WEATHER), ("get_time", TIME_PARIS)],
    ),
    Case(
        "deepseek-v31",
        "deepseek",
        f'{DS_BEGIN}{DS_CALL}get_weather{DS_SEP}{{"city": "Paris"}}{DS_CALL_END}{DS_END}',
        None,
        [("get_weather", WEATHER)],
    ),
    Case(
        "deepseek-misspelt-opener-no-end",
        "deepseek",
        f"<｜tool_calls_begin｜>{_ds_r1('get_time', json.dumps(TIME_PARIS))}",
        None,
        [("get_time", TIME_PARIS)],
    ),
    _unchanged(
        "deepseek-malformed",
        "deepseek",
        f"{DS_BEGIN}{_ds_r1('get_weather', '{city: Paris}')}{DS_END}",
    ),
    _unchanged(
        "deepseek-unknown-tool",
        "deepseek",
        f"{DS_BEGIN}{_ds_r1('send_email', json.dumps({'to': 'a@b.c'}))}{DS_END}",
    ),
    # -- mistral (v3/v7 JSON arrays, v11 [CALL_ID], v13 [ARGS]) ---------------------------------
    Case(
        "mistral-v3-one",
        "mistral",
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abcDEF123"}]',
        None,
        [("get_weather", WEATHER)],
    ),
    Case(
        "mistral-v3-two-with-content",
        "mistral",
        'Let me check.[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}, '
        '{"name": "get_time", "arguments": {"timezone": "Europe/Paris"}}]',
        "Let me check.",
        [("get_weather", WEATHER), ("get_time", TIME_PARIS)],
    ),
    Case(
        "mistral-v11-call-id",
        "mistral",
        '[TOOL_CALLS]get_weather[CALL_ID]abcDEF123[ARGS]{"city": "Zürich"}'
        '[TOOL_CALLS]get_time[CALL_ID]xyzXYZ789[ARGS]{"timezone": "Europe/Zurich"}',
        None,
        [("get_weather", {"city": "Zürich"}), ("get_time", {"timezone": "Europe/Zurich"})],
    ),
    Case(
        "mistral-v13-args",
        "mistral",
        '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}',
        None,
        [("get_weather", WEATHER)],
    ),
    _unchanged(
        "mistral-malformed",
        "mistral",
        '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}',
    ),
    _unchanged(
        "mistral-unknown-tool",
        "mistral",
        '[TOOL_CALLS][{"name": "send_email", "arguments": {"to": "a@b.c"}}]',
    ),
    _unchanged("mistral-plain-brackets", "mistral", "[1] Paris is the capital of France."),
    # -- gpt-oss (harmony) -----------------------------------------------------------------------
    Case(
        "gpt-oss-one",
        "gpt-oss",
        "<|channel|>analysis<|message|>Need to use function get_weather.<|end|>"
        "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
        '<|message|>{"city":"Paris"}<|call|>',
        None,
        [("get_weather", WEATHER)],
        reasoning="Need to use function get_weather.",
    ),
    Case(
        "gpt-oss-preamble-two-calls",
        "gpt-oss",
        "<|channel|>analysis<|message|>Two lookups.<|end|>"
        "<|start|>assistant<|channel|>commentary<|message|>Checking both now.<|end|>"
        "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
        '<|message|>{"city":"Paris"}<|call|>'
        "<|start|>assistant<|channel|>commentary to=functions.get_time <|constrain|>json"
        '<|message|>{"timezone":"Europe/Paris"}',
        "Checking both now.",
        [("get_weather", WEATHER), ("get_time", TIME_PARIS)],
        reasoning="Two lookups.",
    ),
    Case(
        "gpt-oss-recipient-in-role",
        "gpt-oss",
        "<|start|>assistant to=functions.get_weather<|channel|>commentary json"
        '<|message|>{"city": "Paris"}<|call|>',
        None,
        [("get_weather", WEATHER)],
    ),
    Case(
        "gpt-oss-final-only",
        "gpt-oss",
        "<|channel|>analysis<|message|>Simple greeting.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Hello! How can I help?",
        "Hello! How can I help?",
        reasoning="Simple greeting.",
    ),
    Case(
        "gpt-oss-malformed",
        "gpt-oss",
        "<|channel|>analysis<|message|>Call it.<|end|>"
        "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
        '<|message|>{"city": "Paris"',
        "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
        '<|message|>{"city": "Paris"',
        reasoning="Call it.",
    ),
    Case(
        "gpt-oss-unknown-tool",
        "gpt-oss",
        "<|channel|>commentary to=functions.send_email <|constrain|>json"
        '<|message|>{"to": "a@b.c"}<|call|>',
        '<|channel|>commentary to=functions.send_email <|constrain|>json<|message|>{"to": "a@b.c"}',
    ),
    _unchanged("gpt-oss-no-markup", "gpt-oss", "Plain text from an engine that dropped tokens."),
    # -- generic (models whose template has no tool support) ------------------------------------
    Case(
        "generic-one",
        "generic",
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>',
        None,
        [("get_weather", WEATHER)],
    ),
    Case(
        "generic-two-with-content",
        None,
        "Sure, checking both.\n"
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>\n'
        '<tool_call>{"name": "get_time", "arguments": {"timezone": "Europe/Paris"}}</tool_call>',
        "Sure, checking both.",
        [("get_weather", WEATHER), ("get_time", TIME_PARIS)],
    ),
    Case(
        "generic-bare-json",
        "generic",
        '{"name": "get_weather", "parameters": {"city": "Paris"}}',
        None,
        [("get_weather", WEATHER)],
    ),
    Case(
        "generic-fenced-json",
        "generic",
        '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
        None,
        [("get_weather", WEATHER)],
    ),
    _unchanged(
        "generic-malformed",
        "generic",
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"</tool_call>',
    ),
    _unchanged(
        "generic-unknown-tool",
        "generic",
        '<tool_call>{"name": "send_email", "arguments": {"to": "a@b.c"}}</tool_call>',
    ),
    _unchanged("generic-json-data", "generic", '{"city": "Paris", "temperature": 21}'),
    _unchanged(
        "generic-nan-arguments",
        "generic",
        '<tool_call>{"name": "get_weather", "arguments": {"lat": NaN}}</tool_call>',
    ),
]

CASE_PARAMS = [pytest.param(case, id=case.id) for case in CASES]


def _call_pairs(calls: list[ToolCall]) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, json.loads(c.arguments)) for c in calls]


def _check_call_shape(calls: list[ToolCall]) -> None:
    for call in calls:
        assert call.id.startswith("call_")
        assert len(call.id) > len("call_") + 8
        int(call.id[len("call_") :], 16)  # random hex
        assert isinstance(json.loads(call.arguments), dict)
    assert len({c.id for c in calls}) == len(calls)


def test_every_parser_has_cases() -> None:
    assert {case.parser or "generic" for case in CASES} == PARSERS


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_parse(case: Case) -> None:
    reply = parse_tool_calls(case.text, case.parser, set(case.names))
    assert reply.content == case.content
    assert _call_pairs(reply.tool_calls) == case.calls
    assert reply.reasoning == case.reasoning
    _check_call_shape(reply.tool_calls)


def test_arguments_keep_non_ascii() -> None:
    reply = parse_tool_calls(
        '<tool_call>{"name": "get_weather", "arguments": {"city": "北京"}}</tool_call>',
        "qwen",
        NAMES,
    )
    assert reply.tool_calls[0].arguments == '{"city": "北京"}'


def test_unknown_parser_is_an_error() -> None:
    with pytest.raises(ValueError, match="Unknown tool-call parser"):
        parse_tool_calls("hi", "no-such-family", NAMES)
    with pytest.raises(ValueError, match="supported"):
        ToolCallStreamFilter("no-such-family", NAMES)


def test_no_tool_names_means_no_calls() -> None:
    text = '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>'
    assert parse_tool_calls(text, "qwen", set()) == ParsedReply(text, [])


def test_mixed_known_and_unknown_in_one_array_keeps_the_known() -> None:
    reply = parse_tool_calls(
        '[TOOL_CALLS][{"name": "send_email", "arguments": {}}, '
        '{"name": "get_time", "arguments": {}}]',
        "mistral",
        NAMES,
    )
    assert reply.content is None
    assert _call_pairs(reply.tool_calls) == [("get_time", {})]


def test_gemma_never_evaluates_code() -> None:
    # Attribute access, calls inside arguments, comprehensions: all left alone as text.
    for code in (
        "get_weather(city=open('/etc/passwd').read())",
        "get_weather(city=[c for c in 'ab'])",
        "get_weather(**{'city': 'Paris'})",
        "import os\nget_weather(city='Paris')",
        "get_weather(city=b'bytes')",
    ):
        text = f"```tool_code\n{code}\n```"
        assert parse_tool_calls(text, "gemma", NAMES) == ParsedReply(text, [])


# -- streaming ------------------------------------------------------------------------------------


def _chunks(text: str, sizes: list[int]) -> Iterator[str]:
    pos = 0
    for size in itertools.cycle(sizes):
        if pos >= len(text):
            return
        yield text[pos : pos + size]
        pos += size


CHUNKINGS = {
    "chars": [1],
    "odd": [3, 1, 4, 1, 5, 9, 2, 6],
    "sevens": [7],
    "whole": [1_000_000],
}


def _stream(case: Case, pieces: Iterator[str]) -> tuple[list[str], ParsedReply]:
    stream = ToolCallStreamFilter(case.parser, set(case.names))
    emitted = [stream.feed(piece) for piece in pieces]
    return emitted, stream.finish()


def _check_stream(case: Case, emitted: list[str], rest: ParsedReply) -> None:
    whole = parse_tool_calls(case.text, case.parser, set(case.names))
    shown = "".join(emitted)
    # What was streamed plus what finish() adds is exactly the parsed content...
    assert shown + (rest.content or "") == (whole.content or "")
    assert _call_pairs(rest.tool_calls) == _call_pairs(whole.tool_calls) == case.calls
    assert rest.reasoning == whole.reasoning
    # ...and the streamed part is a prefix of the expected content, so when the reply held a
    # valid call not one character of its markup was shown early.
    assert (case.content or "").startswith(shown)


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_stream_matches_parse(case: Case, chunking: str) -> None:
    emitted, rest = _stream(case, _chunks(case.text, CHUNKINGS[chunking]))
    _check_stream(case, emitted, rest)


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_stream_every_two_way_split(case: Case) -> None:
    for cut in range(1, len(case.text)):
        emitted, rest = _stream(case, iter([case.text[:cut], case.text[cut:]]))
        _check_stream(case, emitted, rest)


def test_stream_shows_plain_text_before_the_end() -> None:
    stream = ToolCallStreamFilter("qwen", NAMES)
    shown = "".join(stream.feed(c) for c in "Hello! How can I help?")
    assert shown == "Hello! How can I help?"
    assert stream.finish() == ParsedReply(None, [])


def test_stream_holds_a_possible_tag_then_releases_a_false_alarm() -> None:
    stream = ToolCallStreamFilter("qwen", NAMES)
    assert stream.feed("Compare a <tool") == "Compare a"
    assert stream.feed("_c") == ""
    assert stream.feed("ase> with b.") == " <tool_case> with b."
    assert stream.finish().content is None


def test_stream_holds_text_after_the_markup_until_finish() -> None:
    stream = ToolCallStreamFilter("qwen", NAMES)
    shown = stream.feed("Checking.\n<tool_call>\n")
    shown += stream.feed('{"name": "get_time", "arguments": {}}\n</tool_call>\nOne moment.')
    assert shown == "Checking."
    rest = stream.finish()
    assert rest.content == "\n\nOne moment."
    assert _call_pairs(rest.tool_calls) == [("get_time", {})]


def test_stream_glm4_holds_what_may_be_a_function_name() -> None:
    stream = ToolCallStreamFilter("glm4", NAMES)
    assert stream.feed("get") == ""
    assert stream.feed("_weather") == ""
    assert stream.feed(" is a tool.") == "get_weather is a tool."


def test_stream_gpt_oss_streams_the_final_channel_only() -> None:
    stream = ToolCallStreamFilter("gpt-oss", NAMES)
    text = (
        "<|channel|>analysis<|message|>Think quietly.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Hi there, friend!"
    )
    shown = "".join(stream.feed(c) for c in text)
    assert shown == "Hi there, friend!"
    rest = stream.finish()
    assert rest == ParsedReply(None, [], "Think quietly.")


def test_stream_feed_after_finish_is_an_error() -> None:
    stream = ToolCallStreamFilter(None, NAMES)
    stream.finish()
    with pytest.raises(RuntimeError):
        stream.feed("late")


# -- forced calls ---------------------------------------------------------------------------------

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"$ref": "#/$defs/Unit"},
                },
                "required": ["city"],
                "$defs": {"Unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            },
        },
    },
    {
        "type": "function",
        "function": {"name": "get_time", "description": "Current time in a timezone."},
    },
]


def test_forced_schema_required_is_any_of_all_tools() -> None:
    schema = forced_call_schema(TOOLS, "required")
    variants = schema["anyOf"]
    assert [v["properties"]["name"]["const"] for v in variants] == ["get_weather", "get_time"]
    for variant in variants:
        assert variant["required"] == ["name", "arguments"]
        assert list(variant["properties"]) == ["name", "arguments"]
    weather_args = variants[0]["properties"]["arguments"]
    # $defs move to the root so the reference still resolves there.
    assert "$defs" not in weather_args
    ref = weather_args["properties"]["unit"]["$ref"]
    assert ref.startswith("#/$defs/")
    assert schema["$defs"][ref.removeprefix("#/$defs/")]["enum"] == ["celsius", "fahrenheit"]
    assert variants[1]["properties"]["arguments"]["type"] == "object"
    # The caller's tools are left untouched.
    assert "$defs" in TOOLS[0]["function"]["parameters"]


def test_forced_schema_named_function() -> None:
    schema = forced_call_schema(TOOLS, {"type": "function", "function": {"name": "get_time"}})
    assert "anyOf" not in schema
    assert schema["properties"]["name"] == {"type": "string", "const": "get_time"}


def test_forced_schema_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"'send_email'.*not among"):
        forced_call_schema(TOOLS, {"type": "function", "function": {"name": "send_email"}})


@pytest.mark.parametrize("choice", ["auto", "none", {"type": "function"}])
def test_forced_schema_rejects_choices_that_force_nothing(choice: str | dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="tool_choice"):
        forced_call_schema(TOOLS, choice)


def test_forced_schema_required_without_tools() -> None:
    with pytest.raises(ValueError, match="at least one"):
        forced_call_schema([], "required")


def test_forced_call_to_tool_call() -> None:
    call = forced_call_to_tool_call('{"name": "get_weather", "arguments": {"city": "Paris"}}')
    assert (call.name, json.loads(call.arguments)) == ("get_weather", WEATHER)
    _check_call_shape([call])
    as_string = forced_call_to_tool_call('{"name": "get_time", "arguments": "{}"}')
    assert (as_string.name, as_string.arguments) == ("get_time", "{}")


@pytest.mark.parametrize(
    "text",
    ['{"name": "get_weather", "arguments": {"city": "Par', "[]", '{"arguments": {}}', ""],
)
def test_forced_call_to_tool_call_rejects_bad_output(text: str) -> None:
    with pytest.raises(ValueError, match="forced tool call"):
        forced_call_to_tool_call(text)


# -- templates without tool support ---------------------------------------------------------------


def test_generic_prompt_lists_every_tool_and_round_trips() -> None:
    prompt = generic_tool_prompt(TOOLS)
    for tool in TOOLS:
        assert tool["function"]["name"] in prompt
    assert "Current weather for a city." in prompt
    assert '"enum": ["celsius", "fahrenheit"]' in prompt
    assert "<tool_call>" in prompt
    # A model that answers the way the prompt shows is read by the generic parser.
    answer = '<tool_call>{"name": "get_time", "arguments": {"timezone": "UTC"}}</tool_call>'
    reply = parse_tool_calls(answer, "generic", {"get_weather", "get_time"})
    assert _call_pairs(reply.tool_calls) == [("get_time", {"timezone": "UTC"})]


CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather and time in Paris?"},
    {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "get_time", "arguments": '{"timezone": "Europe/Paris"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "21°C and sunny"},
    {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "14:05"}]},
    {"role": "user", "content": "Thanks!"},
]


def test_tool_messages_become_plain_turns() -> None:
    original = copy.deepcopy(CONVERSATION)
    out = tool_result_messages_to_text(CONVERSATION)
    assert original == CONVERSATION  # input untouched
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    for message in out:
        assert isinstance(message["content"], str)
        assert "tool_calls" not in message
        assert "tool_call_id" not in message
    assistant = out[2]["content"]
    assert assistant.startswith("Checking.")
    # The calls are written in the generic format, so the generic parser reads them back.
    reread = parse_tool_calls(assistant, "generic", NAMES)
    assert _call_pairs(reread.tool_calls) == [("get_weather", WEATHER), ("get_time", TIME_PARIS)]
    results = out[3]["content"]
    assert "21°C and sunny" in results
    assert "14:05" in results
    assert 'name="get_weather"' in results
    assert 'name="get_time"' in results
    assert results.endswith("Thanks!")


def test_legacy_function_call_messages() -> None:
    out = tool_result_messages_to_text(
        [
            {"role": "user", "content": "Time?"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_time", "arguments": "{}"},
            },
            {"role": "function", "name": "get_time", "content": "09:00"},
        ]
    )
    assert [m["role"] for m in out] == ["user", "assistant", "user"]
    assert '"name": "get_time"' in out[1]["content"]
    assert "09:00" in out[2]["content"]
