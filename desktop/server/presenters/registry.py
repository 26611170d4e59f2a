"""Registered model families, their engine options, and the model files on this machine, as
Xinference's registration, engine and cache routes show them."""

from __future__ import annotations

import os

from desktop.api.common import ModelSize, ModelType
from desktop.api.hubs import HUB_NAMES
from desktop.api.xinference import (
    CacheEntry,
    DetailedRegistration,
    EngineOptions,
    EngineParams,
    LLMEngineParams,
    Registration,
    RegistrationName,
)
from desktop.core.catalog.families import ENGINE_NAME, GGUF_FORMAT, Family

# Fields only LLM families have; embedding and rerank registrations leave them out.
_LLM_ONLY = (
    "context_length",
    "model_lang",
    "model_ability",
    "model_description",
    "model_family",
    "chat_template",
    "stop_token_ids",
    "stop",
    "tool_parser",
    "architectures",
    "reasoning_start_tag",
    "reasoning_end_tag",
)
# Fields only embedding and rerank families have.
_VECTOR_ONLY = ("dimensions", "max_tokens", "language", "type")


def registration(family: Family) -> Registration:
    """The family as Xinference's registration routes show it (flattened specs), without
    XinDesk's own `xindesk_*` keys and the fields of the other model types."""
    data = family.model_dump(mode="json", exclude={"model_type"})
    for key in [k for k in data if k.startswith("xindesk_")]:
        del data[key]
    for key in _VECTOR_ONLY if family.model_type == "LLM" else _LLM_ONLY:
        data.pop(key, None)
    return Registration.model_validate(data)


def detailed_registration(family: Family) -> DetailedRegistration:
    """A `detailed=true` item of the registration list: the family and the hubs it comes
    from."""
    shown = registration(family)
    return DetailedRegistration.model_validate(
        {**shown.model_dump(exclude_unset=True), "download_hubs": list(HUB_NAMES)}
    )


def registration_name(family: Family) -> RegistrationName:
    return RegistrationName(model_name=family.model_name, is_builtin=family.is_builtin)


def engine_options(family: Family, model_type: ModelType) -> EngineOptions:
    """How the family launches with llama.cpp: an LLM per format and size with all its
    quantizations, an embedding or rerank model once per quantization."""
    entries: dict[tuple[str, str], list[str]] = {}
    for spec in family.model_specs:
        if spec.model_format != GGUF_FORMAT:
            continue
        quants = entries.setdefault((spec.model_format, str(spec.model_size_in_billions)), [])
        if spec.quantization not in quants:
            quants.append(spec.quantization)
    sizes = {str(s.model_size_in_billions): s.model_size_in_billions for s in family.model_specs}
    params: list[LLMEngineParams | EngineParams] = []
    for (fmt, size), quants in entries.items():
        if model_type == "LLM":
            params.append(
                LLMEngineParams(
                    model_name=family.model_name,
                    model_format=fmt,
                    model_size_in_billions=sizes[size],
                    quantizations=quants,
                    multimodal_projectors=None,
                    support_draft_model=False,
                )
            )
        else:
            params.extend(
                EngineParams(
                    model_name=family.model_name,
                    model_format=fmt,
                    model_size_in_billions=None,
                    quantization=quant,
                    support_draft_model=False,
                )
                for quant in quants
            )
    return {ENGINE_NAME: params}


def cache_entry(
    name: str, model_type: str, size: ModelSize | None, quantization: str, path: str
) -> CacheEntry:
    """One model file as Xinference's cache route lists it."""
    return CacheEntry(
        model_name=name,
        model_type=model_type,
        model_engine=[ENGINE_NAME],
        model_size_in_billions=size,
        model_format=GGUF_FORMAT,
        quantization=quantization,
        model_version=f"{name}--{size}B--{GGUF_FORMAT}--{quantization}",
        path=path,
        real_path=os.path.realpath(path),
        actor_ip_address="local",
        size_bytes=os.path.getsize(path) if os.path.exists(path) else 0,
    )
