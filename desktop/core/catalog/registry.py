"""The catalog: built-in families from `resources/catalog/*.json` plus custom registrations.

Matching follows Xinference (`match_llm`): the format must be equal, the size equal after
normalisation ("0_5" == 0.5 == "0.5"), the quantization equal ignoring case; a field left out
takes the first spec that fits. Where Xinference answers a miss with a bare "not found", this
module says what does exist, because the person reading it has to pick something else.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from desktop.api.hubs import HUB_NAMES
from desktop.core.catalog.families import (
    GGUF_FORMAT,
    MODEL_TYPES,
    Family,
    ModelType,
    Spec,
    normalize_size,
)
from desktop.core.errors import InvalidRequest, ModelNotFound, UnsupportedModelFormat
from desktop.core.fileio import atomic_write_text
from desktop.core.safepaths import plain_relative, user_path

log = logging.getLogger("xindesk.catalog")

_CATALOG_FILES: dict[ModelType, str] = {
    "LLM": "llm.json",
    "embedding": "embedding.json",
    "rerank": "rerank.json",
}
# Xinference's rule (model/utils.py is_valid_model_name), kept so names work on both servers.
_BAD_NAME = re.compile(r"[+/?%#&=\s]")


def with_article(model_type: str) -> str:
    """ "an embedding", "a rerank", "an LLM" (for messages)."""
    return ("an " if model_type[0] in "aeiouAEIOUL" else "a ") + model_type


def parse_model_type(value: str | None) -> ModelType:
    """Accept Xinference's model type names, case-insensitively ("llm", "LLM", "Embedding")."""
    text = (value or "LLM").strip()
    for known in MODEL_TYPES:
        if text.lower() == known.lower():
            return known
    raise InvalidRequest(
        f"Model type {value!r} is not served by XinDesk; use one of: {', '.join(MODEL_TYPES)}."
    )


