"""Anthropic's Messages API (`POST /v1/messages`), which coding agents and Anthropic's SDKs
speak, and Xinference 4.1 serves: requests with content blocks (text, tool_use, tool_result),
tools and tool_choice, and the message and stream events it answers with."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_LOOSE = ConfigDict(extra="allow", protected_namespaces=())


class AnthropicMessage(BaseModel):
    model_config = _LOOSE

    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]] = Field(
        description="Text, or content blocks: text, image, tool_use, tool_result, thinking."
    )


class AnthropicTool(BaseModel):
    model_config = _LOOSE

    name: str
    description: str | None = None
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class AnthropicCountRequest(BaseModel):
    """`POST /v1/messages/count_tokens`: what a message would send, without generating."""

    model_config = _LOOSE

    model: str = Field(description="A served model's uid.")
    messages: list[AnthropicMessage]
    system: str | list[dict[str, Any]] | None = None
    tools: list[AnthropicTool] | None = None
    tool_choice: dict[str, Any] | None = Field(
        None, description='{"type": "auto" | "any" | "tool" | "none", "name": ...}'
    )
    thinking: dict[str, Any] | None = Field(
        None, description='{"type": "enabled", "budget_tokens": N} or {"type": "disabled"}'
    )


class AnthropicTokenCount(BaseModel):
    """The answer of `POST /v1/messages/count_tokens`."""

    input_tokens: int = Field(description="Tokens of the prompt the model would read.")


class AnthropicRequest(AnthropicCountRequest):
    """`POST /v1/messages`."""

    max_tokens: int = Field(ge=1)
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, ge=0.0, le=1.0)
    top_k: int | None = Field(None, ge=0)
    stream: bool = False
    metadata: dict[str, Any] | None = None


class AnthropicUsage(BaseModel):
    input_tokens: int
    output_tokens: int


class AnthropicResponse(BaseModel):
    """The answer of `POST /v1/messages` (and the message of the `message_start` event)."""

    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[dict[str, Any]] = Field(description="text and tool_use blocks.")
    stop_reason: Literal["end_turn", "max_tokens", "stop_sequence", "tool_use"] | None
    stop_sequence: str | None = None
    usage: AnthropicUsage


class AnthropicModel(BaseModel):
    type: Literal["model"] = "model"
    id: str
    display_name: str
    created_at: str


class AnthropicModels(BaseModel):
    data: list[AnthropicModel]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None
