"""Memory a GGUF model needs at a context length, and whether this machine has it.

Everything here works from header metadata (`gguf_info.read_gguf_metadata*`), so the estimate
is available before a download starts: the hub reads a remote file's header with range
requests and hands the same dictionary in.

What llama.cpp allocates, and how this module sizes each part (checked against llama.cpp's own
log by tests/unit/test_fit.py; the numbers below are the llama.cpp that llama-cpp-python
0.3.36 bundles):

* Weights: the tensor data of the file. With the tensor table (part of the metadata) the split
  between GPU and CPU follows llama.cpp's rule: the input embedding always stays on the CPU,
  `n_gpu_layers` counts the output layer first and then the repeating blocks from the last one
  down, and a model with tied embeddings gets a second copy of the embedding on the GPU when
  the output layer is offloaded. On the CPU, llama.cpp also makes a repacked copy of Q4_0,
  Q4_K and IQ4_NL matrices for faster kernels ("CPU_REPACK"); the mapped originals are read
  once and become reclaimable page cache, so the memory needed counts those matrices once,
  while `llama_buffers` adds the buffers up as llama.cpp's log reports them.
* KV cache: per layer, cells x (K row + V row), rows sized by the cache type (f16 by default;
  q8_0 and q4_0 are 34 and 18 bytes per 32 values). Layers without KV heads have none.
  Sliding-window layers (Gemma 2/3, Cohere 2, gpt-oss, ...) have their own cache of n_swa +
  n_ubatch cells (padded to 256) with `swa_full=False` (llama.cpp's default and XinDesk's chat
  engine's), or n_ctx cells with `swa_full=True` (llama-cpp-python's `Llama` default).
  Encoders (BERT-style embedding and rerank models) have no KV cache.
* Compute buffer: the largest of three moments of one n_ubatch-token batch: attention (the
  K*Q scores, n_head x n_kv x n_ubatch floats, unless flash attention is on, plus the masks
  and activations), the feed-forward block, and the output logits (llama.cpp reserves logits
  for every token of a batch: n_vocab x n_ubatch floats, which dominates for big vocabularies).
* Output buffer: logits of one token per sequence (n_vocab floats), plus one embedding per
  sequence in embedding mode (llama-cpp-python then runs up to 256 sequences per batch).
* A fixed overhead per process (Python and libraries) and per GPU backend (the CUDA/HIP
  context, which the buffers above do not include).

The CPU figures are checked against real loads; the GPU split follows llama.cpp's placement
rules but has not been measured against a GPU build's log here (GPU compute buffers and the
backend overheads are the roughest part).

Verdicts keep headroom free: max(1 GiB, 10 % of the device's total) of RAM and of GPU memory,
so the rest of the system (and the desktop's own GPU use) is not squeezed out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from desktop.core.errors import InvalidRequest
from desktop.core.memory.gguf_info import (
    ARRAY_LENGTHS_KEY,
    DATA_OFFSET_KEY,
    GGML_TYPES,
    TENSORS_KEY,
    GGUFTensorInfo,
)
from desktop.core.memory.hardware import Hardware
from desktop.core.memory.quant import DEFAULT_QUANT, quant_from_file_type, quant_level

__all__ = [
    "KV_TYPES",
    "FitResult",
    "MemoryEstimate",
    "ModelShape",
    "QuantOption",
    "Verdict",
    "check_fit",
    "estimate_memory",
    "headroom_bytes",
    "model_shape",
    "recommend",
]

log = logging.getLogger("xindesk.fit")

MiB = 1024**2
GiB = 1024**3

#: KV cache types llama.cpp accepts for `type_k`/`type_v`: (values per block, bytes per block).
KV_TYPES: dict[str, tuple[int, int]] = {
    "f32": (1, 4),
    "f16": (1, 2),
    "bf16": (1, 2),
    "q8_0": (32, 34),
    "q5_1": (32, 24),
    "q5_0": (32, 22),
    "q4_1": (32, 20),
    "q4_0": (32, 18),
    "iq4_nl": (32, 18),
}

# The chat engine's sliding-window caches hold only the window plus a batch (llama.cpp's own
# default). A full-size one costs n_ctx cells in every sliding-window layer: for Gemma 3 with
# 4,096 tokens, 72 MiB a sequence instead of 27, without decoding any faster (measured).
ENGINE_SWA_FULL = False

# Python, llama-cpp-python and the ggml libraries in a worker process (measured ~40-100 MiB).
CPU_PROCESS_OVERHEAD = 128 * MiB
# Memory a GPU backend takes beyond its buffers: the CUDA/HIP context with cuBLAS/hipBLAS
# workspaces is 300-600 MiB; Vulkan and Metal take less.
GPU_BACKEND_OVERHEAD: dict[str, int] = {
    "CUDA": 512 * MiB,
    "HIP": 512 * MiB,
    "MUSA": 512 * MiB,
    "SYCL": 512 * MiB,
    "Vulkan": 256 * MiB,
    "Metal": 128 * MiB,
}
_DEFAULT_GPU_OVERHEAD = 512 * MiB

# llama.cpp's llama_max_parallel_sequences(): llama-cpp-python's embedding mode runs
# min(n_batch, this) sequences per batch.
_MAX_PARALLEL_SEQUENCES = 256
# llama.cpp rounds n_ctx up to a multiple of 256 (a 128-token context gets 256 cells).
_CTX_PAD = 256
# ggml types the CPU backend repacks into interleaved layouts (ggml-cpu/repack.cpp) on
# x86-64 with AVX2 and on ARM64 with NEON, i.e. on every machine XinDesk ships for.
_REPACK_TYPES = frozenset({GGML_TYPES["Q4_0"], GGML_TYPES["Q4_K"], GGML_TYPES["IQ4_NL"]})
_REPACK_ROWS = 8
# Without a tensor table: share of the repeating layers' bytes in repackable types.
_REPACK_SHARE: dict[str, float] = {
    "Q4_0": 1.0,
    "IQ4_NL": 1.0,
    "Q4_K_S": 0.9,
    "Q4_K_M": 0.7,
    "Q4_K_L": 0.7,
    "Q4_K_XL": 0.6,
    "Q3_K_L": 0.15,
    "Q3_K_M": 0.15,
}

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


class Verdict(StrEnum):
    """How a model can run on a machine."""

    FITS_GPU = "fits_gpu"
    PARTIAL_OFFLOAD = "partial_offload"
    CPU_ONLY = "cpu_only"
    DOES_NOT_FIT = "does_not_fit"


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


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes one model needs at one context, by part and device.

    `*_cpu` lives in RAM, `*_gpu` in GPU memory (on Apple Silicon both are the same RAM).

    Attributes:
        weights_cpu: Weights the CPU keeps, each counted once: a matrix the CPU backend
            repacks is counted as its repacked copy.
        weights_gpu: Weights in GPU memory (with the output layer's copy of tied embeddings).
        mapped_cpu: The memory-mapped file range llama.cpp reports as its "CPU_Mapped"
            buffer; it also spans the original bytes of repacked matrices, which are read
            once while loading and then are reclaimable page cache, not memory in use.
        repack_cpu: The repacked copies ("CPU_REPACK"), part of `weights_cpu`.
        kv_cpu, kv_gpu: KV cache by device.
        compute_cpu, compute_gpu: Compute buffers by device.
        output: The host buffer for logits / embeddings of a batch's outputs.
        overhead_cpu, overhead_gpu: The worker process and the GPU backend's context, which
            llama.cpp's buffers do not include.
        assumptions: Everything the estimate assumed, in words.
    """

    n_ctx: int
    n_ubatch: int
    n_gpu_layers: int
    n_layer: int
    kv_type: str
    flash_attn: bool
    weights_cpu: int
    weights_gpu: int
    mapped_cpu: int
    repack_cpu: int
    kv_cpu: int
    kv_gpu: int
    compute_cpu: int
    compute_gpu: int
    output: int
    overhead_cpu: int
    overhead_gpu: int
    assumptions: tuple[str, ...]

    @property
    def weights(self) -> int:
        """Memory the weights take, RAM and GPU together."""
        return self.weights_cpu + self.weights_gpu

    @property
    def kv_cache(self) -> int:
        return self.kv_cpu + self.kv_gpu

    @property
    def compute(self) -> int:
        return self.compute_cpu + self.compute_gpu

    @property
    def reported_weights(self) -> int:
        """The model buffers as llama.cpp's log lists them (mapped + repacked + GPU)."""
        return self.mapped_cpu + self.repack_cpu + self.weights_gpu

    @property
    def llama_buffers(self) -> int:
        """Everything llama.cpp reports allocating: what its log's buffer lines add up to."""
        return self.reported_weights + self.kv_cache + self.compute + self.output

    @property
    def cpu_total(self) -> int:
        """RAM needed, overhead included."""
        return self.weights_cpu + self.kv_cpu + self.compute_cpu + self.output + self.overhead_cpu

    @property
    def gpu_total(self) -> int:
        """GPU memory needed, the backend's context included (0 when nothing is offloaded)."""
        if self.weights_gpu + self.kv_gpu + self.compute_gpu == 0:
            return 0
        return self.weights_gpu + self.kv_gpu + self.compute_gpu + self.overhead_gpu

    @property
    def total(self) -> int:
        return self.cpu_total + self.gpu_total


