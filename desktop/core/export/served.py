"""What a running model offers FastGPT, read from the server's description of it.

The descriptions are those of `GET /v1/models` (`desktop.api.xinference.ListedModel`):
Xinference's fields plus XinDesk's `status`. Everything FastGPT's config needs is derived from
them here, once, so the export formats and the "test as FastGPT" check agree on which model plays
which role. A description may also come as the JSON object a client read, and is parsed then.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from desktop.api.common import MODEL_TYPES
from desktop.api.xinference import (
    EmbeddingDescription,
    ListedModel,
    LLMDescription,
    ModelDescription,
)

log = logging.getLogger("xindesk.export")

ModelKind = Literal["llm", "embedding", "rerank"]

#: A model as `GET /v1/models` lists it, or as `GET /v1/models/{uid}` describes it; or the JSON
#: object of either, as a client read it.
Described = ModelDescription | ListedModel | Mapping[str, Any]

#: FastGPT cuts longer vectors to this many dimensions and pads shorter ones (§4.3).
FASTGPT_MAX_DIMENSIONS = 1536

_LISTED: TypeAdapter[ListedModel] = TypeAdapter(ListedModel)
_DESCRIBED: TypeAdapter[ModelDescription] = TypeAdapter(ModelDescription)


def _positive(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def _parsed(desc: Described, uid: str | None) -> ModelDescription | ListedModel:
    """The typed description; a JSON object is parsed (with `id` as a listed model).

    Raises:
        ValueError: No uid, a model type FastGPT does not use, or an unreadable description.
    """
    if not isinstance(desc, Mapping):
        return desc
    name = uid or desc.get("id") or desc.get("model_uid")
    if not isinstance(name, str) or not name:
        raise ValueError("A model description without an `id`.")
    if desc.get("model_type") not in MODEL_TYPES:
        raise ValueError(f"Model {name} has type {desc.get('model_type')!r}, not one FastGPT uses.")
    try:
        return _LISTED.validate_python(desc) if "id" in desc else _DESCRIBED.validate_python(desc)
    except ValidationError as exc:
        raise ValueError(f"Model {name} has an unreadable description: {exc}") from exc


@dataclass(frozen=True)
class ServedModel:
    """One running model, as far as FastGPT is concerned.

    Attributes:
        uid: The model uid: what FastGPT sends as `model`, and One API's model name.
        kind: Chat LLM, embedding or rerank.
        model_name: The family name (`gemma-3-it`, `bge-m3`...), used for the provider icon.
        abilities: Xinference's `model_ability` (LLMs only).
        context_length: The context the LLM was launched with (not the model's maximum).
        dimensions: Length of an embedding model's vectors; None when not described.
        min_dimensions: The shortest length it may be asked for (Matryoshka); None: fixed.
        query_instruction: Its search queries read better with `input_type: query`.
        max_tokens: The longest input an embedding model takes (its launched context).
        has_projector: Whether a vision projector is loaded, so image parts can be read.
        status: `ready`, `loading` or `error`.
    """

    uid: str
    kind: ModelKind
    model_name: str
    abilities: tuple[str, ...] = ()
    context_length: int | None = None
    dimensions: int | None = None
    min_dimensions: int | None = None
    query_instruction: bool = False
    max_tokens: int | None = None
    has_projector: bool = False
    status: str = "ready"

    @property
    def tool_calls(self) -> bool:
        """Whether the family writes tool calls the server parses natively.

        The server accepts `tools` from every chat model (a generic prompt stands in for templates
        without tools), but only families declaring the `tools` ability call them reliably; the
        others are exported in FastGPT's prompt mode (toolChoice and functionCall off).
        """
        return "tools" in self.abilities

    @property
    def vision(self) -> bool:
        """Image input works only with a loaded projector; the ability alone would make FastGPT
        send image parts that the server refuses."""
        return "vision" in self.abilities and self.has_projector

    @property
    def reasoning(self) -> bool:
        return "reasoning" in self.abilities

    @property
    def sent_dimensions(self) -> int | None:
        """The `dimensions` the export asks for: a Matryoshka model's vectors cut to what
        FastGPT keeps, instead of FastGPT cutting them without renormalising."""
        if (
            self.dimensions is not None
            and self.dimensions > FASTGPT_MAX_DIMENSIONS
            and self.min_dimensions is not None
            and self.min_dimensions <= FASTGPT_MAX_DIMENSIONS
        ):
            return FASTGPT_MAX_DIMENSIONS
        return None

    @classmethod
    def from_description(cls, desc: Described, uid: str | None = None) -> ServedModel:
        """Read a model description; `uid` is needed when the description has no `id`.

        Raises:
            ValueError: The description names no uid or an unknown model type, or cannot be
                read.
        """
        model = _parsed(desc, uid)
        name = uid or getattr(model, "id", None) or (model.model_extra or {}).get("model_uid")
        if not isinstance(name, str) or not name:
            raise ValueError("A model description without an `id`.")
        model_name = model.model_name or name
        status = str(model.status)
        if isinstance(model, LLMDescription):
            return cls(
                name,
                "llm",
                model_name,
                abilities=tuple(model.model_ability),
                context_length=_positive(model.context_length),
                has_projector=bool(model.multimodal_projector),
                status=status,
            )
        if isinstance(model, EmbeddingDescription):
            return cls(
                name,
                "embedding",
                model_name,
                dimensions=_positive(model.dimensions),
                min_dimensions=_positive(model.min_dimensions),
                query_instruction=model.query_instruction,
                max_tokens=_positive(model.max_tokens),
                status=status,
            )
        return cls(name, "rerank", model_name, status=status)


@dataclass(frozen=True)
class ModelSelection:
    """The models to export, by role, in the server's order (the first of each is the default).

    Attributes:
        llms: Chat models.
        embeddings: Embedding models.
        rerankers: Rerank models; FastGPT ≤ 4.8.19 uses only the first.
        warnings: What was left out or will not work as a person might expect, and why.
    """

    llms: tuple[ServedModel, ...] = ()
    embeddings: tuple[ServedModel, ...] = ()
    rerankers: tuple[ServedModel, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def chat(self) -> ServedModel | None:
        return self.llms[0] if self.llms else None

    @property
    def embedding(self) -> ServedModel | None:
        return self.embeddings[0] if self.embeddings else None

    @property
    def rerank(self) -> ServedModel | None:
        return self.rerankers[0] if self.rerankers else None

    @property
    def models(self) -> tuple[ServedModel, ...]:
        """Every exported model: chat, then embedding, then rerank."""
        return self.llms + self.embeddings + self.rerankers


def _role_warnings(model: ServedModel) -> list[str]:
    warnings: list[str] = []
    if model.status == "loading":
        warnings.append(
            f"{model.uid} is still loading; it is exported, but FastGPT gets errors until it is "
            f"ready."
        )
    if model.kind == "llm" and "vision" in model.abilities and not model.has_projector:
        warnings.append(
            f"{model.uid} is exported with vision off: no vision projector is loaded, so the "
            f"server reads text only and FastGPT must not send it images."
        )
    if model.kind == "llm" and model.context_length is None:
        warnings.append(f"{model.uid} reports no context length; 4096 is assumed.")
    if model.kind == "embedding":
        if model.dimensions is None:
            warnings.append(
                f"{model.uid} reports no vector size; run the FastGPT check to see it. FastGPT "
                f"cuts vectors longer than {FASTGPT_MAX_DIMENSIONS} dimensions."
            )
        elif model.dimensions > FASTGPT_MAX_DIMENSIONS and model.sent_dimensions is None:
            warnings.append(
                f"{model.uid} returns {model.dimensions}-dimensional vectors, but FastGPT keeps "
                f"only the first {FASTGPT_MAX_DIMENSIONS}, which spoils search with this model. "
                f"The model was not trained to give shorter vectors, so use an embedding model "
                f"with at most {FASTGPT_MAX_DIMENSIONS} dimensions (bge-m3 has 1024) or one "
                f"trained for shorter ones (Qwen3-Embedding)."
            )
        if model.max_tokens is None:
            warnings.append(f"{model.uid} reports no input limit; 512 tokens are assumed.")
    return warnings


def _describe_all(
    descriptions: Iterable[Described] | Mapping[str, Described],
) -> list[tuple[str | None, Described]]:
    if isinstance(descriptions, Mapping):
        # xinference-client's `list_models()` shape: {uid: description}.
        return [(str(uid), desc) for uid, desc in descriptions.items()]
    return [(None, desc) for desc in descriptions]


def select_models(
    descriptions: Iterable[Described] | Mapping[str, Described],
    uids: Collection[str] | None = None,
) -> ModelSelection:
    """Pick the models FastGPT can use from the server's descriptions.

    Args:
        descriptions: `GET /v1/models` items (with `id`), or a mapping uid → description;
            typed, or the JSON objects a client read.
        uids: Export only these models (the ones a person chose); None exports all.

    Returns:
        The models by role, with warnings for the ones left out (stopped with an error, not a
        chat model) and for roles nobody fills.
    """
    llms: list[ServedModel] = []
    embeddings: list[ServedModel] = []
    rerankers: list[ServedModel] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for uid, desc in _describe_all(descriptions):
        try:
            model = ServedModel.from_description(desc, uid)
        except ValueError as exc:
            warnings.append(f"Left out: {exc}")
            continue
        seen.add(model.uid)
        if uids is not None and model.uid not in uids:
            continue
        if model.status == "error":
            warnings.append(f"Left out {model.uid}: it stopped with an error; relaunch it first.")
            continue
        if model.kind == "llm" and "chat" not in model.abilities:
            warnings.append(
                f"Left out {model.uid}: it is a text-completion model, and FastGPT only chats."
            )
            continue
        warnings.extend(_role_warnings(model))
        {"llm": llms, "embedding": embeddings, "rerank": rerankers}[model.kind].append(model)
    if uids is not None:
        warnings.extend(f"{uid} is not running." for uid in sorted(set(uids) - seen))
    if not llms:
        warnings.append("No chat model is running: FastGPT needs at least one (launch one first).")
    if not embeddings:
        warnings.append(
            "No embedding model is running: FastGPT needs one for knowledge bases (bge-m3, say)."
        )
    if not rerankers:
        warnings.append(
            "No rerank model is running: knowledge-base search works without one; launch "
            "bge-reranker-v2-m3 to add it."
        )
    log.debug(
        "export selection: %d chat, %d embedding, %d rerank",
        len(llms),
        len(embeddings),
        len(rerankers),
    )
    return ModelSelection(tuple(llms), tuple(embeddings), tuple(rerankers), tuple(warnings))
