"""A searched hub repository turned into a custom registration, so it launches by name.

Each quantization choice becomes one spec whose file names are the repository's own paths: no
template guessing, and split files keep their exact part names.
"""

from __future__ import annotations

import re
from typing import Any

from desktop.core.catalog.families import GGUF_FORMAT, ModelType
from desktop.core.catalog.files import RepoGGUFs
from desktop.core.errors import InvalidRequest

_SIZE = re.compile(r"(?i)(?<![\d.])(\d+(?:\.\d+)?)\s*b(?![a-z])")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def size_from_name(repo_id: str) -> str | None:
    """ "Qwen2.5-7B-Instruct-GGUF" -> "7"; None when the name does not say."""
    match = _SIZE.search(repo_id.split("/")[-1])
    if match is None:
        return None
    return match.group(1).rstrip("0").rstrip(".") if "." in match.group(1) else match.group(1)


def default_model_name(repo_id: str) -> str:
    """A registration name from a repository id: "bartowski/Qwen2.5-7B-Instruct-GGUF" ->
    "Qwen2.5-7B-Instruct-GGUF" (only the characters registrations allow)."""
    return _UNSAFE.sub("-", repo_id.split("/")[-1]).strip("-") or "model"


def registration_from_repo(
    repo_id: str,
    hub: str,
    grouped: RepoGGUFs,
    *,
    model_name: str | None = None,
    model_type: ModelType = "LLM",
    context_length: int | None = None,
) -> dict[str, Any]:
    """The payload for `Catalog.register`, one spec per complete quantization choice."""
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    size = size_from_name(repo_id)
    for choice in grouped.choices:
        # One spec per level: the first choice is the plain file, variants come after it.
        if not choice.complete or choice.quant in seen:
            continue
        seen.add(choice.quant)
        spec: dict[str, Any] = {
            "model_format": GGUF_FORMAT,
            "model_size_in_billions": size,
            "quantization": choice.quant,
            "model_hub": hub,
            "model_id": repo_id,
        }
        paths = [file.path for file in choice.files]
        if len(paths) == 1:
            spec["model_file_name_template"] = paths[0]
        else:
            spec["model_file_name_split_template"] = "{part}"
            spec["quantization_parts"] = {choice.quant: paths}
        specs.append(spec)
    if not specs:
        raise InvalidRequest(f"{repo_id} has no complete GGUF file to register.")
    ability = {"LLM": ["chat", "generate"], "embedding": [], "rerank": []}[model_type]
    payload: dict[str, Any] = {
        "model_name": model_name or default_model_name(repo_id),
        "model_description": f"{repo_id} from {hub}",
        "model_lang": ["en", "zh"],
        "model_ability": ability,
        "model_specs": specs,
    }
    if context_length:
        payload["context_length"] = context_length
    return payload
