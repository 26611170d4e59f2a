"""The draft model of a launch: a small model of the same family that guesses the next tokens
for the launched one (speculative decoding, `engine.speculative`).

`draft_model_path` names a GGUF file. `draft_model` names one by catalog: "auto" (the smallest
downloaded size of the launched model's family, smaller than it: Qwen3-0.6B for Qwen3-8B), a
size of that family ("0_6", "1.7"), or another family's name (its smallest downloaded size).
The draft must share the launched model's vocabulary: its guesses are token ids.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from desktop.core.catalog import Catalog, Family, Spec
from desktop.core.catalog.families import GGUF_FORMAT, normalize_size
from desktop.core.errors import InvalidRequest, ModelFileMissing
from desktop.core.memory.gguf_info import (
    ARRAY_LENGTHS_KEY,
    check_given_gguf,
    read_gguf_metadata,
)
from desktop.core.store import InstalledIndex

log = logging.getLogger("xindesk.launch")

_VOCAB_KEY = "tokenizer.ggml.tokens"
_NONE = ("", "none", "off", "false")


def _billions(spec: Spec) -> float:
    key = spec.size_key
    try:
        return float(key.replace("_", ".")) if key else float("inf")
    except ValueError:
        return float("inf")


def _downloaded(specs: list[Spec], installed: InstalledIndex) -> list[tuple[Spec, Path]]:
    """The specs whose files are on this machine (the store's answer), with their paths."""
    found: list[tuple[Spec, Path]] = []
    for spec in specs:
        if spec.model_uri:
            path: Path | None = Path(spec.model_uri)
        else:
            model = installed.for_spec(spec)
            path = model.path if model is not None else None
        if path is not None and path.is_file():
            found.append((spec, path))
    return found


def resolve_draft_model(
    request: dict[str, Any],
    catalog: Catalog,
    family: Family,
    spec: Spec | None,
    installed: InstalledIndex,
    target_path: Path,
) -> Path | None:
    """The draft model file a launch asks for, None when it asks for none."""
    raw_path = request.get("draft_model_path")
    wanted = request.get("draft_model")
    if raw_path:
        draft = check_given_gguf(str(raw_path), what="draft_model_path")
    elif wanted is None or str(wanted).strip().lower() in _NONE:
        return None
    else:
        # The launched model's size: asked for, or its catalog spec's when the catalog chose
        # the file (a file given by path matched a spec on its quantization alone).
        size = request.get("model_size_in_billions")
        if size is None and spec is not None and not request.get("model_path"):
            size = spec.model_size_in_billions
        draft = _from_catalog(
            str(wanted).strip(), catalog, family, spec, size, target_path, installed
        )
    check_same_vocabulary(target_path, draft)
    log.info("draft model for %s: %s", target_path.name, draft)
    return draft


def _from_catalog(
    wanted: str,
    catalog: Catalog,
    family: Family,
    spec: Spec | None,
    target_size: object,
    target_path: Path,
    installed: InstalledIndex,
) -> Path:
    other = catalog.find("LLM", wanted)
    source = other if other is not None else family
    specs = [s for s in source.model_specs if s.model_format == GGUF_FORMAT]
    if other is None and wanted.lower() != "auto":
        try:
            size = normalize_size(wanted)
        except ValueError as exc:
            raise InvalidRequest(
                f"draft_model={wanted!r} is neither 'auto', a size of {family.model_name} nor "
                "a model name in the catalog."
            ) from exc
        specs = [s for s in specs if s.size_key == size]
        if not specs:
            raise InvalidRequest(
                f"{family.model_name} has no {wanted}B GGUF build to draft with; sizes: "
                f"{', '.join(sorted({str(s.model_size_in_billions) for s in source.model_specs}))}."
            )
    found = _downloaded(specs, installed)
    if other is None and wanted.lower() == "auto":
        # Smaller members of the launched model's family only: by size where it is known,
        # else by file size.
        try:
            limit = float(str(normalize_size(target_size)).replace("_", "."))
        except ValueError:
            limit = float("nan")
        if target_size is not None and limit == limit:
            found = [(s, p) for s, p in found if _billions(s) < limit]
        else:
            whole = target_path.stat().st_size
            found = [(s, p) for s, p in found if p.stat().st_size < whole]
    if not found:
        smallest = min(specs, key=_billions, default=None)
        hint = (
            f" Download one first, e.g. `xindesk download {source.model_name} -s "
            f"{smallest.model_size_in_billions} -q {smallest.quantization}`, or give "
            "draft_model_path."
            if smallest is not None
            else " Give draft_model_path instead."
        )
        raise ModelFileMissing(
            f"No downloaded draft model for draft_model={wanted!r} ({source.model_name}).{hint}"
        )
    quant = spec.quantization.lower() if spec is not None else "q4_k_m"
    # The smallest; among its files the launched model's quantization, then the smallest file.
    _spec, best_path = min(
        found,
        key=lambda item: (
            _billions(item[0]),
            item[0].quantization.lower() != quant,
            item[1].stat().st_size,
        ),
    )
    return best_path


def check_same_vocabulary(target: Path, draft: Path) -> None:
    """Refuse a draft whose token ids mean other text than the launched model's."""
    ours = read_gguf_metadata(target, tensors=False)
    theirs = read_gguf_metadata(draft, tensors=False)
    keys = ("tokenizer.ggml.model", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id")
    for key in keys:
        if key in ours and key in theirs and ours[key] != theirs[key]:
            raise InvalidRequest(
                f"The draft model {draft.name} does not share {target.name}'s vocabulary "
                f"({key}: {theirs[key]!r}, not {ours[key]!r}); use a smaller model of the "
                "same family."
            )
    n_ours, n_theirs = _vocab_size(ours), _vocab_size(theirs)
    # Families pad their vocabularies differently by size (Qwen); llama.cpp's own check
    # allows this much.
    if n_ours and n_theirs and abs(n_ours - n_theirs) > 128:
        raise InvalidRequest(
            f"The draft model {draft.name} has {n_theirs} tokens, {target.name} {n_ours}: "
            "they do not share a vocabulary; use a smaller model of the same family."
        )


def _vocab_size(metadata: dict[str, Any]) -> int | None:
    count = (metadata.get(ARRAY_LENGTHS_KEY) or {}).get(_VOCAB_KEY)
    return int(count) if isinstance(count, int) else None
