"""The server's own OpenAPI document describes every answer: a route that forgets to declare
what it answers fails here (in-process app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from desktop.api.common import Verdict
from desktop.api.openai import ChatRequest, EmbeddingRequest
from desktop.api.settings import Settings
from desktop.api.xinference import LaunchRequest
from desktop.core.errors import WrongModelType
from desktop.core.memory.fit import Verdict as CoreVerdict
from desktop.core.paths import AppPaths
from desktop.server.app import create_app
from desktop.server.errors import message_for

METHODS = {"get", "post", "put", "patch", "delete"}
# What FastAPI writes for a route that declared nothing.
EMPTY_SCHEMAS: list[dict[str, Any]] = [{}, {"type": "string"}]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings(), AppPaths.under(Path(home)), address="127.0.0.1:9997")
    with TestClient(app, base_url="http://127.0.0.1:9997") as client:
        response = client.get("/openapi.json")
        assert response.status_code == 200
        yield response.json()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method.upper(), operation


def _described(content: dict[str, Any]) -> bool:
    """A media type of an answer says what the answer holds."""
    schema = content.get("schema")
    if schema is not None and schema not in EMPTY_SCHEMAS:
        return True
    event = content.get("itemSchema", {}).get("properties", {}).get("data", {})
    return bool(event.get("contentSchema"))


def test_every_answer_has_a_schema(document: dict[str, Any]) -> None:
    undescribed = []
    for path, method, operation in _operations(document):
        success = [answer for code, answer in operation["responses"].items() if code[0] == "2"]
        contents = [c for answer in success for c in answer.get("content", {}).values()]
        if not contents or not all(_described(content) for content in contents):
            undescribed.append(f"{method} {path}")
    assert undescribed == []
    assert sum(1 for _ in _operations(document)) > 50


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    """The models of streamed events sit in the components like every other model."""
    schemas = document["components"]["schemas"]
    prefix = "#/components/schemas/"
    refs = set(_refs(document))
    assert all(ref.startswith(prefix) for ref in refs)
    assert sorted(ref for ref in refs if ref.removeprefix(prefix) not in schemas) == []
    assert "$defs" not in str(document["paths"])


def test_streams_document_their_chunks(document: dict[str, Any]) -> None:
    chat = document["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert chat["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatCompletion"}
    event = chat["text/event-stream"]["itemSchema"]["properties"]["data"]["contentSchema"]
    titles = {schema["title"] for schema in event["anyOf"]}
    assert titles == {"ChatCompletionChunk", "StreamError"}


def test_xinference_answers_that_are_lists_or_bare_values(document: dict[str, Any]) -> None:
    def schema(path: str, method: str = "get") -> Any:
        answer = document["paths"][path][method]["responses"]["200"]
        return answer["content"]["application/json"]["schema"]

    assert schema("/v1/cluster/devices")["type"] == "integer"
    assert schema("/v1/address")["type"] == "string"
    assert schema("/v1/models/instances")["type"] == "array"
    assert schema("/v1/models/{model_uid}", "delete")["type"] == "null"
    engines = schema("/v1/engines/{model_name}")["anyOf"]
    assert {"type": "null"} in engines


def test_the_launch_body_is_documented(document: dict[str, Any]) -> None:
    body = document["paths"]["/v1/models"]["post"]["requestBody"]["content"]
    properties = body["application/json"]["schema"]["properties"]
    assert {"model_uid", "model_name", "model_type", "model_path"} <= set(properties)


def test_loose_request_bodies_keep_unknown_fields() -> None:
    """xinference-client merges its generate_config into the body; FastGPT adds its own."""
    chat = ChatRequest.model_validate(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi", "x_meta": 1}],
            "generate_config": {"max_tokens": 4},
            "n": 1,
        }
    )
    assert chat.model_extra == {"generate_config": {"max_tokens": 4}, "n": 1}
    assert chat.messages[0].model_extra == {"x_meta": 1}
    assert EmbeddingRequest.model_validate({"model": "m", "input": "x", "extra": True}).model_extra
    launch = LaunchRequest.model_validate({"model_name": "m", "n_gpu_layers": 0})
    assert launch.model_extra == {"n_gpu_layers": 0}


def test_fit_verdicts_are_the_estimates_own() -> None:
    # One enum: the estimate answers in the contract's words, so no copy can drift.
    assert CoreVerdict is Verdict


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/v1/chat/completions", "/v1/chat/completions needs a chat (LLM) model"),
        ("/v1/completions", "/v1/completions needs a text-generation (LLM) model"),
    ],
)
def test_a_wrong_model_type_is_worded_for_the_route(path: str, words: str) -> None:
    error = WrongModelType("embed", "embedding", "LLM", model_name="bge-m3")
    message = message_for(error, path)
    assert message.startswith(f"Model embed is an embedding model; {words}.")
    assert "model_type='LLM'" in message
    base = WrongModelType("base", "LLM", "LLM", model_name="my-base", lacks="chat")
    assert message_for(base, path) == (
        "Model base (my-base) is not a chat model; use /v1/completions with it."
    )
    # Outside the inference routes the core's own words stand.
    assert message_for(error, "/elsewhere") == str(error)
