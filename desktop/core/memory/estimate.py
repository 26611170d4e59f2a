"""Memory a GGUF model needs at a context length, by part and device.

Everything here works from header metadata (`gguf_info.read_gguf_metadata*`), so the estimate
is available before a download starts: the hub reads a remote file's header with range
requests and hands the same dictionary in. `fit` judges the estimate against this machine.

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
  while `llama_buffers` adds the buffers up as llama.cpp's log reports them. Where the bytes
  sit is `weights.weights_layout`.
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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from desktop.core.errors import InvalidRequest
from desktop.core.memory.shape import ModelShape, model_shape
from desktop.core.memory.weights import WeightsLayout, weights_layout

__all__ = [
    "CPU_PROCESS_OVERHEAD",
    "ENGINE_SWA_FULL",
    "GPU_BACKEND_OVERHEAD",
    "KV_TYPES",
    "MemoryEstimate",
    "estimate_memory",
]

MiB = 1024**2

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


def _pad(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _row_bytes(kv_type: str, n: int) -> int:
    block, size = KV_TYPES[kv_type]
    return -(-n // block) * size


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
    kv_type = _kv_type(kv_type)
    shape = model_shape(metadata)
    assumptions: list[str] = []
    n_ctx, n_batch, n_ubatch = _context(shape, n_ctx, n_batch, n_ubatch, assumptions)
    flash_attn = _flash_attention(kv_type, flash_attn, assumptions)
    layout = weights_layout(metadata, shape, file_size, cpu_repack)
    assumptions.append(layout.note)
    offload = _offload(shape.n_layer, n_gpu_layers, assumptions)
    weights = _place_weights(layout, offload, assumptions)
    swa_cells, cells = _cache_cells(shape, n_ctx, n_ubatch, swa_full)
    kv_cpu, kv_gpu = _kv_cache(shape, kv_type, cells, swa_cells, swa_full, offload, assumptions)
    assumptions.extend(_uncounted_state(metadata, shape))
    if embedding is None:
        embedding = shape.pooled
    # A causal language model computes logits for every token; a pooled encoder does not.
    logits = shape.causal and not shape.pooled
    compute_cpu, compute_gpu = _compute_buffers(shape, n_ubatch, cells, offload, flash_attn, logits)
    output = _output_buffer(shape, n_batch, embedding, assumptions)
    overhead_gpu = _gpu_overhead(gpu_backend, offload, assumptions)
    assumptions.append(f"{CPU_PROCESS_OVERHEAD // MiB} MiB for the worker process itself")
    return MemoryEstimate(
        n_ctx=n_ctx,
        n_ubatch=n_ubatch,
        n_gpu_layers=offload.layers,
        n_layer=shape.n_layer,
        kv_type=kv_type,
        flash_attn=flash_attn,
        weights_cpu=weights.cpu,
        weights_gpu=weights.gpu,
        mapped_cpu=weights.mapped,
        repack_cpu=weights.repack,
        kv_cpu=kv_cpu,
        kv_gpu=kv_gpu,
        compute_cpu=compute_cpu,
        compute_gpu=compute_gpu,
        output=output,
        overhead_cpu=CPU_PROCESS_OVERHEAD,
        overhead_gpu=overhead_gpu,
        assumptions=tuple(assumptions),
    )


# -- The steps of estimate_memory, in the order it takes them ----------------------------------
#
# A step that assumes something appends it, in words, to `assumptions`.


def _kv_type(kv_type: str) -> str:
    """The KV cache type in llama.cpp's spelling (lower case).

    Raises:
        InvalidRequest: It is not one of `KV_TYPES`.
    """
    kv_type = kv_type.lower()
    if kv_type not in KV_TYPES:
        raise InvalidRequest(
            f"Unknown KV cache type {kv_type!r}; use one of {', '.join(KV_TYPES)}."
        )
    return kv_type


def _context(
    shape: ModelShape, n_ctx: int | None, n_batch: int, n_ubatch: int, assumptions: list[str]
) -> tuple[int, int, int]:
    """The cells llama.cpp gives the context, and the batch sizes it runs with.

    Returns:
        (n_ctx, n_batch, n_ubatch): the context rounded up to llama.cpp's padding (the model's
        training context when none is asked for, as llama.cpp does with n_ctx=0), and the
        batches capped the way llama-cpp-python caps them.
    """
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
    return n_ctx, n_batch, n_ubatch


def _flash_attention(kv_type: str, flash_attn: bool, assumptions: list[str]) -> bool:
    """Whether flash attention is on: as asked, but always for a quantized V cache.

    llama.cpp refuses a quantized V cache without flash attention, and flash attention
    changes the compute buffers (no K*Q scores, half-float masks).
    """
    if kv_type not in ("f16", "f32", "bf16") and not flash_attn:
        assumptions.append("flash attention on: llama.cpp needs it for a quantized V cache")
        return True
    assumptions.append(
        "flash attention " + ("on" if flash_attn else "off (llama-cpp-python's default)")
    )
    return flash_attn


@dataclass(frozen=True)
class _Offload:
    """What llama.cpp puts on the GPU for one n_gpu_layers.

    Attributes:
        layers: n_gpu_layers as llama.cpp applies it, 0 to n_layer + 1 (the output layer
            counts as one).
        output_on_gpu: The output layer is offloaded.
        on_gpu: For each repeating block, whether it is offloaded.
    """

    layers: int
    output_on_gpu: bool
    on_gpu: tuple[bool, ...]


def _offload(n_layer: int, n_gpu_layers: int, assumptions: list[str]) -> _Offload:
    """Which layers go to the GPU, by llama.cpp's rule.

    The output layer goes first, then the repeating blocks from the last one down; -1 or more
    than the layers means all of them.
    """
    all_layers = n_layer + 1
    offload = all_layers if n_gpu_layers < 0 else min(n_gpu_layers, all_layers)
    first_gpu_block = n_layer - max(offload - 1, 0)
    if offload == 0:
        assumptions.append("all layers on the CPU")
    elif offload == all_layers:
        assumptions.append(f"all {n_layer} layers and the output layer offloaded to the GPU")
    else:
        assumptions.append(
            f"{offload - 1} of {n_layer} layers and the output layer offloaded to the GPU"
        )
    return _Offload(
        layers=offload,
        output_on_gpu=offload >= 1,
        on_gpu=tuple(il >= first_gpu_block for il in range(n_layer)),
    )


class _PlacedWeights(NamedTuple):
    """Weight bytes by device (the `MemoryEstimate` fields of the same names)."""

    cpu: int
    gpu: int
    mapped: int
    repack: int


def _place_weights(
    layout: WeightsLayout, offload: _Offload, assumptions: list[str]
) -> _PlacedWeights:
    """The weights the CPU keeps, the GPU holds, llama.cpp maps, and the CPU repacks.

    A matrix the CPU backend repacks counts once, as its repacked copy: the mapped original is
    read once while loading and then is reclaimable page cache. With tied embeddings, the GPU
    gets its own copy of the embedding for the output matmul.
    """
    on_gpu = offload.on_gpu
    gpu_blocks = sum(size for size, gpu in zip(layout.layers, on_gpu, strict=True) if gpu)
    repack = sum(size for size, gpu in zip(layout.repack_layers, on_gpu, strict=True) if not gpu)
    if not offload.output_on_gpu:
        repack += layout.repack_output
    cpu_blocks = sum(layout.layers) - gpu_blocks
    weights_cpu = layout.embedding + cpu_blocks + (0 if offload.output_on_gpu else layout.output)
    mapped_cpu = layout.span_mapped if offload.layers == 0 else weights_cpu
    weights_gpu = 0
    if offload.layers:
        # Tied embeddings: llama.cpp gives the GPU its own copy for the output matmul.
        weights_gpu = gpu_blocks + layout.output + (layout.embedding if layout.tied else 0)
    if repack:
        assumptions.append(
            "CPU layers keep a repacked copy of Q4_0/Q4_K/IQ4_NL matrices (counted once: "
            "the mapped originals become reclaimable cache)"
        )
    return _PlacedWeights(weights_cpu, weights_gpu, mapped_cpu, repack)


def _cache_cells(
    shape: ModelShape, n_ctx: int, n_ubatch: int, swa_full: bool
) -> tuple[int, tuple[int, ...]]:
    """Cells of the sliding-window caches, and of each layer's cache.

    A sliding-window layer's cache holds the window plus one batch, padded like the context
    (llama.cpp's default), or the whole context with `swa_full`; every other layer's holds the
    whole context.
    """
    swa_cells = n_ctx
    if shape.uses_swa and not swa_full:
        swa_cells = min(n_ctx, _pad(shape.n_swa + n_ubatch, _CTX_PAD))
    return swa_cells, tuple(swa_cells if swa else n_ctx for swa in shape.swa_layers)


def _kv_cache(
    shape: ModelShape,
    kv_type: str,
    cells: tuple[int, ...],
    swa_cells: int,
    swa_full: bool,
    offload: _Offload,
    assumptions: list[str],
) -> tuple[int, int]:
    """The KV cache on the CPU and on the GPU, in bytes.

    Per layer: cells x (K row + V row), rows sized by the cache type; a layer lives on the
    device its block runs on. Layers without KV heads, and encoder models, have none.
    """
    kv_cpu = kv_gpu = 0
    if not shape.has_kv_cache:
        assumptions.append("no KV cache (an encoder model)")
        return kv_cpu, kv_gpu
    for il in range(shape.n_layer):
        if not shape.n_head_kv[il]:
            continue
        k_row = _row_bytes(kv_type, shape.head_dim_k[il] * shape.n_head_kv[il])
        v_row = _row_bytes(kv_type, shape.head_dim_v[il] * shape.n_head_kv[il])
        size = cells[il] * (k_row + v_row)
        if offload.on_gpu[il]:
            kv_gpu += size
        else:
            kv_cpu += size
    assumptions.append(f"KV cache {kv_type} for K and V")
    if shape.uses_swa:
        assumptions.append(
            f"{sum(shape.swa_layers)} of {shape.n_layer} layers use a {shape.n_swa}-token "
            f"sliding window; their cache holds {swa_cells} cells"
            + (" (swa_full)" if swa_full else "")
        )
    return kv_cpu, kv_gpu


def _uncounted_state(metadata: Mapping[str, Any], shape: ModelShape) -> list[str]:
    """What the estimate leaves out for this architecture, in words (maybe nothing)."""
    arch = shape.architecture
    if any(f"{arch}.{key}" in metadata for key in ("ssm.state_size", "wkv.head_size")):
        # Mamba/RWKV-style layers keep a fixed-size state per sequence instead of a cache.
        return ["the recurrent layers' state (a few MiB per sequence) is not counted"]
    return []


def _compute_buffers(
    shape: ModelShape,
    n_ubatch: int,
    cells: tuple[int, ...],
    offload: _Offload,
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

    cpu_layers = [il for il in range(shape.n_layer) if not offload.on_gpu[il]]
    gpu_layers = [il for il in range(shape.n_layer) if offload.on_gpu[il]]
    if offload.layers == 0:
        return peak(cpu_layers, with_output=True), 0
    gpu = peak(gpu_layers, with_output=offload.output_on_gpu)
    # The CPU keeps a small host buffer for the inputs even when every layer is offloaded.
    cpu = max(peak(cpu_layers, with_output=not offload.output_on_gpu), unit * 2 * shape.n_embd)
    return cpu, gpu


def _output_buffer(shape: ModelShape, n_batch: int, embedding: bool, assumptions: list[str]) -> int:
    """llama.cpp's output buffer, in bytes.

    One row of logits per sequence, and one embedding per sequence in embedding mode
    (llama-cpp-python then runs up to 256 sequences at once).
    """
    n_seq = min(n_batch, _MAX_PARALLEL_SEQUENCES) if embedding else 1
    if embedding:
        assumptions.append(f"embedding mode, up to {n_seq} sequences per batch")
    return n_seq * (shape.n_vocab + (shape.n_embd if embedding else 0)) * 4


def _gpu_overhead(gpu_backend: str | None, offload: _Offload, assumptions: list[str]) -> int:
    """The GPU backend's own context beyond its buffers (0 when nothing is offloaded)."""
    if not offload.layers:
        return 0
    backend = gpu_backend or "GPU"
    overhead = GPU_BACKEND_OVERHEAD.get(backend, _DEFAULT_GPU_OVERHEAD)
    assumptions.append(f"{overhead // MiB} MiB for the {backend} backend's own context")
    return overhead
