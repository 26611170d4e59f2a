"""A model's shape: the hyperparameters that decide its memory, read from GGUF metadata.

Everything here works from header metadata (`gguf_info.read_gguf_metadata*`), so the shape is
known before a download starts: the hub reads a remote file's header with range requests and
hands the same dictionary in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.core.errors import InvalidRequest
from desktop.core.memory.gguf_info import ARRAY_LENGTHS_KEY, TENSORS_KEY

# Sliding-window layout of architectures that do not write it into the GGUF, as llama.cpp's
# llama-model.cpp hard-codes it: (period, default window). With period p, layer il uses the
# window when il % p < p - 1 (every p-th layer is global).
_SWA_DEFAULTS: dict[str, tuple[int, int | None]] = {
    "gemma2": (2, 4096),
    "gemma3": (6, None),
    "gemma3n": (5, None),
    "gemma-embedding": (6, None),
    "cohere2": (4, None),
    "gpt-oss": (2, None),
    "llama4": (4, 8192),
    "exaone4": (4, None),
    "smallthinker": (4, None),
    "olmo2": (4, None),
}
# Encoder-only architectures: llama.cpp gives them no KV cache.
_ENCODERS = frozenset(
    {"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3", "neo-bert"}
    | {"modern-bert", "t5encoder", "eurobert"}
)


@dataclass(frozen=True)
class ModelShape:
    """The hyperparameters that decide a model's memory, from its GGUF metadata.

    Per-layer tuples have one entry per repeating block.
    """

    architecture: str
    n_layer: int
    n_embd: int
    n_vocab: int
    n_ctx_train: int | None
    n_head: tuple[int, ...]
    n_head_kv: tuple[int, ...]
    head_dim_k: tuple[int, ...]
    head_dim_v: tuple[int, ...]
    n_ff: int
    swa_layers: tuple[bool, ...]
    n_swa: int
    has_kv_cache: bool
    causal: bool
    pooled: bool
    gated_ffn: bool
    file_type: int | None

    @property
    def uses_swa(self) -> bool:
        return self.n_swa > 0 and any(self.swa_layers)


def _arch_value(meta: Mapping[str, Any], arch: str, key: str) -> Any:
    return meta.get(f"{arch}.{key}")


def _per_layer(value: Any, n_layer: int, default: int) -> tuple[int, ...]:
    """A hyperparameter that is either one number or one number per layer."""
    if isinstance(value, list) and value:
        items = [int(v) for v in value[:n_layer]]
        return tuple(items + [items[-1]] * (n_layer - len(items)))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (int(value),) * n_layer
    return (default,) * n_layer


def as_int(value: Any, default: int = 0) -> int:
    """A metadata value as an int: the largest of a per-layer list, `default` when absent."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, list) and value:
        return max(int(v) for v in value)
    return default


