"""Where a model's weight bytes sit: the input embedding, each repeating block, the output layer.

The split between GPU and CPU follows llama.cpp's rule (`estimate.estimate_memory` applies it
to this layout): the input embedding always stays on the CPU, `n_gpu_layers` counts the output
layer first and then the repeating blocks from the last one down, and a model with tied
embeddings gets a second copy of the embedding on the GPU when the output layer is offloaded.
On the CPU, llama.cpp also makes a repacked copy of Q4_0, Q4_K and IQ4_NL matrices for faster
kernels ("CPU_REPACK"); this module says which bytes those are.

With the file's tensor table (part of the header metadata) the layout is exact; with another
quantization's table it is scaled to this file's size; without one, the layers are assumed
equal in size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.core.memory.gguf_info import (
    DATA_OFFSET_KEY,
    GGML_TYPES,
    TENSORS_KEY,
    GGUFTensorInfo,
)
from desktop.core.memory.quant import quant_from_file_type, quant_level
from desktop.core.memory.shape import ModelShape, as_int, tensor_field

MiB = 1024**2

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


@dataclass(frozen=True)
class WeightsLayout:
    """Weight bytes by place: the input embedding, each block, and the output layer.

    Attributes:
        embedding: The input embedding (``token_embd.weight``).
        layers: Each repeating block.
        output: Everything else: the output layer and the final norm.
        tied: The model has no output matrix of its own; the output layer uses the embedding.
        repack_layers: The part of each block the CPU backend repacks.
        repack_output: The part of `output` the CPU backend repacks.
        span_mapped: The file range llama.cpp maps when nothing is offloaded.
        exact: The layout comes from this file's own tensor table.
        note: How the layout was found, in words.
    """

    embedding: int
    layers: tuple[int, ...]
    output: int
    tied: bool
    repack_layers: tuple[int, ...]
    repack_output: int
    span_mapped: int
    exact: bool
    note: str


def weights_layout(
    metadata: Mapping[str, Any], shape: ModelShape, file_size: int, cpu_repack: bool
) -> WeightsLayout:
    """The weight bytes of a file of `file_size` bytes, by place.

    Args:
        metadata: Header metadata; its tensor table, when present, gives the exact layout.
        shape: The model's shape (`shape.model_shape`).
        file_size: Bytes of the model file (all parts of a split file together).
        cpu_repack: Count the CPU backend's repacked copies.
    """
    tensors = metadata.get(TENSORS_KEY)
    data_offset = as_int(metadata.get(DATA_OFFSET_KEY))
    split = as_int(metadata.get("split.count"), 1)
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
) -> WeightsLayout | None:
    sizes = [tensor_field(t, "n_bytes") for t in tensors]
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
        name = str(tensor_field(tensor, "name"))
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
            (as_int(tensor_field(t, "offset")), int(size), _is_repacked(t, cpu_repack))
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
    return WeightsLayout(
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
    dims: Sequence[int] = tensor_field(tensor, "shape") or ()
    return (
        cpu_repack
        and tensor_field(tensor, "name") != "token_embd.weight"
        and tensor_field(tensor, "ggml_type") in _REPACK_TYPES
        and len(dims) >= 2
        and dims[1] % _REPACK_ROWS == 0
    )


def _block_index(name: str) -> int | None:
    parts = name.split(".", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None


def _repack_share(shape: ModelShape) -> float:
    name = quant_from_file_type(shape.file_type) if shape.file_type is not None else None
    return _REPACK_SHARE.get(name or "", 0.0)


def _layout_from_shape(shape: ModelShape, weights_total: int, cpu_repack: bool) -> WeightsLayout:
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
    return WeightsLayout(
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
