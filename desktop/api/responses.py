"""OpenAI's Responses API (`POST /v1/responses`), which the new OpenAI SDKs and coding agents
speak: input items (messages, function calls and their outputs), instructions, function tools,
`text.format`, and the response object and stream events it answers with."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_LOOSE = ConfigDict(extra="allow", protected_namespaces=())

#: The deepest nesting a request may hold: a response echoes the request's tools, tool_choice,
#: text format and metadata, and JSON schemas and tool parameters are never this deep.
MAX_DEPTH = 64


def _depth(value: Any, limit: int) -> int:
    """How deep `value` nests, counted up to `limit` + 1 (and no further)."""
    if limit < 0 or not isinstance(value, dict | list):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(item, limit - 1) for item in items), default=0)


class FunctionChoice(BaseModel):
    """`tool_choice` naming one function."""

    type: Literal["function"]
    name: str


class ResponsesRequest(BaseModel):
    """`POST /v1/responses`."""

    model_config = _LOOSE

    model: str = Field(description="A served model's uid.")
    input: str | list[dict[str, Any]] = Field(
        description="Text, or items: messages (input_text parts), function_call and "
        "function_call_output items."
    )
    instructions: str | None = None
    tools: list[dict[str, Any]] | None = Field(None, description="Function tools.")
    tool_choice: Literal["auto", "none", "required"] | FunctionChoice | None = None
    text: dict[str, Any] | None = Field(
        None, description='{"format": {"type": "text" | "json_object" | "json_schema", ...}}'
    )
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, ge=0.0, le=1.0)
    stream: bool = False
    store: bool | None = Field(
        None, description="Kept in memory for previous_response_id unless false."
    )
    previous_response_id: str | None = None
    parallel_tool_calls: bool | None = None
    reasoning: dict[str, Any] | None = None
    metadata: dict[str, str] | None = Field(None, description="Strings kept with the response.")

    @model_validator(mode="before")
    @classmethod
    def _not_too_deep(cls, data: Any) -> Any:
        if _depth(data, MAX_DEPTH) > MAX_DEPTH:
            raise ValueError(f"the request nests deeper than {MAX_DEPTH} levels")
        return data


class ResponsesUsage(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_tokens_details: dict[str, int] = Field(default_factory=lambda: {"cached_tokens": 0})
    output_tokens_details: dict[str, int] = Field(default_factory=lambda: {"reasoning_tokens": 0})


class ResponseObject(BaseModel):
    """A response: the answer of `POST /v1/responses` and the body of its lifecycle events."""

    model_config = _LOOSE

    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["in_progress", "completed", "incomplete", "failed"]
    model: str
    output: list[dict[str, Any]] = Field(description="reasoning, message and function_call items.")
    usage: ResponsesUsage | None = None
    incomplete_details: dict[str, str] | None = None
    error: dict[str, str] | None = None
    instructions: str | None = None
    tools: list[dict[str, Any]] = Field(default_factory=list)
    tool_choice: str | FunctionChoice = "auto"
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    text: dict[str, Any] = Field(default_factory=lambda: {"format": {"type": "text"}})
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
