"""The shape of a model family, read from Xinference's registry format.

Xinference stores families in a compact form (specs grouped per hub under `model_src`) and shows
them in a flattened form (one spec per hub and quantization). Both are accepted here; internally a
family always holds flattened `Spec`s, which is also what the REST API returns.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from desktop.api.common import MODEL_TYPES as MODEL_TYPES
from desktop.api.common import ModelType as ModelType
from desktop.core.errors import InvalidRequest

GGUF_FORMAT = "ggufv2"
ENGINE_NAME = "llama.cpp"


def normalize_size(size: object) -> str | None:
    """Turn Xinference's sizes ("0_5", 0.5, "0.5", 7, "7", 7.0) into one comparable string
    (`InvalidRequest`, a ValueError, for anything else)."""
    if size is None:
        return None
    if isinstance(size, bool):
        raise InvalidRequest(f"Invalid model size: {size!r}")
    if isinstance(size, int | float):
        number = float(size)
    else:
        text = str(size).strip().lower().removesuffix("b").replace("_", ".")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError as exc:
            shown = repr(size) if len(repr(size)) <= 40 else repr(size)[:37] + "..."
            raise InvalidRequest(
                f"Invalid model size: {shown}; use billions of parameters, such as 7 or 0_5."
            ) from exc
    if number.is_integer():
        return str(int(number))
    return repr(number)


def size_for_display(size: object) -> int | str | None:
    """Xinference writes fractional sizes as "0_5" and whole ones as ints."""
    text = normalize_size(size)
    if text is None:
        return None
    return int(text) if "." not in text else text.replace(".", "_")


class HubSource(BaseModel):
    """Where one spec's files live on one hub (compact form)."""

    model_config = ConfigDict(extra="allow")

    quantizations: list[str] = Field(default_factory=list)
    model_id: str | None = None
    model_file_name_template: str | None = None
    model_file_name_split_template: str | None = None
    quantization_parts: dict[str, list[str]] | None = None
    model_revision: str | None = None
    multimodal_projectors: list[str] | None = None


class Spec(BaseModel):
    """One downloadable variant: a format, size, quantization and hub (flattened form)."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    model_format: str = GGUF_FORMAT
    model_size_in_billions: int | str | None = None
    quantization: str = "none"
    model_hub: str = "huggingface"
    model_id: str | None = None
    model_uri: str | None = None
    model_revision: str | None = None
    model_file_name_template: str | None = None
    model_file_name_split_template: str | None = None
    quantization_parts: dict[str, list[str]] | None = None
    multimodal_projectors: list[str] | None = None

    @field_validator("model_size_in_billions", mode="before")
    @classmethod
    def _size(cls, value: object) -> int | str | None:
        return size_for_display(value)

    @property
    def size_key(self) -> str | None:
        return normalize_size(self.model_size_in_billions)

    def file_names(self) -> list[str]:
        """The GGUF file(s) of this spec: one name, or every part of a split file, in order."""
        parts = (self.quantization_parts or {}).get(self.quantization)
        if parts and self.model_file_name_split_template:
            return [
                self.model_file_name_split_template.format(
                    quantization=self.quantization, part=part
                )
                for part in parts
            ]
        if self.model_file_name_template:
            return [self.model_file_name_template.format(quantization=self.quantization)]
        return []


def flatten_specs(raw_specs: list[dict[str, Any]]) -> list[Spec]:
    """Expand compact specs (per-hub `model_src`) into one `Spec` per hub and quantization."""
    specs: list[Spec] = []
    for raw in raw_specs:
        if "model_src" not in raw:
            specs.append(Spec.model_validate(raw))
            continue
        common = {k: v for k, v in raw.items() if k != "model_src"}
        for hub, src in raw["model_src"].items():
            source = HubSource.model_validate(src)
            for quant in source.quantizations:
                template = source.model_file_name_template
                specs.append(
                    Spec.model_validate(
                        {
                            **common,
                            "model_hub": hub,
                            "quantization": quant,
                            "model_id": source.model_id,
                            "model_revision": source.model_revision,
                            # Xinference substitutes the quantization when flattening; the split
                            # template keeps it because `{part}` is only known at load time.
                            "model_file_name_template": (
                                template.format(quantization=quant) if template else None
                            ),
                            "model_file_name_split_template": source.model_file_name_split_template,
                            "quantization_parts": source.quantization_parts,
                            "multimodal_projectors": source.multimodal_projectors,
                        }
                    )
                )
    return specs


class Family(BaseModel):
    """A model family: one name, several specs. Unknown keys are kept (Xinference allows them)."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    model_type: ModelType = "LLM"
    model_name: str
    version: int = 2
    model_specs: list[Spec] = Field(default_factory=list)
    is_builtin: bool = False
    # LLM
    context_length: int | None = None
    model_lang: list[str] = Field(default_factory=list)
    model_ability: list[str] = Field(default_factory=list)
    model_description: str | None = None
    model_family: str | None = None
    chat_template: str | None = None
    stop_token_ids: list[int] | None = None
    stop: list[str] | None = None
    tool_parser: str | None = None
    architectures: list[str] | None = None
    reasoning_start_tag: str | None = None
    reasoning_end_tag: str | None = None
    # embedding / rerank
    dimensions: int | None = None
    max_tokens: int | None = None
    # XinDesk's: the shortest length a Matryoshka-trained model's vectors may be cut to (None:
    # not trained for it), and the instruction its search queries are written with.
    xindesk_matryoshka_min: int | None = None
    xindesk_query_instruction: str | None = None
    language: list[str] | None = None
    type: str | None = None

    @field_validator("model_specs", mode="before")
    @classmethod
    def _flatten(cls, value: object) -> object:
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return flatten_specs(value)
        return value

    @property
    def supports_tools(self) -> bool:
        return "tools" in self.model_ability

    @property
    def reasoning_tags(self) -> tuple[str, str] | None:
        """The tags around a thinking family's reasoning; None for a family that does not
        reason in tags (gpt-oss marks its reasoning by channels instead)."""
        if self.reasoning_start_tag and self.reasoning_end_tag:
            return (self.reasoning_start_tag, self.reasoning_end_tag)
        return None
