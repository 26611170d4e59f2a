"""The inference routes: OpenAI's shapes with Xinference's extras (chat, completions, embeddings)
and Xinference's rerank.

Request bodies keep unknown keys: xinference-client merges its `generate_config` into the body,
and FastGPT sends fields of its own. Answers leave out what OpenAI leaves out (a message's
`tool_calls` when there are none, a chunk's `usage` but in the last one), so they are dumped
with `exclude_unset`: a field is on the wire exactly when it was given.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())


# -- requests -----------------------------------------------------------------------------------


class ChatMessage(_Body):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = Field(
        None, description="Text, or OpenAI's content parts (text parts only)."
    )
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class _KeepAlive(_Body):
    keep_alive: float | str | None = Field(
        None,
        description=(
            "How long the model stays loaded after this request (Ollama's spelling): seconds "
            "or a duration like '10m'; negative keeps it loaded; 0 unloads it after the answer."
        ),
    )


class SamplingFields(_KeepAlive):
    model: str = Field(..., description="The uid of a launched model.")
    stream: bool = False
    stream_options: dict[str, Any] | None = Field(
        None, description='{"include_usage": true} adds a usage chunk at the end.'
    )
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, ge=0.0, le=1.0)
    top_k: int | None = Field(None, ge=0)
    min_p: float | None = Field(None, ge=0.0, le=1.0)
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    repetition_penalty: float | None = Field(None, gt=0.0)
    repeat_penalty: float | None = Field(None, gt=0.0)
    stop: str | list[str] | None = None
    stop_token_ids: list[int] | None = None
    seed: int | None = None
    logit_bias: dict[str, float] | None = None
    response_format: dict[str, Any] | None = Field(
        None, description="json_object or json_schema: the answer is constrained to it."
    )


class ChatRequest(SamplingFields):
    messages: list[ChatMessage]
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None
    chat_template_kwargs: dict[str, Any] | str | None = Field(
        None, description="Passed to the chat template (e.g. enable_thinking)."
    )


class CompletionRequest(SamplingFields):
    prompt: str | list[str]
    echo: bool = False


class EmbeddingRequest(_KeepAlive):
    model: str
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] | None = Field(
        None, description="base64: little-endian float32 bytes (the openai client's default)."
    )
    dimensions: int | None = Field(
        None, description="Shorter vectors, from models trained for it (Matryoshka)."
    )
    input_type: Literal["query", "document"] | None = Field(
        None,
        description="XinDesk: query puts the family's search instruction before each text "
        "(Qwen3-Embedding); FastGPT sends it through the model's queryConfig.",
    )
    user: str | None = None


class RerankRequest(_KeepAlive):
    model: str
    query: str | dict[str, Any]
    documents: list[str | dict[str, Any]]
    top_n: int | None = Field(None, ge=0)
    return_documents: bool | None = False
    return_len: bool | None = False
    max_chunks_per_doc: int | None = None


# -- answers ------------------------------------------------------------------------------------


class PromptTokensDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    cached_tokens: int = Field(description="Prompt tokens served from the cache.")


class CompletionTokensDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    reasoning_tokens: int = Field(description="Completion tokens a thinking model reasoned in.")


class Usage(BaseModel):
    """Token counts; empty when the model finished without reporting them."""

    model_config = ConfigDict(extra="allow")

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class FunctionCall(BaseModel):
    name: str
    arguments: str = Field(description="The arguments, as a JSON string.")


class ToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class StreamToolCall(BaseModel):
    """A tool call in a chunk: whole, with its position among the message's calls."""

    index: int
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None = Field(description="None when the model only called tools.")
    reasoning_content: str | None = Field(
        None, description="A thinking model's reasoning, without its tags; only when it reasoned."
    )
    tool_calls: list[ToolCall] | None = Field(None, description="Only when it called tools.")


class ChatChoice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: None = None
    finish_reason: str


class ChatCompletion(BaseModel):
    """`POST /v1/chat/completions` without `stream`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class ChunkDelta(BaseModel):
    """What a chunk adds: the role (first chunk), text, reasoning, or tool calls."""

    role: Literal["assistant"] | None = None
    content: str | None = None
    reasoning_content: str | None = Field(None, description="A piece of the reasoning.")
    tool_calls: list[StreamToolCall] | None = None


class ChunkChoice(BaseModel):
    index: int
    delta: ChunkDelta
    finish_reason: str | None


class ChatCompletionChunk(BaseModel):
    """One `data:` event of a streamed chat; the stream ends with `data: [DONE]`. The last
    chunk before it has empty `choices` and the `usage`, when `include_usage` was asked."""

    id: str
    model: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    choices: list[ChunkChoice]
    usage: Usage | None = None


class CompletionChoice(BaseModel):
    text: str
    index: int
    logprobs: None = None
    finish_reason: str | None


class Completion(BaseModel):
    """`POST /v1/completions`, and each `data:` event of its stream (which has no `[DONE]`);
    a streamed completion's `usage` is on its last chunk only."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None


class ErrorInfo(BaseModel):
    """Why a stream ended early, in OpenAI's error shape (openai-python raises an `APIError`
    with this `message`)."""

    message: str
    type: str = Field(
        description="invalid_request_error (the request's fault) or server_error (the model's "
        "worker crashed or was stopped, or the server is shutting down)."
    )
    code: str | None = Field(
        None,
        description="invalid_request, worker_crashed, model_terminated, model_relaunched, "
        "server_shutdown or internal_error.",
    )


class StreamError(BaseModel):
    """The last event but `[DONE]` of a stream that fails after it started (the status was 200
    by then): on a worker crash, a terminate, a server shutdown, or a request the model could
    not finish."""

    error: ErrorInfo


class Embedding(BaseModel):
    index: int
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str = Field(description="The vector, or its float32 bytes in base64.")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    """`POST /v1/embeddings`."""

    object: Literal["list"] = "list"
    model: str
    model_replica: str = Field(description="Xinference's replica uid.")
    data: list[Embedding]
    usage: EmbeddingUsage

    model_config = ConfigDict(protected_namespaces=())


class RerankDocument(BaseModel):
    text: str


class RerankResult(BaseModel):
    index: int = Field(description="The document's position in the request.")
    relevance_score: float
    document: RerankDocument | None = Field(description="Only with return_documents.")


class RerankTokens(BaseModel):
    input_tokens: int
    output_tokens: int


class RerankMeta(BaseModel):
    api_version: dict[str, str] | None = None
    billed_units: dict[str, int] | None = None
    warnings: list[str] | None = None
    tokens: RerankTokens | None = Field(None, description="Only with return_len.")


class RerankAnswer(BaseModel):
    """`POST /v1/rerank`: the documents by relevance, best first."""

    id: str
    results: list[RerankResult]
    meta: RerankMeta
