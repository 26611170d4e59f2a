"""The OpenAPI document's account of streamed answers, which FastAPI cannot see by itself.

The streaming routes answer with sse_starlette's `EventSourceResponse`, an opaque response to
FastAPI. `streamed` and `event_stream` describe their events the way FastAPI describes its own
Server-Sent Events routes (an `itemSchema` whose `data` holds JSON of a given model), and
`XinDeskAPI` moves the models those events use into the document's components, where every
other model is.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from desktop.api.openai import StreamError

REF_PREFIX = "#/components/schemas/"
_DEFS = "$defs"


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's schema inline; the models it uses go under `$defs`, referenced where the
    document keeps them (`XinDeskAPI` moves them there)."""
    return model.model_json_schema(ref_template=REF_PREFIX + "{model}", mode="serialization")


def _event_item(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    schemas = [_schema(model) for model in models]
    content = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    return {
        "type": "object",
        "properties": {
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": content,
            },
            "event": {"type": "string"},
        },
        "required": ["data"],
    }


def event_stream(*models: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route that only streams: each event's `data` is one of `models`."""
    return {
        200: {
            "description": description,
            "content": {"text/event-stream": {"itemSchema": _event_item(models)}},
        }
    }


def streamed(
    answer: type[BaseModel], chunk: type[BaseModel], *, ends_with_done: bool
) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route that answers `answer` as JSON, or with `"stream": true` a
    stream of `chunk` events (then `data: [DONE]` when `ends_with_done`); an error after the
    stream started is sent as a `StreamError` event."""
    end = " The stream ends with `data: [DONE]`." if ends_with_done else ""
    return {
        200: {
            "model": answer,
            "description": f"The answer; with `stream`, Server-Sent Events of chunks.{end}",
            "content": {"text/event-stream": {"itemSchema": _event_item((chunk, StreamError))}},
        }
    }


def _hoist_definitions(node: Any, found: dict[str, Any]) -> None:
    if isinstance(node, dict):
        defs = node.pop(_DEFS, None)
        if isinstance(defs, dict):
            found.update(defs)
            _hoist_definitions(defs, found)
        for value in node.values():
            _hoist_definitions(value, found)
    elif isinstance(node, list):
        for value in node:
            _hoist_definitions(value, found)


class XinDeskAPI(FastAPI):
    """FastAPI whose OpenAPI document also holds the models of streamed events."""

    def openapi(self) -> dict[str, Any]:
        document = super().openapi()
        found: dict[str, Any] = {}
        _hoist_definitions(document.get("paths", {}), found)
        if found:
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in found.items():
                schemas.setdefault(name, schema)
        return document
