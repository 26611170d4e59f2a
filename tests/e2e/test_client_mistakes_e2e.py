"""Client mistakes are 4xx answers that name the field, never a 500 with internal text: each case
that once reached a 500 (`AssertionError: Unrecognized schema`, `AttributeError`, `TypeError`),
against the real server and the real Gemma model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

UID = "mistakes"
HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def gemma(server: ServerProcess, gemma_gguf: Path) -> Iterator[str]:
    uid = server.launch_gguf(gemma_gguf, UID, n_ctx=1024, parallel=1)
    yield uid
    httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60)


def _schema_format(schema: object) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}


def _tool(function: object) -> list[dict[str, Any]]:
    return [{"type": "function", "function": function}]


_BAD_PARAMETERS = {"type": "object", "properties": {"x": {"type": "widget"}}}

CHAT_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "json_schema $ref to nothing",
        {"response_format": _schema_format({"$ref": "#/$defs/missing"})},
        "response_format.json_schema.schema",
    ),
    (
        "json_schema unknown type",
        {"response_format": _schema_format({"type": "widget"})},
        "response_format.json_schema.schema",
    ),
    (
        "json_schema unanchored pattern",
        {"response_format": _schema_format({"type": "string", "pattern": "abc"})},
        "response_format.json_schema.schema",
    ),
    (
        "json_schema that is a list",
        {"response_format": _schema_format([1, 2])},
        "json_schema.schema",
    ),
    (
        "json_object garbage schema",
        {"response_format": {"type": "json_object", "schema": {"properties": "nope"}}},
        "response_format.schema",
    ),
    (
        "json_object schema of an unknown type",
        {"response_format": {"type": "json_object", "schema": {"type": "widget"}}},
        "response_format.schema",
    ),
    ("guided_json that is not JSON", {"guided_json": "{not json"}, "guided_json"),
    ("guided_json unknown type", {"guided_json": {"type": "widget"}}, "guided_json"),
    ("grammar llama.cpp cannot parse", {"grammar": "root ::= ("}, "grammar"),
    ("response_format of an unknown type", {"response_format": {"type": "xml"}}, "response_format"),
    ("tools whose function is a string", {"tools": _tool("get_weather")}, "tools[0].function"),
    ("tools whose function has no name", {"tools": _tool({"description": "x"})}, "tools[0]"),
    (
        "tools whose parameters are a string",
        {"tools": _tool({"name": "f", "parameters": "x"})},
        "tools[0].function.parameters",
    ),
    (
        "required tool with bad parameters",
        {"tools": _tool({"name": "f", "parameters": _BAD_PARAMETERS}), "tool_choice": "required"},
        "tools",
    ),
    (
        "named tool with bad parameters",
        {
            "tools": _tool({"name": "f", "parameters": _BAD_PARAMETERS}),
            "tool_choice": {"type": "function", "function": {"name": "f"}},
        },
        "tools",
    ),
    (
        "tool_choice naming no tool",
        {
            "tools": _tool({"name": "f"}),
            "tool_choice": {"type": "function", "function": {"name": "g"}},
        },
        "tool_choice",
    ),
    (
        "chat_template_kwargs a string that is not JSON",
        {"chat_template_kwargs": "enable_thinking"},
        "chat_template_kwargs",
    ),
    (
        "chat_template_kwargs a JSON list",
        {"chat_template_kwargs": "[1, 2]"},
        "chat_template_kwargs",
    ),
    (
        "chat_template_kwargs naming the template's own variables",
        {"chat_template_kwargs": {"messages": []}},
        "chat_template_kwargs",
    ),
]


@pytest.mark.parametrize(
    ("body", "field"), [c[1:] for c in CHAT_CASES], ids=[c[0] for c in CHAT_CASES]
)
def test_a_chat_mistake_is_a_4xx_naming_the_field(
    server: ServerProcess, gemma: str, body: dict[str, Any], field: str
) -> None:
    response = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": gemma, "messages": HI, "max_tokens": 8, **body},
        timeout=60,
    )
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    assert field in detail, detail
    assert "Error" not in detail.split(":")[0], detail


@pytest.mark.parametrize("depth", [900, 5000])
def test_a_deeply_nested_schema_is_a_4xx(server: ServerProcess, gemma: str, depth: int) -> None:
    # Written by hand: the json module cannot encode 5,000 levels either.
    schema = '{"type": "array", "items": ' * depth + '{"type": "string"}' + "}" * depth
    body = (
        f'{{"model": "{gemma}", "messages": [{{"role": "user", "content": "Hi"}}], '
        f'"max_tokens": 8, "response_format": {{"type": "json_schema", "json_schema": '
        f'{{"name": "deep", "schema": {schema}}}}}}}'
    )
    response = httpx.post(
        f"{server.url}/v1/chat/completions",
        content=body.encode(),
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    assert "nested too deeply" in detail or "json_schema" in detail, detail


def test_legitimate_variants_still_work(server: ServerProcess, gemma: str) -> None:
    for body in (
        {"chat_template_kwargs": '{"enable_thinking": false}'},
        {"response_format": _schema_format({"type": "string", "pattern": "^[a-z]+$"})},
        {"response_format": {"type": "json_object"}},
        {"tools": _tool({"name": "f", "parameters": {"type": "object"}}), "tool_choice": "none"},
    ):
        response = httpx.post(
            f"{server.url}/v1/chat/completions",
            json={"model": gemma, "messages": HI, "max_tokens": 8, **body},
            timeout=60,
        )
        assert response.status_code == 200, (body, response.text)


def test_a_completion_mistake_is_a_4xx(server: ServerProcess, gemma: str) -> None:
    response = httpx.post(
        f"{server.url}/v1/completions",
        json={"model": gemma, "prompt": "Hi", "guided_json": {"type": "widget"}},
        timeout=60,
    )
    assert response.status_code == 400, response.text
    assert "guided_json" in response.json()["detail"]


LAUNCH_BODIES: list[tuple[str, bytes, str]] = [
    ("not UTF-8", b'{"model_name": "\xff\xfe gemma"}', "UTF-8"),
    ("200k-deep JSON", b"[" * 200_000 + b"]" * 200_000, "nested"),
    ("200k-deep object", b'{"a":' * 200_000 + b"1" + b"}" * 200_000, "nested"),
    ("model_type a number", b'{"model_name": "gemma-3-it", "model_type": 123}', "model_type"),
    ("model_name a list", b'{"model_name": ["gemma-3-it"]}', "model_name"),
    ("quantization a number", b'{"model_name": "gemma-3-it", "quantization": 4}', "quantization"),
    ("model_path a number", b'{"model_name": "x", "model_path": 12}', "model_path"),
    ("download_hub a dict", b'{"model_name": "gemma-3-it", "download_hub": {}}', "download_hub"),
    ("a JSON list", b"[1, 2]", "JSON object"),
    ("a 5000-digit number", b'{"n_ctx": 1' + b"0" * 5000 + b"}", "not valid JSON"),
]


@pytest.mark.parametrize(
    ("raw", "words"), [c[1:] for c in LAUNCH_BODIES], ids=[c[0] for c in LAUNCH_BODIES]
)
def test_a_launch_body_mistake_is_a_400(server: ServerProcess, raw: bytes, words: str) -> None:
    response = httpx.post(
        f"{server.url}/v1/models",
        content=raw,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 400, response.text[:300]
    assert words in response.json()["detail"]
