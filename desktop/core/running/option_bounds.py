"""Launch options with numbers and switches, checked by name, type and range before a worker
starts.

llama.cpp takes these as C integers and floats: a value out of range wraps (2**40 becomes 0),
a zero batch aborts the process, and a context of 10**9 tokens grows the worker until the
kernel's OOM killer ends it. So every option is parsed here into the type and range llama.cpp
can use, and anything else is refused with a message that names the option and what it takes.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from typing import Any

from desktop.core.errors import InvalidRequest

# The largest context a launch may ask for, whatever the model and its rope settings say:
# llama.cpp keeps n_ctx x parallel in a 32-bit count, and no desktop holds a longer cache.
MAX_N_CTX = 1 << 22
MIN_N_CTX = 16
_INT32_MAX = 2**31 - 1
_UINT32_MAX = 2**32 - 1
# Threads beyond this many per logical CPU only add contention.
THREADS_PER_CPU = 4

# Launch options that stretch a model's positions past its trained context (linear, YaRN or
# NTK-style scaling): with one of them, n_ctx may exceed the model's own context.
ROPE_SCALING_KEYS = (
    "rope_freq_base",
    "rope_freq_scale",
    "rope_scaling_type",
    "yarn_ext_factor",
    "yarn_attn_factor",
    "yarn_beta_fast",
    "yarn_beta_slow",
    "yarn_orig_ctx",
)

# llama.cpp's enum llama_rope_scaling_type, by name.
ROPE_SCALING_TYPES: dict[str, int] = {
    "unspecified": -1,
    "none": 0,
    "linear": 1,
    "yarn": 2,
    "longrope": 3,
}

_DIGITS = re.compile(r"[+-]?[0-9]{1,19}")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def max_threads() -> int:
    """The most threads a launch may ask for on this computer."""
    return (os.cpu_count() or 1) * THREADS_PER_CPU


def whole_number(key: str, value: Any, low: int, high: int, allowed: str = "") -> int:
    """An integer option: an int, a float without a fraction, or a string of digits, in
    [low, high]. Booleans are refused (True is not a size)."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    allowed = allowed or f"a whole number from {low} to {high}"
    if number is None:
        raise InvalidRequest(f"Launch option {key}={show_value(value)} must be {allowed}.")
    if not low <= number <= high:
        raise InvalidRequest(f"Launch option {key}={number} is out of range: use {allowed}.")
    return number


def real_number(key: str, value: Any, low: float, high: float, allowed: str = "") -> float:
    """A floating-point option: a finite number (or its text) in [low, high]."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and len(value) <= 40:
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    allowed = allowed or f"a number from {low:g} to {high:g}"
    if number is None or not math.isfinite(number):
        raise InvalidRequest(f"Launch option {key}={show_value(value)} must be {allowed}.")
    if not low <= number <= high:
        raise InvalidRequest(f"Launch option {key}={number:g} is out of range: use {allowed}.")
    return number


def switch(key: str, value: Any) -> bool:
    """An on/off option: true or false (or their usual spellings: 1/0, yes/no, on/off)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise InvalidRequest(f"Launch option {key}={show_value(value)} must be true or false.")


def rope_scaling_type(key: str, value: Any) -> int:
    """llama.cpp's rope scaling type, by name ("yarn") or by its number."""
    names = ", ".join(ROPE_SCALING_TYPES)
    if isinstance(value, str) and value.strip().lower() in ROPE_SCALING_TYPES:
        return ROPE_SCALING_TYPES[value.strip().lower()]
    return whole_number(key, value, -1, 3, f"one of {names} (or llama.cpp's number, -1 to 3)")


def show_value(value: Any) -> str:
    """A value as a message quotes it, cut short: a hostile value may be a megabyte long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_Rule = Callable[[str, Any], Any]


def _ints(low: int, high: int, allowed: str = "") -> _Rule:
    return lambda key, value: whole_number(key, value, low, high, allowed)


def _reals(low: float, high: float, allowed: str = "") -> _Rule:
    return lambda key, value: real_number(key, value, low, high, allowed)


def _threads(key: str, value: Any) -> int:
    most = max_threads()
    return whole_number(
        key, value, 1, most, f"a whole number from 1 to {most} ({THREADS_PER_CPU} per CPU)"
    )


# The llama.cpp options a launch may set, by llama-cpp-python's names, with what each takes.
LLAMA_OPTIONS: dict[str, _Rule] = {
    # Its range depends on the model: `check_context`.
    "n_ctx": _ints(0, 2**63, "a whole number of tokens (0 for the default)"),
    "n_gpu_layers": _ints(-1, _INT32_MAX, "-1 (every layer) or a whole number of layers"),
    "n_threads": _threads,
    "n_threads_batch": _threads,
    "n_batch": _ints(1, MAX_N_CTX),
    "n_ubatch": _ints(1, MAX_N_CTX),
    "use_mmap": switch,
    "use_mlock": switch,
    "offload_kqv": switch,
    "swa_full": switch,
    "main_gpu": _ints(0, 255, "the index of a GPU, from 0"),
    "seed": _ints(-1, _UINT32_MAX),
    "rope_freq_base": _reals(0.0, 1e12, "0 (the model's own) or a positive number"),
    "rope_freq_scale": _reals(0.0, 1e6, "0 (the model's own) or a positive number"),
    "rope_scaling_type": rope_scaling_type,
    "yarn_ext_factor": _reals(-1.0, 1e6, "-1 (the model's own) or a number from 0"),
    "yarn_attn_factor": _reals(0.0, 1e6),
    "yarn_beta_fast": _reals(0.0, 1e6),
    "yarn_beta_slow": _reals(0.0, 1e6),
    "yarn_orig_ctx": _ints(0, MAX_N_CTX, f"0 (the model's own) or a context up to {MAX_N_CTX}"),
}


def llama_option(key: str, value: Any) -> Any:
    """A llama.cpp launch option parsed into the type and range llama.cpp takes."""
    return LLAMA_OPTIONS[key](key, value)


def check_context(n_ctx: int, trained: int | None, options: dict[str, Any]) -> None:
    """n_ctx is at least MIN_N_CTX, and at most the model's trained context (or MAX_N_CTX
    when a rope scaling option stretches it, or the model does not say)."""
    scaled = any(options.get(key) is not None for key in ROPE_SCALING_KEYS)
    most = MAX_N_CTX if scaled or not trained else min(trained, MAX_N_CTX)
    if MIN_N_CTX <= n_ctx <= most:
        return
    stretch = (
        f", or stretch the context with a rope scaling option ({', '.join(ROPE_SCALING_KEYS)})"
        if most < n_ctx <= MAX_N_CTX
        else ""
    )
    if n_ctx < MIN_N_CTX:
        why = "is too small to run a model"
    elif n_ctx <= MAX_N_CTX:
        why = "is longer than this model's trained context"
    else:
        why = "is out of range"
    raise InvalidRequest(
        f"Launch option n_ctx={n_ctx} {why}: use {MIN_N_CTX} to {most} tokens{stretch}."
    )