class Catalog:
    """All families a launch can name, by model type. Custom ones persist as JSON files."""

    def __init__(self, builtin_dir: Path, custom_dir: Path | None) -> None:
        self._custom_dir = custom_dir
        self._builtin: dict[ModelType, dict[str, Family]] = {t: {} for t in MODEL_TYPES}
        self._custom: dict[ModelType, dict[str, Family]] = {t: {} for t in MODEL_TYPES}
        for model_type, file_name in _CATALOG_FILES.items():
            file = builtin_dir / file_name
            if not file.exists():
                log.warning("catalog file %s is missing", file)
                continue
            for raw in json.loads(file.read_text(encoding="utf-8")):
                family = Family.model_validate(
                    {**raw, "model_type": model_type, "is_builtin": True}
                )
                self._builtin[model_type][family.model_name] = family
        if custom_dir is not None:
            self._load_custom(custom_dir)

    def _load_custom(self, custom_dir: Path) -> None:
        for model_type in MODEL_TYPES:
            folder = custom_dir / model_type.lower()
            if not folder.is_dir():
                continue
            for file in sorted(folder.glob("*.json")):
                try:
                    raw = json.loads(file.read_text(encoding="utf-8"))
                    family = Family.model_validate({**raw, "model_type": model_type})
                except (OSError, json.JSONDecodeError, ValidationError) as exc:
                    # One broken file must not stop the server; say which file and why.
                    log.error("skipping custom registration %s: %s", file, exc)
                    continue
                self._custom[model_type][family.model_name] = family

    # -- queries --------------------------------------------------------------------------------

    def families(self, model_type: ModelType) -> list[Family]:
        """Built-ins and custom families, custom ones winning on a name clash."""
        merged = {**self._builtin[model_type], **self._custom[model_type]}
        return sorted(merged.values(), key=lambda f: f.model_name.lower())

    def find(self, model_type: ModelType, name: str) -> Family | None:
        return self._custom[model_type].get(name) or self._builtin[model_type].get(name)

    def get(self, model_type: ModelType, name: str) -> Family:
        family = self.find(model_type, name)
        if family is None:
            raise ModelNotFound(f"Model {name} not found{self._suggest(model_type, name)}")
        return family

    def find_any_type(self, name: str) -> Family | None:
        for model_type in MODEL_TYPES:
            family = self.find(model_type, name)
            if family is not None:
                return family
        return None

    def _suggest(self, model_type: ModelType, name: str) -> str:
        names = [f.model_name for f in self.families(model_type)]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        lowered = [n for n in names if n.lower() == name.lower()]
        hints = lowered or close
        if hints:
            return ". Did you mean: " + ", ".join(hints) + "?"
        return f". Known {model_type} models: `xindesk registrations -t {model_type}`."

    def match(
        self,
        model_type: ModelType,
        name: str,
        *,
        model_format: str | None = None,
        size: object = None,
        quantization: str | None = None,
        hubs: Iterable[str] = HUB_NAMES,
    ) -> tuple[Family, Spec]:
        """The family and spec a launch asks for, or an error that lists what exists."""
        family = self.find(model_type, name)
        if family is None:
            other = self.find_any_type(name)
            if other is not None:
                raise InvalidRequest(
                    f"{name} is {with_article(other.model_type)} model, not {model_type}; "
                    f"launch it with model_type={other.model_type!r}."
                )
            raise ModelNotFound(
                f"Model not found, name: {name}, format: {model_format}, size: {size}, "
                f"quantization: {quantization}{self._suggest(model_type, name)}"
            )
        gguf_specs = [s for s in family.model_specs if s.model_format == GGUF_FORMAT]
        if model_format is not None and model_format != GGUF_FORMAT:
            raise UnsupportedModelFormat(self._format_hint(family, model_format, size, gguf_specs))
        if not gguf_specs:
            raise ModelNotFound(f"{name} has no GGUF (ggufv2) build in the catalog.")
        try:
            wanted_size = normalize_size(size)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from exc
        sized = [s for s in gguf_specs if wanted_size is None or s.size_key == wanted_size]
        if not sized:
            sizes = _unique(str(s.model_size_in_billions) for s in gguf_specs)
            raise ModelNotFound(
                f"{name} has no {size}B GGUF build; sizes available: {', '.join(sizes)}."
            )
        quantized = [
            s
            for s in sized
            if quantization is None or s.quantization.lower() == quantization.strip().lower()
        ]
        if not quantized:
            quants = _unique(s.quantization for s in sized)
            raise ModelNotFound(
                f"{name} {sized[0].model_size_in_billions}B has no quantization {quantization}; "
                f"available: {', '.join(quants)}."
            )
        order = {hub: i for i, hub in enumerate(hubs)}
        quantized.sort(key=lambda s: order.get(s.model_hub, len(order)))
        return family, quantized[0]

    def _format_hint(
        self, family: Family, model_format: str, size: object, gguf_specs: list[Spec]
    ) -> str:
        """Answer e.g. the seed guide's `launch -n qwen-chat -s 14 -f pytorch` helpfully."""
        head = (
            f"XinDesk runs GGUF models on llama.cpp, so format {model_format!r} is not available. "
        )
        if not gguf_specs:
            return head + f"{family.model_name} has no GGUF (ggufv2) build in the catalog."
        wanted = normalize_size(size)
        same_size = [s for s in gguf_specs if wanted is None or s.size_key == wanted]
        pick = same_size or gguf_specs
        quants = _unique(s.quantization for s in pick)
        default_quant = next((q for q in quants if q.lower() == "q4_k_m"), quants[0])
        sizes = _unique(str(s.model_size_in_billions) for s in gguf_specs)
        chosen_size = pick[0].model_size_in_billions
        return (
            head
            + f"Use the ggufv2 build instead: xindesk launch -n {family.model_name} "
            + f"-s {chosen_size} -f ggufv2 -q {default_quant} "
            + f"(ggufv2 sizes: {', '.join(sizes)}; quantizations for {chosen_size}B: "
            + f"{', '.join(quants)})."
        )

    # -- custom registrations -------------------------------------------------------------------

    def register(self, model_type: ModelType, payload: dict[str, Any], *, persist: bool) -> Family:
        """Add a custom family (Xinference's flattened spec form, `model_uri` = a .gguf path)."""
        name = payload.get("model_name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequest("A registration needs a `model_name`.")
        if _BAD_NAME.search(name):
            raise InvalidRequest(
                f"Invalid model name {name!r}: use letters, digits, '_', '-' and '.' only."
            )
        if name in self._builtin[model_type]:
            raise InvalidRequest(f"Model name conflicts with existing model {name}")
        try:
            family = Family.model_validate(
                {**payload, "model_type": model_type, "is_builtin": False}
            )
        except ValidationError as exc:
            raise InvalidRequest(f"Invalid registration for {name}: {exc}") from exc
        if model_type == "LLM" and not ({"chat", "generate"} & set(family.model_ability)):
            raise InvalidRequest(
                f"Registration {name} needs model_ability with 'chat' or 'generate'."
            )
        for spec in family.model_specs:
            if spec.model_format != GGUF_FORMAT:
                raise UnsupportedModelFormat(
                    f"Registration {name}: XinDesk serves GGUF only (model_format 'ggufv2')."
                )
            _check_spec_paths(name, spec)
        self._custom[model_type][name] = family
        if persist and self._custom_dir is not None:
            self._write(model_type, family)
        return family

    def unregister(self, model_type: ModelType, name: str) -> None:
        if name not in self._custom[model_type]:
            if name in self._builtin[model_type]:
                raise InvalidRequest(f"{name} is built in and cannot be unregistered.")
            raise ModelNotFound(f"Model {name} not found")
        del self._custom[model_type][name]
        if self._custom_dir is not None:
            (self._custom_dir / model_type.lower() / f"{name}.json").unlink(missing_ok=True)

    def _write(self, model_type: ModelType, family: Family) -> None:
        assert self._custom_dir is not None
        folder = self._custom_dir / model_type.lower()
        data = family.model_dump(mode="json", exclude={"model_type", "is_builtin"})
        atomic_write_text(
            folder / f"{family.model_name}.json", json.dumps(data, ensure_ascii=False, indent=1)
        )


def _check_spec_paths(name: str, spec: Spec) -> None:
    """A registration names files: its own `model_uri` anywhere, but repository ids and file
    names only as plain relative paths, since they become paths below the models folder."""
    if spec.model_uri is not None:
        user_path(spec.model_uri, what=f"Registration {name}: model_uri")
    if spec.model_id is not None:
        plain_relative(spec.model_id, what=f"Registration {name}: model_id")
    try:
        names = spec.file_names()
    except (KeyError, IndexError, ValueError) as exc:
        raise InvalidRequest(
            f"Registration {name}: a file name template does not fit ({exc!r}); use "
            "{quantization} and {part} only."
        ) from exc
    for file_name in [*names, *(spec.multimodal_projectors or [])]:
        plain_relative(file_name, what=f"Registration {name}: the file")


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)
