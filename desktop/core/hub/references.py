"""Model references as people paste them: "owner/repo", Ollama's "owner/repo:Q4_K_M", and links
to Hugging Face, hf-mirror.com and ModelScope."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from desktop.api.hubs import HubName
from desktop.core.errors import InvalidRequest

_HF_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co", "hf-mirror.com"})
_MS_HOSTS = frozenset({"modelscope.cn", "www.modelscope.cn", "modelscope.ai", "www.modelscope.ai"})
# Hugging Face's rule for owner and name (letters, digits, "-", "_", "."), which ModelScope's fit.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_TAG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_EXAMPLE = "e.g. bartowski/Qwen2.5-7B-Instruct-GGUF or a huggingface.co / modelscope.cn link"


def parse_repo_reference(text: str) -> tuple[HubName | None, str, str | None]:
    """Read what a person pastes as a model reference.

    Returns (hub or None when the text does not say, "owner/repo", file path or quantization
    or None). Accepted: "owner/repo", "owner/repo:Q4_K_M" (Ollama's quant tag), "hf.co/owner/repo"
    (with or without a tag), Hugging Face and hf-mirror.com links (a /blob/ or /resolve/ link
    gives its file), ModelScope links ("/models/owner/repo", with /files, /file/view/<rev>/<file>
    or /resolve/<rev>/<file>). A revision inside a link is not returned.
    """
    raw = text.strip()
    if not raw:
        raise InvalidRequest(f"Name a model repository, {_EXAMPLE}.")
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise InvalidRequest(f"{raw!r} is not a model repository link; {_EXAMPLE}.")
        host: str | None = parts.hostname.lower()
        path = unquote(parts.path)
    else:
        head, _, rest = raw.partition("/")
        if head.lower() in _HF_HOSTS | _MS_HOSTS:
            host, path = head.lower(), rest
        elif "." in head and rest.count("/") >= 1:
            raise InvalidRequest(f"{head} is not a Hugging Face or ModelScope address; {_EXAMPLE}.")
        else:
            host, path = None, raw
    segments = [s for s in path.split("/") if s]

    if host is None:
        if len(segments) != 2:
            raise InvalidRequest(f"{raw!r} is not a model repository (owner/repo); {_EXAMPLE}.")
        name, tag = _split_tag_of(segments[1], raw)
        return None, _repo_id(segments[0], name, raw), tag
    if host in _HF_HOSTS:
        return ("huggingface", *_hf_path(segments, raw))
    if host in _MS_HOSTS:
        return ("modelscope", *_ms_path(segments, raw))
    raise InvalidRequest(f"{host} is not a Hugging Face or ModelScope address; {_EXAMPLE}.")


def _split_tag_of(name: str, raw: str) -> tuple[str, str | None]:
    """ "repo:Q4_K_M" -> ("repo", "Q4_K_M"); Ollama's ":latest" means no particular one."""
    if ":" not in name:
        return name, None
    name, _, tag = name.partition(":")
    if not _TAG_RE.fullmatch(tag):
        raise InvalidRequest(f"{tag!r} in {raw!r} is not a quantization such as Q4_K_M.")
    return name, None if tag.lower() == "latest" else tag


def _repo_id(owner: str, name: str, raw: str) -> str:
    name = name.removesuffix(".git")
    for part in (owner, name):
        if not _NAME_RE.fullmatch(part) or ".." in part:
            raise InvalidRequest(
                f"{raw!r} is not a model repository: {part!r} is not a valid owner or repository "
                f"name; {_EXAMPLE}."
            )
    return f"{owner}/{name}"


def _hf_path(segments: list[str], raw: str) -> tuple[str, str | None]:
    if segments and segments[0] in ("datasets", "spaces", "buckets"):
        raise InvalidRequest(f"{raw!r} is a Hugging Face {segments[0][:-1]}, not a model.")
    if len(segments) < 2:
        raise InvalidRequest(f"{raw!r} names no repository (owner/repo); {_EXAMPLE}.")
    owner, name, rest = segments[0], segments[1], segments[2:]
    name, tag = _split_tag_of(name, raw) if not rest else (name, None)
    if len(rest) >= 3 and rest[0] in ("blob", "resolve", "raw"):
        return _repo_id(owner, name, raw), "/".join(rest[2:])
    return _repo_id(owner, name, raw), tag


def _ms_path(segments: list[str], raw: str) -> tuple[str, str | None]:
    if segments and segments[0] == "datasets":
        raise InvalidRequest(f"{raw!r} is a ModelScope dataset, not a model.")
    if segments and segments[0] == "models":
        segments = segments[1:]
    if len(segments) < 2:
        raise InvalidRequest(f"{raw!r} names no repository (owner/repo); {_EXAMPLE}.")
    owner, name, rest = segments[0], segments[1], segments[2:]
    name, tag = _split_tag_of(name, raw) if not rest else (name, None)
    if len(rest) >= 4 and rest[:2] == ["file", "view"]:
        return _repo_id(owner, name, raw), "/".join(rest[3:])
    if len(rest) >= 3 and rest[0] == "resolve":
        return _repo_id(owner, name, raw), "/".join(rest[2:])
    return _repo_id(owner, name, raw), tag