def model_shape(metadata: Mapping[str, Any]) -> ModelShape:
    """The memory-relevant shape of a model from its header metadata.

    Raises:
        InvalidRequest: The metadata lacks the architecture or its block count.
    """
    arch = str(metadata.get("general.architecture") or "")
    n_layer = as_int(_arch_value(metadata, arch, "block_count"))
    if not arch or n_layer <= 0:
        raise InvalidRequest(
            "The GGUF metadata does not say the model's architecture and layer count "
            "(general.architecture, <arch>.block_count); its memory cannot be estimated."
        )
    n_embd = as_int(_arch_value(metadata, arch, "embedding_length"))
    n_head = _per_layer(_arch_value(metadata, arch, "attention.head_count"), n_layer, 0)
    kv_raw = _arch_value(metadata, arch, "attention.head_count_kv")
    n_head_kv = _per_layer(kv_raw, n_layer, 0) if kv_raw is not None else n_head
    first_head = next((h for h in n_head if h), 0)
    default_dim = n_embd // first_head if first_head else 0
    key_length = as_int(_arch_value(metadata, arch, "attention.key_length"), default_dim)
    value_length = as_int(_arch_value(metadata, arch, "attention.value_length"), key_length)

    # MLA (DeepSeek 2/3, Kimi): the cache holds the compressed latent plus the rope part,
    # once per token, not per head.
    kv_lora = as_int(_arch_value(metadata, arch, "attention.kv_lora_rank"))
    if kv_lora:
        rope = as_int(_arch_value(metadata, arch, "rope.dimension_count"), 64)
        n_head_kv = (1,) * n_layer
        key_length, value_length = kv_lora + rope, kv_lora

    n_swa, swa_layers = _sliding_window(metadata, arch, n_layer)
    key_swa = as_int(_arch_value(metadata, arch, "attention.key_length_swa"), key_length)
    value_swa = as_int(_arch_value(metadata, arch, "attention.value_length_swa"), value_length)
    head_dim_k = tuple(key_swa if swa else key_length for swa in swa_layers)
    head_dim_v = tuple(value_swa if swa else value_length for swa in swa_layers)

    n_ff = as_int(_arch_value(metadata, arch, "feed_forward_length"))
    n_expert_used = as_int(_arch_value(metadata, arch, "expert_used_count"))
    n_ff_exp = as_int(_arch_value(metadata, arch, "expert_feed_forward_length"))
    if n_expert_used and n_ff_exp:
        n_shared = as_int(_arch_value(metadata, arch, "expert_shared_count"))
        n_ff_shexp = as_int(
            _arch_value(metadata, arch, "expert_shared_feed_forward_length"), n_ff_exp
        )
        n_ff = max(n_ff, n_ff_exp * n_expert_used + n_shared * n_ff_shexp)

    lengths = metadata.get(ARRAY_LENGTHS_KEY)
    n_vocab = as_int(_arch_value(metadata, arch, "vocab_size"))
    if not n_vocab and isinstance(lengths, Mapping):
        n_vocab = as_int(lengths.get("tokenizer.ggml.tokens"))

    causal_value = _arch_value(metadata, arch, "attention.causal")
    causal = bool(causal_value) if causal_value is not None else arch not in _ENCODERS
    pooling = as_int(_arch_value(metadata, arch, "pooling_type"), -1)
    file_type = metadata.get("general.file_type")
    context = _arch_value(metadata, arch, "context_length")
    tensors = metadata.get(TENSORS_KEY)
    if isinstance(tensors, Sequence) and tensors:
        gated = any(".ffn_gate" in str(tensor_field(t, "name")) for t in tensors)
    else:
        gated = arch not in _ENCODERS
    return ModelShape(
        architecture=arch,
        n_layer=n_layer,
        n_embd=n_embd,
        n_vocab=n_vocab,
        n_ctx_train=as_int(context) or None,
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim_k=head_dim_k,
        head_dim_v=head_dim_v,
        n_ff=n_ff,
        swa_layers=swa_layers,
        n_swa=n_swa,
        has_kv_cache=causal and arch not in _ENCODERS and any(n_head_kv),
        causal=causal,
        pooled=pooling > 0,
        gated_ffn=gated,
        file_type=int(file_type) if isinstance(file_type, int) else None,
    )


def _sliding_window(
    metadata: Mapping[str, Any], arch: str, n_layer: int
) -> tuple[int, tuple[bool, ...]]:
    """The window size and which layers use it (llama.cpp's rules, see _SWA_DEFAULTS)."""
    period, default_window = _SWA_DEFAULTS.get(arch, (0, None))
    window = as_int(_arch_value(metadata, arch, "attention.sliding_window"), default_window or 0)
    pattern = _arch_value(metadata, arch, "attention.sliding_window_pattern")
    if window <= 0:
        return 0, (False,) * n_layer
    if isinstance(pattern, list) and pattern:
        flags = [bool(v) for v in pattern[:n_layer]]
        return window, tuple(flags + [False] * (n_layer - len(flags)))
    if isinstance(pattern, int) and not isinstance(pattern, bool) and pattern > 0:
        period = pattern
    if period <= 0:
        # A window the architecture's code does not apply (Qwen2, Mistral, Phi-3 carry one
        # but llama.cpp runs them with full attention): no SWA layers.
        return 0, (False,) * n_layer
    return window, tuple(il % period < period - 1 for il in range(n_layer))


def tensor_field(tensor: Any, name: str) -> Any:
    """Tensor tables may come back from JSON as dicts; accept both shapes."""
    if isinstance(tensor, Mapping):
        return tensor.get(name)
    return getattr(tensor, name, None)
