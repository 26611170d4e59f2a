"""Ollama's API (under /api): the request and answer shapes of Ollama's own server, for the
desktop chat apps and RAG front ends that ship only an "Ollama" preset.

Field names are Ollama's (`num_predict`, `keep_alive`, `done_reason`, durations in
nanoseconds). Requests keep unknown fields (Ollama adds options often); answers carry what
Ollama's clients read.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_LOOSE = ConfigDict(extra="allow", protected_namespaces=())


class OllamaOptions(BaseModel):
    """The `options` of a request: Ollama's names for the sampling settings."""

    model_config = _LOOSE

    num_predict: int | None = Field(None, description="Tokens to generate; -1 or -2: no limit.")
    num_ctx: int | None = Field(
        None, ge=1, description="Read but not applied: the context is set when a model launches."
    )
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_k: int | None = Field(None, ge=0)
    top_p: float | None = Field(None, ge=0.0, le=1.0)
    min_p: float | None = Field(None, ge=0.0, le=1.0)
    seed: int | None = None
    stop: list[str] | str | None = None
    repeat_penalty: float | None = Field(None, gt=0.0)
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0)


class OllamaToolFunction(BaseModel):
    model_config = _LOOSE

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class OllamaToolCall(BaseModel):
    model_config = _LOOSE

    function: OllamaToolFunction


class OllamaMessage(BaseModel):
    model_config = _LOOSE

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    images: list[str] | None = Field(None, description="Base64 images (vision models).")
    tool_calls: list[OllamaToolCall] | None = None
    tool_name: str | None = Field(None, description="The tool a `tool` message answers.")
    thinking: str | None = None


class OllamaGeneration(BaseModel):
    """What `/api/chat` and `/api/generate` share."""

    model_config = _LOOSE

    model: str = Field(description="A served model's uid, `name` or `name:tag`.")
    stream: bool = Field(True, description="NDJSON lines as they come (Ollama's default).")
    format: Literal["json", ""] | dict[str, Any] | None = Field(
        None, description='"json", or a JSON schema the answer must follow.'
    )
    options: OllamaOptions | None = None
    keep_alive: float | str | None = Field(
        None, description='How long the model stays loaded after this request: seconds or "5m".'
    )
    think: bool | Literal["low", "medium", "high"] | None = Field(
        None, description="Thinking on or off, for models that think."
    )


class OllamaChatRequest(OllamaGeneration):
    """`POST /api/chat`."""

    messages: list[OllamaMessage] = Field(default_factory=list)
    tools: list[dict[str, Any]] | None = None


class OllamaGenerateRequest(OllamaGeneration):
    """`POST /api/generate`."""

    prompt: str = ""
    system: str | None = None
    suffix: str | None = None
    raw: bool = Field(False, description="The prompt as it is, without the chat template.")
    images: list[str] | None = None
    template: str | None = None
    context: list[int] | None = None


class OllamaEmbedRequest(BaseModel):
    """`POST /api/embed`."""

    model_config = _LOOSE

    model: str
    input: str | list[str]
    truncate: bool = True
    options: OllamaOptions | None = None
    keep_alive: float | str | None = None
    dimensions: int | None = Field(None, ge=1)


class OllamaEmbeddingsRequest(BaseModel):
    """`POST /api/embeddings`, Ollama's older embedding route: one prompt, one vector."""

    model_config = _LOOSE

    model: str
    prompt: str
    options: OllamaOptions | None = None
    keep_alive: float | str | None = None


class OllamaModelRef(BaseModel):
    """`POST /api/show` and `DELETE /api/delete`: a model by name (`name` is the old spelling)."""

    model_config = _LOOSE

    model: str | None = None
    name: str | None = None

    @property
    def wanted(self) -> str:
        return self.model or self.name or ""


# -- answers ------------------------------------------------------------------------------------


class _Timings(BaseModel):
    """Ollama's closing figures; durations in nanoseconds."""

    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None
    prompt_eval_duration: int | None = None
    eval_count: int | None = None
    eval_duration: int | None = None


class OllamaChatResponse(_Timings):
    """One line of `POST /api/chat` (the whole answer when not streamed)."""

    model: str
    created_at: str
    message: OllamaMessage
    done: bool
    done_reason: str | None = None


class OllamaGenerateResponse(_Timings):
    """One line of `POST /api/generate`."""

    model: str
    created_at: str
    response: str
    done: bool
    done_reason: str | None = None
    context: list[int] | None = None


class OllamaEmbedResponse(BaseModel):
    model: str
    embeddings: list[list[float]]
    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None


class OllamaEmbeddingResponse(BaseModel):
    embedding: list[float]


class OllamaDetails(BaseModel):
    parent_model: str = ""
    format: str = "gguf"
    family: str = ""
    families: list[str] | None = None
    parameter_size: str = ""
    quantization_level: str = ""


class OllamaModel(BaseModel):
    """A model in `GET /api/tags` (and, with `expires_at` and `size_vram`, `GET /api/ps`)."""

    model_config = ConfigDict(protected_namespaces=())

    name: str
    model: str
    modified_at: str
    size: int
    digest: str
    details: OllamaDetails
    expires_at: str | None = None
    size_vram: int | None = None


class OllamaModels(BaseModel):
    models: list[OllamaModel]


class OllamaShow(BaseModel):
    """`POST /api/show`."""

    model_config = ConfigDict(protected_namespaces=())

    modelfile: str
    parameters: str
    template: str
    details: OllamaDetails
    model_info: dict[str, Any]
    capabilities: list[str]
    modified_at: str


class OllamaVersion(BaseModel):
    version: str


class OllamaPullRequest(BaseModel):
    """`POST /api/pull`: a catalog model (`qwen3:0.6b`) or a hub repository
    (`hf.co/owner/repo:Q4_K_M`), downloaded with XinDesk's downloader."""

    model_config = _LOOSE

    model: str | None = None
    name: str | None = None
    stream: bool = True
    insecure: bool = False


class OllamaPullStatus(BaseModel):
    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None