@dataclass(frozen=True)
class FitResult:
    """Whether (and how) a model runs on a machine, with the numbers behind the answer.

    Attributes:
        verdict: fits_gpu, partial_offload, cpu_only or does_not_fit.
        n_gpu_layers: The offload the verdict is for (llama.cpp's n_gpu_layers).
        estimate: The memory estimate for that offload.
        ram_needed / ram_budget: Bytes of RAM needed, and available after headroom.
        vram_needed / vram_budget: The same for GPU memory (0 / None without a GPU).
        message: One sentence for a person.
        assumptions: Everything the estimate and the verdict assumed, in words.
    """

    verdict: Verdict
    n_gpu_layers: int
    estimate: MemoryEstimate
    ram_needed: int
    ram_budget: int
    vram_needed: int
    vram_budget: int | None
    message: str
    assumptions: tuple[str, ...]


class QuantOption(NamedTuple):
    """One quantization on offer for a model: its level name and total download size."""

    name: str
    size_bytes: int


def headroom_bytes(total: int) -> int:
    """Memory to keep free on a device of `total` bytes: max(1 GiB, 10 %)."""
    return max(GiB, total // 10)


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


def _int(value: Any, default: int = 0) -> int:
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
    n_layer = _int(_arch_value(metadata, arch, "block_count"))
    if not arch or n_layer <= 0:
        raise InvalidRequest(
            "The GGUF metadata does not say the model's architecture and layer count "
            "(general.architecture, <arch>.block_count); its memory cannot be estimated."
        )
    n_embd = _int(_arch_value(metadata, arch, "embedding_length"))
    n_head = _per_layer(_arch_value(metadata, arch, "attention.head_count"), n_layer, 0)
    kv_raw = _arch_value(metadata, arch, "attention.head_count_kv")
    n_head_kv = _per_layer(kv_raw, n_layer, 0) if kv_raw is not None else n_head
    first_head = next((h for h in n_head if h), 0)
    default_dim = n_embd // first_head if first_head else 0
    key_length = _int(_arch_value(metadata, arch, "attention.key_length"), default_dim)
    value_length = _int(_arch_value(metadata, arch, "attention.value_length"), key_length)

    # MLA (DeepSeek 2/3, Kimi): the cache holds the compressed latent plus the rope part,
    # once per token, not per head.
    kv_lora = _int(_arch_value(metadata, arch, "attention.kv_lora_rank"))
    if kv_lora:
        rope = _int(_arch_value(metadata, arch, "rope.dimension_count"), 64)
        n_head_kv = (1,) * n_layer
        key_length, value_length = kv_lora + rope, kv_lora

    n_swa, swa_layers = _sliding_window(metadata, arch, n_layer)
    key_swa = _int(_arch_value(metadata, arch, "attention.key_length_swa"), key_length)
    value_swa = _int(_arch_value(metadata, arch, "attention.value_length_swa"), value_length)
    head_dim_k = tuple(key_swa if swa else key_length for swa in swa_layers)
    head_dim_v = tuple(value_swa if swa else value_length for swa in swa_layers)

    n_ff = _int(_arch_value(metadata, arch, "feed_forward_length"))
    n_expert_used = _int(_arch_value(metadata, arch, "expert_used_count"))
    n_ff_exp = _int(_arch_value(metadata, arch, "expert_feed_forward_length"))
    if n_expert_used and n_ff_exp:
        n_shared = _int(_arch_value(metadata, arch, "expert_shared_count"))
        n_ff_shexp = _int(
            _arch_value(metadata, arch, "expert_shared_feed_forward_length"), n_ff_exp
        )
        n_ff = max(n_ff, n_ff_exp * n_expert_used + n_shared * n_ff_shexp)

    lengths = metadata.get(ARRAY_LENGTHS_KEY)
    n_vocab = _int(_arch_value(metadata, arch, "vocab_size"))
    if not n_vocab and isinstance(lengths, Mapping):
        n_vocab = _int(lengths.get("tokenizer.ggml.tokens"))

    causal_value = _arch_value(metadata, arch, "attention.causal")
    causal = bool(causal_value) if causal_value is not None else arch not in _ENCODERS
    pooling = _int(_arch_value(metadata, arch, "pooling_type"), -1)
    file_type = metadata.get("general.file_type")
    context = _arch_value(metadata, arch, "context_length")
    tensors = metadata.get(TENSORS_KEY)
    if isinstance(tensors, Sequence) and tensors:
        gated = any(".ffn_gate" in str(_tensor_field(t, "name")) for t in tensors)
    else:
        gated = arch not in _ENCODERS
    return ModelShape(
        architecture=arch,
        n_layer=n_layer,
        n_embd=n_embd,
        n_vocab=n_vocab,
        n_ctx_train=_int(context) or None,
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
    window = _int(_arch_value(metadata, arch, "attention.sliding_window"), default_window or 0)
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


def _pad(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _row_bytes(kv_type: str, n: int) -> int:
    block, size = KV_TYPES[kv_type]
    return -(-n // block) * size


@dataclass(frozen=True)
class _Layout:
    """Weight bytes by place: the input embedding, each block, and the output layer."""

    embedding: int
    layers: tuple[int, ...]
    output: int
    tied: bool
    repack_layers: tuple[int, ...]
    repack_output: int
    span_mapped: int
    exact: bool
    note: str


def _tensor_field(tensor: Any, name: str) -> Any:
    """Tensor tables may come back from JSON as dicts; accept both shapes."""
    if isinstance(tensor, Mapping):
        return tensor.get(name)
    return getattr(tensor, name, None)


def _weights_layout(
    metadata: Mapping[str, Any], shape: ModelShape, file_size: int, cpu_repack: bool
) -> _Layout:
    tensors = metadata.get(TENSORS_KEY)
    data_offset = _int(metadata.get(DATA_OFFSET_KEY))
    split = _int(metadata.get("split.count"), 1)
    weights_total = max(file_size - data_offset, 0)
    if isinstance(tensors, Sequence) and tensors and split <= 1:
        layout = _layout_from_tensors(tensors, shape, weights_total, cpu_repack)
        if layout is not None:
            return layout
    return _layout_from_shape(shape, weights_total, cpu_repack)


def _layout_from_tensors(
    tensors: Sequence[GGUFTensorInfo | Mapping[str, Any]],
    shape: ModelShape,
    weights_total: int,
    cpu_repack: bool,
) -> _Layout | None:
    sizes = [_tensor_field(t, "n_bytes") for t in tensors]
    if any(not isinstance(size, int) for size in sizes):
        return None
    table_total = sum(int(size) for size in sizes)
    if table_total <= 0:
        return None
    # The table may describe another quantization of the same model (an estimate for each
    # choice from one header): scale it to this file's size, keeping the proportions.
    exact = abs(table_total - weights_total) <= max(MiB, weights_total // 100)
    scale = 1.0 if exact else weights_total / table_total

    embedding = output = 0
    tied = True
    layers = [0] * shape.n_layer
    repack_layers = [0] * shape.n_layer
    repack_output = 0
    for tensor, size in zip(tensors, sizes, strict=True):
        name = str(_tensor_field(tensor, "name"))
        n_bytes = round(int(size) * scale)
        repackable = exact and _is_repacked(tensor, cpu_repack)
        if name.startswith("blk."):
            index = _block_index(name)
            if index is not None and index < shape.n_layer:
                layers[index] += n_bytes
                repack_layers[index] += n_bytes if repackable else 0
                continue
        if name == "token_embd.weight":
            embedding += n_bytes
        else:
            output += n_bytes
            if name.startswith("output.weight"):
                tied = False
            repack_output += n_bytes if repackable else 0

    span_mapped = weights_total
    if exact:
        # llama.cpp maps one range of the file: from the first to the last tensor that stays
        # in the mapped buffer. Repacked tensors move to their own buffer.
        extents = [
            (_int(_tensor_field(t, "offset")), int(size), _is_repacked(t, cpu_repack))
            for t, size in zip(tensors, sizes, strict=True)
        ]
        kept = [(o, n) for o, n, repacked in extents if not repacked]
        span_mapped = max(o + n for o, n in kept) - min(o for o, _n in kept) if kept else 0
    if not exact and cpu_repack:
        share = _repack_share(shape)
        repack_layers = [round(size * share) for size in layers]
    note = (
        "weights split by the file's tensor table"
        if exact
        else "weights split by another quantization's tensor table, scaled to this file's size"
    )
    return _Layout(
        embedding=embedding,
        layers=tuple(layers),
        output=output,
        tied=tied,
        repack_layers=tuple(repack_layers),
        repack_output=repack_output,
        span_mapped=span_mapped,
        exact=exact,
        note=note,
    )


def _is_repacked(tensor: GGUFTensorInfo | Mapping[str, Any], cpu_repack: bool) -> bool:
    """Whether the CPU backend moves this matrix into its repacked buffer.

    ggml-cpu repacks matrix weights of these types with a row count divisible by the
    interleave (8); the input embedding is read with GET_ROWS, which repacked data cannot
    serve, so it stays.
    """
    dims: Sequence[int] = _tensor_field(tensor, "shape") or ()
    return (
        cpu_repack
        and _tensor_field(tensor, "name") != "token_embd.weight"
        and _tensor_field(tensor, "ggml_type") in _REPACK_TYPES
        and len(dims) >= 2
        and dims[1] % _REPACK_ROWS == 0
    )


def _block_index(name: str) -> int | None:
    parts = name.split(".", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None


def _repack_share(shape: ModelShape) -> float:
    name = quant_from_file_type(shape.file_type) if shape.file_type is not None else None
    return _REPACK_SHARE.get(name or "", 0.0)


def _layout_from_shape(shape: ModelShape, weights_total: int, cpu_repack: bool) -> _Layout:
    """Weights by place without a tensor table: embedding and output from their shapes."""
    name = quant_from_file_type(shape.file_type) if shape.file_type is not None else None
    level = quant_level(name) if name else None
    bits = level.bits_per_weight if level else 16.0
    embedding = min(shape.n_vocab * shape.n_embd * bits / 8, weights_total / 4)
    # Assume a separate output matrix (most models above 3B have one); tied embeddings
    # only make this estimate a little high.
    output = embedding
    per_layer = max(weights_total - embedding - output, 0) / shape.n_layer
    layers = tuple(round(per_layer) for _ in range(shape.n_layer))
    share = _repack_share(shape) if cpu_repack else 0.0
    return _Layout(
        embedding=round(embedding),
        layers=layers,
        output=round(output),
        tied=False,
        repack_layers=tuple(round(size * share) for size in layers),
        repack_output=0,
        span_mapped=weights_total,
        exact=False,
        note="no tensor table: layers assumed equal in size, embedding sized from its shape",
    )


def estimate_memory(
    metadata: Mapping[str, Any],
    *,
    file_size: int,
    n_ctx: int | None = None,
    n_gpu_layers: int = 0,
    kv_type: str = "f16",
    flash_attn: bool = False,
    n_ubatch: int = 512,
    n_batch: int = 512,
    swa_full: bool = ENGINE_SWA_FULL,
    cpu_repack: bool = True,
    gpu_backend: str | None = None,
    embedding: bool | None = None,
) -> MemoryEstimate:
    """Memory to run a GGUF model, by part and device.

    Args:
        metadata: Header metadata as `read_gguf_metadata` / `read_gguf_metadata_from` return.
        file_size: Bytes of the model file (all parts of a split file together).
        n_ctx: Context length in tokens; None means the model's training context (what
            llama.cpp does with n_ctx=0).
        n_gpu_layers: llama.cpp's n_gpu_layers; -1 or more than the layers means all.
        kv_type: KV cache type for K and V, one of `KV_TYPES` ("f16", "q8_0", "q4_0", ...).
        flash_attn: Flash attention on (llama-cpp-python's default is off).
        n_ubatch, n_batch: Batch sizes (llama-cpp-python's defaults: 512).
        swa_full: True keeps a full-size sliding-window cache (llama-cpp-python's `Llama`
            default); XinDesk's chat engine keeps only the window (`ENGINE_SWA_FULL`).
        cpu_repack: Count the CPU backend's repacked weight copies.
        gpu_backend: "CUDA", "HIP", "Metal", "Vulkan", ... for the GPU overhead figure.
        embedding: llama-cpp-python's `embedding=True`; None means "if the model pools"
            (embedding and rerank models).

    Raises:
        InvalidRequest: Unknown KV cache type, or metadata without a model shape.
    """
    kv_type = kv_type.lower()
    if kv_type not in KV_TYPES:
        raise InvalidRequest(
            f"Unknown KV cache type {kv_type!r}; use one of {', '.join(KV_TYPES)}."
        )
    shape = model_shape(metadata)
    assumptions: list[str] = []

    if n_ctx is None or n_ctx <= 0:
        n_ctx = shape.n_ctx_train or 4096
        assumptions.append(f"context length: the model's own, {n_ctx} tokens")
    requested_ctx = n_ctx
    if shape.n_ctx_train and n_ctx > shape.n_ctx_train:
        assumptions.append(
            f"the context is longer than the model was trained for ({shape.n_ctx_train})"
        )
    n_ctx = _pad(n_ctx, _CTX_PAD)
    # llama-cpp-python caps the batch at the context length.
    n_batch = min(n_batch, requested_ctx)
    n_ubatch = min(n_ubatch, n_batch)
    assumptions.append(
        f"context {requested_ctx} tokens"
        + (f" (llama.cpp rounds it up to {n_ctx} cells)" if n_ctx != requested_ctx else "")
        + f", one sequence, batches of {n_ubatch} tokens"
    )
    if kv_type not in ("f16", "f32", "bf16") and not flash_attn:
        flash_attn = True
        assumptions.append("flash attention on: llama.cpp needs it for a quantized V cache")
    else:
        assumptions.append(
            "flash attention " + ("on" if flash_attn else "off (llama-cpp-python's default)")
        )

    layout = _weights_layout(metadata, shape, file_size, cpu_repack)
    assumptions.append(layout.note)

    n_layer = shape.n_layer
    all_layers = n_layer + 1
    offload = all_layers if n_gpu_layers < 0 else min(n_gpu_layers, all_layers)
    # llama.cpp: the output layer goes first, then blocks from the last one down.
    output_on_gpu = offload >= 1
    first_gpu_block = n_layer - max(offload - 1, 0)
    on_gpu = tuple(il >= first_gpu_block for il in range(n_layer))
    if offload == 0:
        assumptions.append("all layers on the CPU")
    elif offload == all_layers:
        assumptions.append(f"all {n_layer} layers and the output layer offloaded to the GPU")
    else:
        assumptions.append(
            f"{offload - 1} of {n_layer} layers and the output layer offloaded to the GPU"
        )

    # --- weights
    gpu_blocks = sum(size for size, gpu in zip(layout.layers, on_gpu, strict=True) if gpu)
    repack = sum(size for size, gpu in zip(layout.repack_layers, on_gpu, strict=True) if not gpu)
    if not output_on_gpu:
        repack += layout.repack_output
    cpu_blocks = sum(layout.layers) - gpu_blocks
    weights_cpu = layout.embedding + cpu_blocks + (0 if output_on_gpu else layout.output)
    mapped_cpu = layout.span_mapped if offload == 0 else weights_cpu
    weights_gpu = 0
    if offload:
        # Tied embeddings: llama.cpp gives the GPU its own copy for the output matmul.
        weights_gpu = gpu_blocks + layout.output + (layout.embedding if layout.tied else 0)
    if repack:
        assumptions.append(
            "CPU layers keep a repacked copy of Q4_0/Q4_K/IQ4_NL matrices (counted once: "
            "the mapped originals become reclaimable cache)"
        )

    # --- KV cache
    kv_cpu = kv_gpu = 0
    swa_cells = n_ctx
    if shape.uses_swa and not swa_full:
        swa_cells = min(n_ctx, _pad(shape.n_swa + n_ubatch, _CTX_PAD))
    cells = tuple(swa_cells if swa else n_ctx for swa in shape.swa_layers)
    if shape.has_kv_cache:
        for il in range(n_layer):
            if not shape.n_head_kv[il]:
                continue
            k_row = _row_bytes(kv_type, shape.head_dim_k[il] * shape.n_head_kv[il])
            v_row = _row_bytes(kv_type, shape.head_dim_v[il] * shape.n_head_kv[il])
            size = cells[il] * (k_row + v_row)
            if on_gpu[il]:
                kv_gpu += size
            else:
                kv_cpu += size
        assumptions.append(f"KV cache {kv_type} for K and V")
        if shape.uses_swa:
            assumptions.append(
                f"{sum(shape.swa_layers)} of {n_layer} layers use a {shape.n_swa}-token "
                f"sliding window; their cache holds {swa_cells} cells"
                + (" (swa_full)" if swa_full else "")
            )
    else:
        assumptions.append("no KV cache (an encoder model)")
    arch = shape.architecture
    if any(f"{arch}.{key}" in metadata for key in ("ssm.state_size", "wkv.head_size")):
        # Mamba/RWKV-style layers keep a fixed-size state per sequence instead of a cache.
        assumptions.append("the recurrent layers' state (a few MiB per sequence) is not counted")

    # --- compute buffers and the output buffer
    if embedding is None:
        embedding = shape.pooled
    n_seq = min(n_batch, _MAX_PARALLEL_SEQUENCES) if embedding else 1
    # A causal language model computes logits for every token; a pooled encoder does not.
    logits = shape.causal and not shape.pooled
    compute_cpu, compute_gpu = _compute_buffers(
        shape, n_ubatch, cells, on_gpu, output_on_gpu, offload, flash_attn, logits
    )
    # llama.cpp's output buffer: one row of logits per sequence, and one embedding per
    # sequence in embedding mode (llama-cpp-python then runs up to 256 sequences at once).
    output = n_seq * (shape.n_vocab + (shape.n_embd if embedding else 0)) * 4
    if embedding:
        assumptions.append(f"embedding mode, up to {n_seq} sequences per batch")

    backend = gpu_backend or "GPU"
    overhead_gpu = GPU_BACKEND_OVERHEAD.get(backend, _DEFAULT_GPU_OVERHEAD) if offload else 0
    if offload:
        assumptions.append(f"{overhead_gpu // MiB} MiB for the {backend} backend's own context")
    assumptions.append(f"{CPU_PROCESS_OVERHEAD // MiB} MiB for the worker process itself")
    return MemoryEstimate(
        n_ctx=n_ctx,
        n_ubatch=n_ubatch,
        n_gpu_layers=offload,
        n_layer=n_layer,
        kv_type=kv_type,
        flash_attn=flash_attn,
        weights_cpu=weights_cpu,
        weights_gpu=weights_gpu,
        mapped_cpu=mapped_cpu,
        repack_cpu=repack,
        kv_cpu=kv_cpu,
        kv_gpu=kv_gpu,
        compute_cpu=compute_cpu,
        compute_gpu=compute_gpu,
        output=output,
        overhead_cpu=CPU_PROCESS_OVERHEAD,
        overhead_gpu=overhead_gpu,
        assumptions=tuple(assumptions),
    )


def _compute_buffers(
    shape: ModelShape,
    n_ubatch: int,
    cells: tuple[int, ...],
    on_gpu: tuple[bool, ...],
    output_on_gpu: bool,
    offload: int,
    flash_attn: bool,
    logits: bool,
) -> tuple[int, int]:
    """The compute buffer of the CPU and of the GPU, in bytes.

    A device's buffer is the peak of ggml's graph allocator over one worst-case batch of
    `n_ubatch` tokens: the largest of the attention, feed-forward and output moments of the
    layers it runs. In floats per token of the batch (the coefficients were fitted to what
    llama.cpp reports, over models of different widths, head counts and contexts):

    * the attention masks, one per cache (n_kv floats, half-floats with flash attention),
      are graph inputs and stay allocated until the last attention is done;
    * attention: the masks, the scores n_head x n_kv (not with flash attention), and the
      activations 3 x n_embd + Q + attention output + K + V;
    * feed-forward: the masks (when a later layer still needs them) and 4 x n_ff for a gated
      block (SwiGLU/GeGLU), 2 x n_ff for a plain one (BERT); n_ff counts active experts;
    * output: n_vocab logits for every token of the batch (llama.cpp reserves for a batch
      that wants all of them), 2 x n_embd beside.
    """
    unit = n_ubatch * 4
    n_kv_layers = cells if shape.has_kv_cache else (n_ubatch,) * shape.n_layer
    kinds = {swa for swa, kv in zip(shape.swa_layers, shape.n_head_kv, strict=True) if kv}
    mask_floats = sum(
        max(n for n, swa in zip(n_kv_layers, shape.swa_layers, strict=True) if swa == kind)
        for kind in kinds
    )
    masks = unit * (mask_floats // 2 if flash_attn else mask_floats)

    def attention(il: int) -> int:
        heads, kv_heads = shape.n_head[il], shape.n_head_kv[il]
        if not heads:
            return 0
        q = heads * shape.head_dim_k[il]
        out = heads * shape.head_dim_v[il]
        kv = kv_heads * (shape.head_dim_k[il] + shape.head_dim_v[il])
        scores = 0 if flash_attn else heads * n_kv_layers[il]
        return masks + unit * (scores + 3 * shape.n_embd + q + out + kv)

    ffn = unit * (4 if shape.gated_ffn else 2) * shape.n_ff
    if shape.n_layer > 1:
        ffn += masks
    output = unit * 2 * shape.n_embd
    if logits:
        output += shape.n_vocab * n_ubatch * 4

    def peak(layers: Iterable[int], with_output: bool) -> int:
        moments = [attention(il) for il in layers]
        if moments:
            moments.append(ffn)
        if with_output:
            moments.append(output)
        return max(moments, default=0)

    cpu_layers = [il for il in range(shape.n_layer) if not on_gpu[il]]
    gpu_layers = [il for il in range(shape.n_layer) if on_gpu[il]]
    if offload == 0:
        return peak(cpu_layers, with_output=True), 0
    gpu = peak(gpu_layers, with_output=output_on_gpu)
    # The CPU keeps a small host buffer for the inputs even when every layer is offloaded.
    cpu = max(peak(cpu_layers, with_output=not output_on_gpu), unit * 2 * shape.n_embd)
    return cpu, gpu


def _budgets(hardware: Hardware) -> tuple[int, int | None, str | None, bool]:
    """RAM budget, GPU budget (None: no usable GPU), GPU backend, unified memory."""
    ram_budget = hardware.ram_available_bytes - headroom_bytes(hardware.ram_total_bytes)
    gpu_total = hardware.gpu_total_bytes
    gpu_free = hardware.gpu_free_bytes
    if not hardware.gpu_offload or not hardware.gpus or gpu_total is None or gpu_free is None:
        return ram_budget, None, None, False
    return (
        ram_budget,
        gpu_free - headroom_bytes(gpu_total),
        hardware.backend,
        hardware.unified_memory or all(gpu.unified_memory for gpu in hardware.gpus),
    )


def _fits(estimate: MemoryEstimate, ram_budget: int, gpu_budget: int | None, unified: bool) -> bool:
    if estimate.gpu_total and (gpu_budget is None or estimate.gpu_total > gpu_budget):
        return False
    # On unified memory the GPU's share comes out of the same RAM.
    ram_needed = estimate.cpu_total + (estimate.gpu_total if unified else 0)
    return ram_needed <= ram_budget


def check_fit(
    metadata: Mapping[str, Any],
    hardware: Hardware,
    *,
    file_size: int,
    n_ctx: int | None = None,
    n_gpu_layers: int | None = None,
    kv_type: str = "f16",
    flash_attn: bool = False,
    swa_full: bool = ENGINE_SWA_FULL,
) -> FitResult:
    """Whether a model runs on `hardware` at `n_ctx`, and with how much offload.

    With `n_gpu_layers=None` the best plan is chosen: everything on the GPU, else as many
    layers as fit (partial offload), else the CPU alone. With a number, only that plan is
    judged.
    """
    ram_budget, gpu_budget, backend, unified = _budgets(hardware)
    n_layer = model_shape(metadata).n_layer

    def plan(layers: int) -> MemoryEstimate:
        return estimate_memory(
            metadata,
            file_size=file_size,
            n_ctx=n_ctx,
            n_gpu_layers=layers,
            kv_type=kv_type,
            flash_attn=flash_attn,
            swa_full=swa_full,
            gpu_backend=backend,
        )

    notes = [
        f"keeps free max(1 GiB, 10 %) of RAM ({headroom_bytes(hardware.ram_total_bytes) // MiB}"
        " MiB)"
    ]
    if gpu_budget is None and hardware.gpu_offload and hardware.gpus:
        notes.append("GPU memory unknown: judged for the CPU only")
    gpu_total = hardware.gpu_total_bytes
    if gpu_budget is not None and gpu_total is not None:
        notes.append(
            f"keeps free max(1 GiB, 10 %) of GPU memory ({headroom_bytes(gpu_total) // MiB} MiB)"
        )

    if n_gpu_layers is not None:
        layers = n_layer + 1 if n_gpu_layers < 0 else min(n_gpu_layers, n_layer + 1)
        estimate = plan(layers if gpu_budget is not None else 0)
        if not _fits(estimate, ram_budget, gpu_budget, unified):
            verdict = Verdict.DOES_NOT_FIT
        elif estimate.n_gpu_layers == n_layer + 1:
            verdict = Verdict.FITS_GPU
        elif estimate.n_gpu_layers:
            verdict = Verdict.PARTIAL_OFFLOAD
        else:
            verdict = Verdict.CPU_ONLY
        return _result(verdict, estimate, ram_budget, gpu_budget, unified, notes)

    if gpu_budget is not None:
        full = plan(n_layer + 1)
        if _fits(full, ram_budget, gpu_budget, unified):
            return _result(Verdict.FITS_GPU, full, ram_budget, gpu_budget, unified, notes)
        # GPU memory grows with every offloaded layer (and RAM shrinks), so the most layers
        # the GPU holds are found by bisection over 1..n_layer; RAM is checked for that plan,
        # the one that needs the least of it.
        low, high, best = 1, n_layer, None
        while low <= high:
            middle = (low + high) // 2
            candidate = plan(middle)
            if candidate.gpu_total <= gpu_budget:
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        if (
            best is not None
            and best.n_gpu_layers > 1
            and _fits(best, ram_budget, gpu_budget, unified)
        ):
            return _result(Verdict.PARTIAL_OFFLOAD, best, ram_budget, gpu_budget, unified, notes)
    cpu = plan(0)
    if _fits(cpu, ram_budget, None, unified):
        return _result(Verdict.CPU_ONLY, cpu, ram_budget, gpu_budget, unified, notes)
    return _result(Verdict.DOES_NOT_FIT, cpu, ram_budget, gpu_budget, unified, notes)


def _result(
    verdict: Verdict,
    estimate: MemoryEstimate,
    ram_budget: int,
    gpu_budget: int | None,
    unified: bool,
    notes: list[str],
) -> FitResult:
    ram_needed = estimate.cpu_total + (estimate.gpu_total if unified else 0)
    vram_needed = estimate.gpu_total

    def gib(n: int) -> str:
        return f"{n / GiB:.1f} GiB"

    ram_text = f"{gib(ram_needed)} of RAM ({gib(max(ram_budget, 0))} usable)"
    messages = {
        Verdict.FITS_GPU: f"Runs entirely on the GPU: {gib(vram_needed)} of GPU memory"
        + (f" ({gib(max(gpu_budget or 0, 0))} usable)" if gpu_budget is not None else "")
        + f" and {gib(ram_needed)} of RAM.",
        Verdict.PARTIAL_OFFLOAD: f"Runs with {estimate.n_gpu_layers - 1} of {estimate.n_layer} "
        f"layers on the GPU ({gib(vram_needed)}) and the rest on the CPU, {ram_text}; "
        f"slower than fully on the GPU.",
        Verdict.CPU_ONLY: f"Runs on the CPU: needs {ram_text}.",
        Verdict.DOES_NOT_FIT: f"Does not fit: needs {ram_text}"
        + (f" and {gib(vram_needed)} of GPU memory" if vram_needed else "")
        + ". Choose a smaller quantization or a shorter context.",
    }
    return FitResult(
        verdict=verdict,
        n_gpu_layers=estimate.n_gpu_layers,
        estimate=estimate,
        ram_needed=ram_needed,
        ram_budget=ram_budget,
        vram_needed=vram_needed,
        vram_budget=gpu_budget,
        message=messages[verdict],
        assumptions=(*estimate.assumptions, *notes),
    )


def _rank(name: str) -> int:
    level = quant_level(name)
    return level.rank if level is not None else -1


def _nearest_default(names: Sequence[str]) -> str:
    """DEFAULT_QUANT if offered, else the offered level closest to it (the smaller on a tie)."""
    default_rank = _rank(DEFAULT_QUANT)
    for name in names:
        level = quant_level(name)
        if level is not None and level.name == DEFAULT_QUANT:
            return name
    known = [name for name in names if _rank(name) >= 0]
    if not known:
        return names[0]
    return min(known, key=lambda n: (abs(_rank(n) - default_rank), _rank(n)))


def recommend(
    choices: Iterable[tuple[str, int]],
    hardware: Hardware | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
    n_ctx: int | None = 4096,
    kv_type: str = "f16",
    flash_attn: bool = False,
) -> str:
    """The quantization to suggest among one model's choices.

    Args:
        choices: (level name, total file size in bytes) pairs, e.g. `QuantOption`s or
            `(c.quant, c.size)` of a repository's choices.
        hardware: This machine; without it the answer is DEFAULT_QUANT (or the nearest).
        metadata: The model's header (any of its quantizations); without it the KV cache and
            buffers are guessed as 15 % of the file plus 512 MiB.
        n_ctx: Context to plan for (capped at the model's own).

    The rule: where a GPU can hold a choice entirely, the best-quality such choice; else the
    best that runs at all (partially offloaded or on the CPU), but no bigger than
    DEFAULT_QUANT when part of it must run on the CPU beside a GPU, because speed falls with
    every layer left on the CPU. Levels above Q8_0 are chosen only when nothing at or below
    Q8_0 fits: they cost twice the memory for no quality a person can notice. When nothing
    fits, DEFAULT_QUANT (or the nearest offered).
    """
    options = [QuantOption(str(name), int(size)) for name, size in choices]
    if not options:
        return DEFAULT_QUANT
    names = [option.name for option in options]
    if hardware is None:
        return _nearest_default(names)

    q8_rank = _rank("Q8_0")
    default_rank = _rank(DEFAULT_QUANT)
    _ram, gpu_budget, _backend, _unified = _budgets(hardware)
    on_gpu: list[QuantOption] = []
    runs: list[QuantOption] = []
    for option in options:
        verdict = _verdict_for(option, hardware, metadata, n_ctx, kv_type, flash_attn)
        log.debug("%s (%d bytes): %s", option.name, option.size_bytes, verdict)
        if verdict is Verdict.FITS_GPU:
            on_gpu.append(option)
        if verdict is not Verdict.DOES_NOT_FIT:
            runs.append(option)

    def best(candidates: list[QuantOption], ceiling: int) -> str | None:
        if not candidates:
            return None
        capped = [c for c in candidates if _rank(c.name) <= ceiling]
        if capped:
            return max(capped, key=lambda c: (_rank(c.name), -c.size_bytes)).name
        # Only levels above the ceiling fit: the smallest of them.
        return min(candidates, key=lambda c: c.size_bytes).name

    choice = best(on_gpu, q8_rank)
    if choice is None:
        ceiling = default_rank if gpu_budget is not None else q8_rank
        choice = best(runs, ceiling)
    return choice if choice is not None else _nearest_default(names)


def _verdict_for(
    option: QuantOption,
    hardware: Hardware,
    metadata: Mapping[str, Any] | None,
    n_ctx: int | None,
    kv_type: str,
    flash_attn: bool,
) -> Verdict:
    if metadata is not None:
        shape = model_shape(metadata)
        ctx = min(n_ctx, shape.n_ctx_train) if n_ctx and shape.n_ctx_train else n_ctx
        return check_fit(
            metadata,
            hardware,
            file_size=option.size_bytes,
            n_ctx=ctx,
            kv_type=kv_type,
            flash_attn=flash_attn,
        ).verdict
    # No shape: a rough allowance for cache and buffers beside the weights.
    needed = option.size_bytes + option.size_bytes * 15 // 100 + 512 * MiB
    ram_budget, gpu_budget, _backend, unified = _budgets(hardware)
    fits_ram_too = not unified or needed + CPU_PROCESS_OVERHEAD <= ram_budget
    if gpu_budget is not None and needed <= gpu_budget and fits_ram_too:
        return Verdict.FITS_GPU
    if needed + CPU_PROCESS_OVERHEAD <= ram_budget:
        return Verdict.CPU_ONLY
    return Verdict.DOES_NOT_FIT
