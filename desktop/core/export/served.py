"""What a running model offers FastGPT, read from the server's description of it.

The descriptions are those of `GET /v1/models` (or `Supervisor.list_models`): Xinference's fields
plus XinDesk's `status`. Everything FastGPT's config needs is derived from them here, once, so the
export formats and the "test as FastGPT" check agree on which model plays which role.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger("xindesk.export")

ModelKind = Literal["llm", "embedding", "rerank"]

_KINDS: dict[str, ModelKind] = {"LLM": "llm", "embedding": "embedding", "rerank": "rerank"}

#: FastGPT cuts longer vectors to this many dimensions and pads shorter ones (§4.3).
FASTGPT_MAX_DIMENSIONS = 1536


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None


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

    @classmethod
    def from_description(cls, desc: Mapping[str, Any], uid: str | None = None) -> ServedModel:
        """Read a model description; `uid` is needed when the description has no `id`.

        Raises:
            ValueError: The description names no uid or an unknown model type.
        """
        name = uid or desc.get("id") or desc.get("model_uid")
        if not isinstance(name, str) or not name:
            raise ValueError("A model description without an `id`.")
        kind = _KINDS.get(str(desc.get("model_type")))
        if kind is None:
            raise ValueError(
                f"Model {name} has type {desc.get('model_type')!r}, not one FastGPT uses."
            )
        abilities = desc.get("model_ability") or ()
        return cls(
            uid=name,
            kind=kind,
            model_name=str(desc.get("model_name") or name),
            abilities=tuple(str(a) for a in abilities) if kind == "llm" else (),
            context_length=_positive_int(desc.get("context_length")),
            dimensions=_positive_int(desc.get("dimensions")),
            max_tokens=_positive_int(desc.get("max_tokens")),
            has_projector=bool(desc.get("multimodal_projector")),
            status=str(desc.get("status") or "ready"),
        )


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
        elif model.dimensions > FASTGPT_MAX_DIMENSIONS:
            warnings.append(
                f"{model.uid} returns {model.dimensions}-dimensional vectors, but FastGPT keeps "
                f"only the first {FASTGPT_MAX_DIMENSIONS}, which spoils search with this model. "
                f"XinDesk cannot shorten them (it refuses a `dimensions` setting), so use an "
                f"embedding model with at most {FASTGPT_MAX_DIMENSIONS} dimensions (bge-m3 has "
                f"1024)."
            )
        if model.max_tokens is None:
            warnings.append(f"{model.uid} reports no input limit; 512 tokens are assumed.")
    return warnings


def _describe_all(
    descriptions: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
) -> list[tuple[str | None, Mapping[str, Any]]]:
    if isinstance(descriptions, Mapping):
        # xinference-client's `list_models()` shape: {uid: description}.
        return [(str(uid), desc) for uid, desc in descriptions.items()]
    return [(None, desc) for desc in descriptions]


def select_models(
    descriptions: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    uids: Collection[str] | None = None,
) -> ModelSelection:
    """Pick the models FastGPT can use from the server's descriptions.

    Args:
        descriptions: `GET /v1/models` items (with `id`), or a mapping uid → description.
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
