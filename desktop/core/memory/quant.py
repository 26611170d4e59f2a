"""Quantization levels of GGUF models: names, bits per weight, quality order.

The names are llama.cpp's (`llama-quantize --help`), plus the community variants that real
repositories use in their file names (bartowski's `_L`, Unsloth's dynamic `_XL`), so a
file list can be grouped by level without dropping files.

`bits_per_weight` follows llama.cpp's own figures: where `llama-quantize` states a bpw (the
IQ and TQ types) it is that number; where it states a file size for Llama-3-8B (8.03 B weights,
sizes in GiB) it is that size turned into bits per weight, which already includes the mix of
tensor types a level uses. The community variants have no llama.cpp figure; theirs are our
estimates (the base level plus Q8_0 embedding/output tensors) and are marked below.

`rank` orders by quality (higher is better): llama.cpp's perplexity figures for Llama-3-8B
where it gives them, and the bpw otherwise, with the IQ types a little ahead of the K types of
the same size (an importance matrix is what makes them work).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_QUANT",
    "QUANT_LEVELS",
    "QuantLevel",
    "quant_from_file_type",
    "quant_from_filename",
    "quant_level",
    "sort_key",
]

#: What to offer when nothing better is known: the usual size/quality balance.
DEFAULT_QUANT = "Q4_K_M"


@dataclass(frozen=True)
class QuantLevel:
    """One quantization level.

    Attributes:
        name: The canonical (llama.cpp) spelling, upper case.
        bits_per_weight: Approximate average bits per weight of a file at this level.
        rank: Quality order, higher is better; unique per level.
        file_type: llama.cpp's `general.file_type` (LLAMA_FTYPE) number, None for
            community variants that have none of their own.
    """

    name: str
    bits_per_weight: float
    rank: int
    file_type: int | None


# Best quality first; the rank is derived from the position. (name, bpw, LLAMA_FTYPE).
_ORDERED: tuple[tuple[str, float, int | None], ...] = (
    ("F32", 32.0, 0),
    # BF16 keeps the original weights' exponent range; llama.cpp measures it a hair ahead.
    ("BF16", 16.0, 32),
    ("F16", 16.0, 1),
    ("Q8_K_XL", 9.0, None),  # Unsloth dynamic, estimate
    ("Q8_0", 8.51, 7),
    ("Q6_K_XL", 6.9, None),  # Unsloth dynamic, estimate
    ("Q6_K_L", 6.7, None),  # bartowski: Q6_K with Q8_0 embeddings/output, estimate
    ("Q6_K", 6.57, 18),
    ("Q5_K_XL", 5.85, None),  # Unsloth dynamic, estimate
    ("Q5_K_L", 5.8, None),  # bartowski, estimate
    ("Q5_K_M", 5.70, 17),
    ("Q5_K_S", 5.57, 16),
    ("Q5_1", 6.04, 9),
    ("Q5_0", 5.57, 8),
    ("Q4_K_XL", 5.0, None),  # Unsloth dynamic, estimate
    ("Q4_K_L", 5.05, None),  # bartowski, estimate
    ("Q4_K_M", 4.90, 15),
    ("Q4_K_S", 4.67, 14),
    ("IQ4_NL", 4.50, 25),
    ("IQ4_XS", 4.25, 30),
    ("NVFP4", 4.5, 39),
    # MXFP4 is lossless for models trained in it (gpt-oss), about Q4_0 for anything else.
    ("MXFP4", 4.25, 38),
    ("Q4_1", 5.11, 3),
    ("Q4_0", 4.64, 2),
    # The ARM repacks of Q4_0: same numbers, no longer written by llama.cpp (it repacks
    # Q4_0 at load time instead), but old files carry these names and file types.
    ("Q4_0_8_8", 4.64, 35),
    ("Q4_0_4_8", 4.64, 34),
    ("Q4_0_4_4", 4.64, 33),
    ("Q3_K_XL", 4.4, None),  # Unsloth / bartowski, estimate
    ("Q3_K_L", 4.31, 13),
    ("Q3_K_M", 4.00, 12),
    ("IQ3_M", 3.66, 27),
    ("IQ3_S", 3.44, 26),
    ("Q3_K_S", 3.65, 11),
    ("IQ3_XS", 3.3, 22),
    ("IQ3_XXS", 3.06, 23),
    ("Q2_K_XL", 3.3, None),  # Unsloth dynamic, estimate
    ("Q2_K_L", 3.3, None),  # bartowski, estimate
    ("Q2_K", 3.17, 10),
    ("Q2_K_S", 3.17, 21),
    ("IQ2_M", 2.7, 29),
    ("IQ2_S", 2.5, 28),
    ("IQ2_XS", 2.31, 20),
    ("IQ2_XXS", 2.06, 19),
    ("IQ1_M", 1.75, 31),
    ("IQ1_S", 1.56, 24),
    # Ternary types are exact for ternary-trained models (BitNet) and poor for the rest.
    ("TQ2_0", 2.06, 37),
    ("TQ1_0", 1.69, 36),
)

#: Every known level, by canonical name.
QUANT_LEVELS: dict[str, QuantLevel] = {
    name: QuantLevel(name, bpw, len(_ORDERED) - index, ftype)
    for index, (name, bpw, ftype) in enumerate(_ORDERED)
}

# Other spellings seen in file names and in `llama-quantize` (its Q4_K etc. aliases).
_ALIASES: dict[str, str] = {
    "FP32": "F32",
    "FP16": "F16",
    "Q3_K": "Q3_K_M",
    "Q4_K": "Q4_K_M",
    "Q5_K": "Q5_K_M",
    "MXFP4_MOE": "MXFP4",
}

_BY_FILE_TYPE: dict[int, str] = {
    level.file_type: level.name for level in QUANT_LEVELS.values() if level.file_type is not None
}

# Every spelling, longest first so that the regex alternation prefers Q4_K_M over Q4_K.
_SPELLINGS: tuple[str, ...] = tuple(
    sorted([*QUANT_LEVELS, *_ALIASES], key=lambda spelling: (-len(spelling), spelling))
)
# A name counts only as a whole token: not preceded or followed by a letter or digit
# ("bf16" is not "F16", "IQ4_XS" is not "Q4_XS"); "_", "-", "." and "/" separate tokens.
_NAME_RE = re.compile(
    r"(?<![A-Za-z0-9])(" + "|".join(re.escape(s) for s in _SPELLINGS) + r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def quant_level(name: str) -> QuantLevel | None:
    """The level called `name` (any case, aliases such as "q4_k" or "fp16" accepted)."""
    key = name.strip().upper().replace("-", "_")
    return QUANT_LEVELS.get(_ALIASES.get(key, key))


def quant_from_filename(filename: str) -> str | None:
    """The canonical level named in a GGUF file name, or None when it names none.

    The longest name found wins (Q4_K_M over Q4_K, Q4_0_4_4 over Q4_0); between names of
    equal length the last one wins, since the level is what converters append last.
    Examples: "Qwen2.5-7B-Instruct-Q4_K_M-00001-of-00002.gguf" gives "Q4_K_M",
    "phi-3-mini-4k-instruct-fp16.gguf" gives "F16".
    """
    best: str | None = None
    # re.finditer does not return overlapping matches; scan from every position instead,
    # so that a shorter name at an earlier position cannot hide a longer one inside it.
    position = 0
    while (match := _NAME_RE.search(filename, position)) is not None:
        found = match.group(1)
        if best is None or len(found) >= len(best):
            best = found
        position = match.start() + 1
    if best is None:
        return None
    level = quant_level(best)
    return level.name if level is not None else None


def quant_from_file_type(file_type: int) -> str | None:
    """The level of a GGUF's `general.file_type` number, or None for unknown numbers."""
    return _BY_FILE_TYPE.get(file_type)


def sort_key(name: str) -> tuple[int, int, str]:
    """Key that orders level names best quality first; unknown names go last, by name."""
    level = quant_level(name)
    if level is None:
        return (1, 0, name.upper())
    return (0, -level.rank, level.name)
