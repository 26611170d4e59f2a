"""Launch options with named values: KV cache types, flash attention, speculative decoding.

They are checked when a launch is planned, so a wrong value gets a 400 that lists the values
that work instead of a worker that dies in llama.cpp (a `type_k` of 999 aborts the process).
The names are llama.cpp's own (`llama-server --cache-type-k q8_0`, `-fa auto`).
"""

from __future__ import annotations

from typing import Any, Literal

from desktop.core.engine.textmodel import GGML_TYPE_IDS
from desktop.core.errors import InvalidRequest
from desktop.core.memory.estimate import KV_TYPES

#: The KV cache types a launch may ask for, as llama.cpp names them (the memory estimate
#: knows each one's size). Launch scripts written for llama-cpp-python send ggml's numbers
#: (`GGML_TYPE_IDS`) instead; both are taken.
KV_CACHE_TYPES: tuple[str, ...] = tuple(KV_TYPES)
DEFAULT_KV_CACHE_TYPE = "f16"

# The launch keys for the K and V cache types: llama-cpp-python's and llama-server's names.
KV_KEYS: dict[str, str] = {
    "type_k": "type_k",
    "type_v": "type_v",
    "cache_type_k": "type_k",
    "cache_type_v": "type_v",
}

FlashAttn = Literal["auto", "on", "off"]
FLASH_ATTN_MODES: tuple[FlashAttn, ...] = ("auto", "on", "off")
_TRUE = ("true", "1", "yes", "on", "enabled")
_FALSE = ("false", "0", "no", "off", "disabled")

Speculative = Literal["ngram", "off"]
SPECULATIVE_MODES: tuple[Speculative, ...] = ("ngram", "off")
#: Most tokens one sequence drafts in a step, unless the launch says (`draft_max`).
DEFAULT_DRAFT_MAX = 16


def kv_cache_type(key: str, value: Any) -> str:
    """A K or V cache type by name ("q8_0"), or by ggml number as llama-cpp-python takes it."""
    allowed = ", ".join(KV_CACHE_TYPES)
    if isinstance(value, bool):
        raise InvalidRequest(f"Launch option {key}={value!r}: use one of {allowed}.")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        number = int(value)
        for name, ggml_id in GGML_TYPE_IDS.items():
            if ggml_id == number:
                return name
        raise InvalidRequest(
            f"Launch option {key}={value!r} is not a KV cache type; use one of {allowed}."
        )
    if isinstance(value, str):
        name = value.strip().lower()
        if name in KV_TYPES:
            return name
    raise InvalidRequest(f"Unknown KV cache type {key}={value!r}; use one of {allowed}.")


def flash_attn_mode(value: Any) -> FlashAttn:
    """`flash_attn` as llama.cpp's three modes: a bool (llama-cpp-python) or a name."""
    if isinstance(value, bool):
        return "on" if value else "off"
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    if text in _TRUE:
        return "on"
    if text in _FALSE:
        return "off"
    raise InvalidRequest(
        f"Launch option flash_attn={value!r}: use one of {', '.join(FLASH_ATTN_MODES)} "
        "(or true / false)."
    )


def speculative_mode(value: Any) -> Speculative:
    """`speculative`: "ngram" (drafts from the prompt and the answer so far) or "off"."""
    if isinstance(value, bool):
        return "ngram" if value else "off"
    text = str(value).strip().lower()
    if text in ("ngram", "auto", *_TRUE):
        return "ngram"
    if text in _FALSE or text == "none":
        return "off"
    raise InvalidRequest(
        f"Launch option speculative={value!r}: use one of {', '.join(SPECULATIVE_MODES)}."
    )


def check_cache_and_attention(options: dict[str, Any]) -> None:
    """llama.cpp computes attention on a quantized V cache only with flash attention."""
    type_v = options.get("type_v", DEFAULT_KV_CACHE_TYPE)
    if options.get("flash_attn") == "off" and type_v not in ("f32", "f16", "bf16"):
        raise InvalidRequest(
            f"A {type_v} V cache needs flash attention: launch with flash_attn 'auto' or "
            "'on', or with type_v f16."
        )
