"""Memory estimates against what llama.cpp really allocates, verdicts, and recommendations.

The important test here loads real GGUF models with the real llama-cpp-python (in a child
process, with llama.cpp's log captured through `llama_log_set`) and compares the estimate
with the buffer sizes llama.cpp reports. The log lines it reads look like:

    load_tensors:   CPU_Mapped model buffer size =   235.16 MiB
    load_tensors:   CPU_REPACK model buffer size =    12.66 MiB
    llama_kv_cache:        CPU KV buffer size =     6.00 MiB
    llama_context:        CPU  output buffer size =     1.00 MiB
    sched_reserve:        CPU compute buffer size =   514.50 MiB
"""

from __future__ import annotations

import io
import itertools
import json
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest

from desktop.core.errors import GGUFHeaderIncomplete, InvalidRequest, NotAGGUF
from desktop.core.memory.estimate import estimate_memory
from desktop.core.memory.fit import QuantOption, Verdict, check_fit, headroom_bytes, recommend
from desktop.core.memory.gguf_info import (
    ARRAY_LENGTHS_KEY,
    DATA_OFFSET_KEY,
    TENSORS_KEY,
    read_gguf_info,
    read_gguf_metadata,
    read_gguf_metadata_from,
)
from desktop.core.memory.gpus import GPU
from desktop.core.memory.hardware import Hardware
from desktop.core.memory.shape import model_shape

MiB = 1024**2
GiB = 1024**3

# --------------------------------------------------------------------------- tiny causal LMs


def write_tiny_llama(
    path: Path,
    *,
    n_embd: int = 128,
    n_layer: int = 4,
    n_head: int = 4,
    n_head_kv: int | list[int] = 2,
    n_ff: int = 256,
    n_ctx_train: int = 8192,
    q4_0: bool = False,
    tied: bool = False,
) -> Path:
    """A small random llama-architecture chat model that llama.cpp loads and runs.

    `n_head_kv` as a list is written as the per-layer array some architectures use (llama.cpp
    reads it for every architecture); `q4_0` quantizes the block matrices, which the CPU
    backend then repacks; `tied` leaves out output.weight (the embedding is reused).
    """
    rng = np.random.default_rng(7)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    types = [2, 3, 3] + [6] * 256
    tokens += [f"\u2581w{i}" for i in range(61)]
    types += [1] * 61
    head_dim = n_embd // n_head
    kv = n_head_kv if isinstance(n_head_kv, int) else n_head_kv[0]

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("xindesk-tiny-llama")
    writer.add_context_length(n_ctx_train)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(head_dim)
    writer.add_file_type(
        int(gguf.LlamaFileType.MOSTLY_Q4_0 if q4_0 else gguf.LlamaFileType.ALL_F32)
    )
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)

    def tensor(name: str, shape: tuple[int, ...], quantize: bool = False) -> None:
        data = (rng.standard_normal(shape) * 0.02).astype(np.float32)
        if quantize and q4_0:
            kind = gguf.GGMLQuantizationType.Q4_0
            writer.add_tensor(
                name,
                gguf.quants.quantize(data, kind),
                raw_shape=gguf.quants.quant_shape_to_byte_shape(data.shape, kind),
                raw_dtype=kind,
            )
        else:
            writer.add_tensor(name, data)

    tensor("token_embd.weight", (len(tokens), n_embd))
    tensor("output_norm.weight", (n_embd,))
    if not tied:
        tensor("output.weight", (len(tokens), n_embd))
    for il in range(n_layer):
        tensor(f"blk.{il}.attn_norm.weight", (n_embd,))
        tensor(f"blk.{il}.attn_q.weight", (n_head * head_dim, n_embd), True)
        tensor(f"blk.{il}.attn_k.weight", (kv * head_dim, n_embd), True)
        tensor(f"blk.{il}.attn_v.weight", (kv * head_dim, n_embd), True)
        tensor(f"blk.{il}.attn_output.weight", (n_embd, n_head * head_dim), True)
        tensor(f"blk.{il}.ffn_norm.weight", (n_embd,))
        tensor(f"blk.{il}.ffn_gate.weight", (n_ff, n_embd), True)
        tensor(f"blk.{il}.ffn_up.weight", (n_ff, n_embd), True)
        tensor(f"blk.{il}.ffn_down.weight", (n_embd, n_ff), True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture(scope="module")
def tiny_llamas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiny-llama")
    return {
        "gqa_f32": write_tiny_llama(folder / "tiny-gqa-f32.gguf", n_head_kv=[2, 2, 2, 2]),
        "wide_q4_0_tied": write_tiny_llama(
            folder / "tiny-wide-q4_0.gguf",
            n_embd=256,
            n_head=8,
            n_head_kv=8,
            n_ff=1024,
            q4_0=True,
            tied=True,
        ),
    }


# --------------------------------------------------------------------------- llama.cpp's log

# Runs in a child process: loads each (path, n_ctx, kwargs) job with llama.cpp's log routed to
# a ctypes callback, then restores the logger llama-cpp-python had installed.
_LOADER = r"""
import ctypes, json, sys
import llama_cpp

jobs = json.load(sys.stdin)
lines = []

@llama_cpp.llama_log_callback
def capture(level, text, user_data):
    lines.append(text.decode("utf-8", errors="replace"))

previous, previous_data = llama_cpp.llama_log_callback(), ctypes.c_void_p()
llama_cpp.llama_log_get(ctypes.byref(previous), ctypes.byref(previous_data))
logs = []
llama_cpp.llama_log_set(capture, ctypes.c_void_p(0))
try:
    for path, n_ctx, kwargs in jobs:
        lines.clear()
        model = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_gpu_layers=0, verbose=False,
                                **kwargs)
        model.close()
        del model
        logs.append("".join(lines))
finally:
    llama_cpp.llama_log_set(previous, previous_data)
json.dump(logs, sys.stdout)
"""


@dataclass(frozen=True)
class Allocated:
    """Buffer sizes from one llama.cpp log, in bytes."""

    weights: int
    kv: int
    compute: int
    output: int

    @property
    def total(self) -> int:
        return self.weights + self.kv + self.compute + self.output


def _sum_mib(pattern: str, log: str) -> int:
    return round(sum(float(v) for v in re.findall(pattern, log)) * MiB)


def parse_llama_log(log: str) -> Allocated:
    """What llama.cpp says it allocated: model, KV, compute and output buffers."""
    return Allocated(
        weights=_sum_mib(r"model buffer size =\s+([\d.]+) MiB", log),
        kv=_sum_mib(r"KV buffer size =\s+([\d.]+) MiB", log),
        compute=_sum_mib(r"compute buffer size =\s+([\d.]+) MiB", log),
        output=_sum_mib(r"output buffer size =\s+([\d.]+) MiB", log),
    )


def test_parse_llama_log_reads_every_buffer_line() -> None:
    log = """\
load_tensors:   CPU_Mapped model buffer size =   235.16 MiB
load_tensors:   CPU_REPACK model buffer size =    12.66 MiB
llama_context:        CPU  output buffer size =     1.00 MiB
llama_kv_cache:        CPU KV buffer size =     6.00 MiB
llama_kv_cache: size =    6.00 MiB (  2048 cells,   3 layers,  1/1 seqs), K (f16):    3.00 MiB
llama_kv_cache:        CPU KV buffer size =    30.00 MiB
sched_reserve:        CPU compute buffer size =   514.50 MiB
"""
    allocated = parse_llama_log(log)
    assert allocated.weights == round(247.82 * MiB)
    assert allocated.kv == 36 * MiB
    assert allocated.compute == round(514.5 * MiB)
    assert allocated.output == MiB


# (model key, n_ctx, llama-cpp-python kwargs). Contexts are capped at each model's own.
_CASES: list[tuple[str, int, dict[str, Any]]] = [
    ("gemma", 512, {}),
    ("gemma", 2048, {}),
    ("gemma", 8192, {}),
    ("gemma", 32768, {}),
    ("gemma", 8192, {"swa_full": False}),
    ("gemma", 8192, {"flash_attn": True, "type_k": 8, "type_v": 8}),
    ("gqa_f32", 512, {}),
    ("gqa_f32", 2048, {}),
    ("gqa_f32", 8192, {}),
    ("gqa_f32", 8192, {"flash_attn": True}),
    ("wide_q4_0_tied", 512, {}),
    ("wide_q4_0_tied", 4096, {"flash_attn": True, "type_k": 2, "type_v": 2}),
    ("embedding", 128, {"embedding": True}),
    ("embedding", 512, {"embedding": True}),
    ("reranker", 512, {"embedding": True}),
]
# llama.cpp's ggml type numbers for type_k / type_v.
_KV_TYPE_NAMES = {8: "q8_0", 2: "q4_0", 1: "f16"}


@pytest.fixture(scope="module")
def real_allocations(
    gemma_gguf: Path, tiny_models: dict[str, Path], tiny_llamas: dict[str, Path]
) -> dict[tuple[str, int, str], tuple[Path, Allocated]]:
    """Load every case once in one child process and parse what llama.cpp allocated."""
    paths = {"gemma": gemma_gguf, **tiny_models, **tiny_llamas}
    jobs = [(str(paths[key]), n_ctx, kwargs) for key, n_ctx, kwargs in _CASES]
    done = subprocess.run(
        [sys.executable, "-c", _LOADER],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    logs: list[str] = json.loads(done.stdout)
    return {
        (key, n_ctx, json.dumps(kwargs, sort_keys=True)): (paths[key], parse_llama_log(log))
        for (key, n_ctx, kwargs), log in zip(_CASES, logs, strict=True)
    }


def _within(estimate: int, real: int, share: float = 0.10) -> bool:
    # Log figures are rounded to 0.01 MiB, which matters only for tiny buffers.
    return abs(estimate - real) <= share * real + 0.02 * MiB


@pytest.mark.slow
@pytest.mark.parametrize(
    ("key", "n_ctx", "kwargs"),
    _CASES,
    ids=[
        f"{k}-{c}-{'-'.join(f'{a}={b}' for a, b in kw.items()) or 'default'}" for k, c, kw in _CASES
    ],
)
def test_estimate_matches_what_llama_cpp_allocates(
    real_allocations: dict[tuple[str, int, str], tuple[Path, Allocated]],
    key: str,
    n_ctx: int,
    kwargs: dict[str, Any],
) -> None:
    path, real = real_allocations[(key, n_ctx, json.dumps(kwargs, sort_keys=True))]
    metadata = read_gguf_metadata(path)
    estimate = estimate_memory(
        metadata,
        file_size=path.stat().st_size,
        n_ctx=n_ctx,
        n_gpu_layers=0,
        kv_type=_KV_TYPE_NAMES[kwargs.get("type_k", 1)],
        flash_attn=kwargs.get("flash_attn", False),
        swa_full=kwargs.get("swa_full", True),
        embedding=kwargs.get("embedding", False),
    )
    report = (
        f"{key} n_ctx={n_ctx} {kwargs}: real {real}, estimated weights {estimate.weights} "
        f"kv {estimate.kv_cache} compute {estimate.compute} output {estimate.output}"
    )
    assert _within(estimate.llama_buffers, real.total), report
    assert _within(estimate.kv_cache, real.kv), report
    # The parts, not only the sum, should be right: weights exactly (they are the file).
    assert _within(estimate.reported_weights, real.weights, 0.01), report
    assert _within(estimate.compute, real.compute), report


# --------------------------------------------------------------------------- header reading


def _header_bytes(path: Path) -> bytes:
    metadata = read_gguf_metadata(path)
    with path.open("rb") as handle:
        return handle.read(metadata[DATA_OFFSET_KEY])


class _ForwardOnly(io.RawIOBase):
    """A stream that can only be read forwards, in small pieces (like a socket)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._data[self._pos : self._pos + min(len(view), 4096)]
        view[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


@pytest.mark.slow
def test_stream_reader_matches_the_path_reader(gemma_gguf: Path) -> None:
    from_path = read_gguf_metadata(gemma_gguf)
    header = _header_bytes(gemma_gguf)
    assert read_gguf_metadata_from(io.BytesIO(header)) == from_path
    assert read_gguf_metadata_from(_ForwardOnly(header)) == from_path  # type: ignore[arg-type]
    assert read_gguf_metadata_from(io.BytesIO(header), max_bytes=len(header)) == from_path
    assert from_path[ARRAY_LENGTHS_KEY]["tokenizer.ggml.tokens"] == 262144
    assert from_path["tokenizer.ggml.tokens"] is None
    # The existing helpers keep working for their callers.
    info = read_gguf_info(gemma_gguf)
    assert info.architecture == "gemma3"
    assert info.block_count == 18


@pytest.mark.slow
def test_header_larger_than_the_stream_is_a_clear_error(gemma_gguf: Path) -> None:
    header = _header_bytes(gemma_gguf)
    with pytest.raises(GGUFHeaderIncomplete, match="larger than the 65536 bytes") as limited:
        read_gguf_metadata_from(io.BytesIO(header), max_bytes=65536)
    assert limited.value.needed > 65536
    with pytest.raises(GGUFHeaderIncomplete, match="stream ended") as short:
        read_gguf_metadata_from(_ForwardOnly(header[:100_000]))  # type: ignore[arg-type]
    assert short.value.bytes_read <= 100_000 < short.value.needed
    # Seeking past the end of a short buffer is only noticed at the next read.
    with pytest.raises(GGUFHeaderIncomplete):
        read_gguf_metadata_from(io.BytesIO(header[:100_000]))
    assert issubclass(GGUFHeaderIncomplete, NotAGGUF)


def test_not_a_gguf_stream() -> None:
    with pytest.raises(NotAGGUF, match="GGUF signature"):
        read_gguf_metadata_from(io.BytesIO(b"GGML" + bytes(64)))


def test_tensor_table_matches_the_gguf_package(tiny_llamas: dict[str, Path]) -> None:
    path = tiny_llamas["wide_q4_0_tied"]
    metadata = read_gguf_metadata(path)
    reader = gguf.GGUFReader(path)
    expected = {t.name: t for t in reader.tensors}
    assert metadata[DATA_OFFSET_KEY] == reader.data_offset
    assert len(metadata[TENSORS_KEY]) == len(expected)
    for info in metadata[TENSORS_KEY]:
        other = expected[info.name]
        assert info.n_bytes == other.n_bytes
        assert info.ggml_type == int(other.tensor_type)
        assert info.offset == other.data_offset - reader.data_offset
        assert info.shape == tuple(int(d) for d in other.shape)


@pytest.mark.slow
def test_tensor_table_of_the_real_model_tiles_the_file(gemma_gguf: Path) -> None:
    # (The gguf package needs ~10 s to open this file, so check the table's own geometry:
    # tensors follow each other with at most alignment padding and end at the file's end.)
    metadata = read_gguf_metadata(gemma_gguf)
    tensors = sorted(metadata[TENSORS_KEY], key=lambda t: t.offset)
    assert len(tensors) == 236
    assert tensors[0].offset == 0
    for current, following in itertools.pairwise(tensors):
        assert current.n_bytes is not None
        assert 0 <= following.offset - (current.offset + current.n_bytes) < 32
    last = tensors[-1]
    assert last.n_bytes is not None
    assert metadata[DATA_OFFSET_KEY] + last.offset + last.n_bytes == gemma_gguf.stat().st_size
    kinds = {t.ggml_type for t in tensors}
    assert kinds == {0, 6, 8, 12, 14}  # F32, Q5_0, Q8_0, Q4_K, Q6_K


def test_small_arrays_are_kept(tiny_llamas: dict[str, Path]) -> None:
    metadata = read_gguf_metadata(tiny_llamas["gqa_f32"])
    assert metadata["llama.attention.head_count_kv"] == [2, 2, 2, 2]
    assert metadata[ARRAY_LENGTHS_KEY]["llama.attention.head_count_kv"] == 4
    assert metadata["tokenizer.ggml.tokens"] is None  # string arrays are skipped
    assert metadata[ARRAY_LENGTHS_KEY]["tokenizer.ggml.tokens"] == 320


# --------------------------------------------------------------------------- model shapes


def _llama_8b(**extra: Any) -> dict[str, Any]:
    """Metadata shaped like Llama-3-8B, without a tensor table (as a catalog may hold it)."""
    return {
        "general.architecture": "llama",
        "general.file_type": 15,
        "llama.block_count": 32,
        "llama.context_length": 8192,
        "llama.embedding_length": 4096,
        "llama.feed_forward_length": 14336,
        "llama.attention.head_count": 32,
        "llama.attention.head_count_kv": 8,
        ARRAY_LENGTHS_KEY: {"tokenizer.ggml.tokens": 128256},
        **extra,
    }


Q4_K_M_8B = 4_920_000_000  # bytes of a Llama-3-8B Q4_K_M file


def test_kv_cache_of_a_known_model() -> None:
    # Llama-3-8B: 32 layers x 8 KV heads x 128 dims x (K+V) x 2 bytes = 128 KiB per token.
    estimate = estimate_memory(_llama_8b(), file_size=Q4_K_M_8B, n_ctx=8192)
    assert estimate.kv_cache == 8192 * 128 * 1024
    q8 = estimate_memory(_llama_8b(), file_size=Q4_K_M_8B, n_ctx=8192, kv_type="q8_0")
    assert q8.kv_cache == 8192 * 32 * 2 * (1024 // 32 * 34)
    assert q8.flash_attn  # a quantized V cache needs it
    assert any("flash attention on" in a for a in q8.assumptions)
    q4 = estimate_memory(_llama_8b(), file_size=Q4_K_M_8B, n_ctx=8192, kv_type="q4_0")
    assert q4.kv_cache < q8.kv_cache < estimate.kv_cache


def test_per_layer_kv_heads_and_layers_without_attention() -> None:
    # Nemotron-NAS style: some layers have no attention at all (0 KV heads).
    metadata = _llama_8b(**{"llama.attention.head_count_kv": [8, 0, 4, 8] * 8})
    estimate = estimate_memory(metadata, file_size=Q4_K_M_8B, n_ctx=4096)
    per_head = 4096 * 128 * 2 * 2  # cells x head dim x (K+V) x f16
    assert estimate.kv_cache == per_head * (8 + 0 + 4 + 8) * 8


def test_sliding_window_layers() -> None:
    gemma = {
        "general.architecture": "gemma3",
        "gemma3.block_count": 18,
        "gemma3.embedding_length": 640,
        "gemma3.attention.head_count": 4,
        "gemma3.attention.head_count_kv": 1,
        "gemma3.attention.key_length": 256,
        "gemma3.attention.value_length": 256,
        "gemma3.attention.sliding_window": 512,
        ARRAY_LENGTHS_KEY: {"tokenizer.ggml.tokens": 262144},
    }
    shape = model_shape(gemma)
    # Every sixth layer is global: 5, 11, 17.
    assert [il for il, swa in enumerate(shape.swa_layers) if not swa] == [5, 11, 17]
    full = estimate_memory(gemma, file_size=250 * MiB, n_ctx=8192, swa_full=True)
    small = estimate_memory(gemma, file_size=250 * MiB, n_ctx=8192, swa_full=False)
    # The chat engine's default is the window-only cache.
    assert estimate_memory(gemma, file_size=250 * MiB, n_ctx=8192).kv_cache == small.kv_cache
    row = 256 * 2 * 2
    assert full.kv_cache == 18 * 8192 * row
    assert small.kv_cache == 3 * 8192 * row + 15 * 1024 * row  # 512 + 512 cells, padded
    # A pattern written in the file wins over the built-in one: as a period, or per layer.
    periodic = model_shape({**gemma, "gemma3.attention.sliding_window_pattern": 3})
    assert [il for il, swa in enumerate(periodic.swa_layers) if not swa] == [2, 5, 8, 11, 14, 17]
    flags = [il % 2 == 0 for il in range(18)]
    explicit = model_shape({**gemma, "gemma3.attention.sliding_window_pattern": flags})
    assert list(explicit.swa_layers) == flags
    # An architecture llama.cpp runs with full attention ignores a window in its metadata.
    qwen = model_shape(_llama_8b(**{"llama.attention.sliding_window": 4096}))
    assert not qwen.uses_swa


def test_shape_errors() -> None:
    with pytest.raises(InvalidRequest, match="layer count"):
        model_shape({"general.architecture": "llama"})
    with pytest.raises(InvalidRequest, match="KV cache type"):
        estimate_memory(_llama_8b(), file_size=Q4_K_M_8B, kv_type="q3_k")


@pytest.mark.slow
def test_offload_moves_weights_and_cache_to_the_gpu(gemma_gguf: Path) -> None:
    metadata = read_gguf_metadata(gemma_gguf)
    size = gemma_gguf.stat().st_size
    tensors = {t.name: t.n_bytes for t in metadata[TENSORS_KEY]}
    embedding = tensors["token_embd.weight"]
    cpu = estimate_memory(metadata, file_size=size, n_ctx=4096)
    full = estimate_memory(metadata, file_size=size, n_ctx=4096, n_gpu_layers=-1)
    assert full.n_gpu_layers == 19
    # The embedding stays on the CPU; tied embeddings get a GPU copy for the output layer.
    assert full.weights_cpu == embedding
    assert full.weights_gpu == sum(tensors.values())
    assert full.kv_gpu == cpu.kv_cpu
    assert full.kv_cpu == 0
    assert full.repack_cpu == 0
    assert full.overhead_gpu > 0
    assert full.gpu_total > full.weights_gpu
    # n_gpu_layers=1 offloads only the output layer; 10 offloads it and the last 9 blocks.
    output_only = estimate_memory(metadata, file_size=size, n_ctx=4096, n_gpu_layers=1)
    assert output_only.kv_gpu == 0
    assert output_only.weights_gpu == embedding + tensors["output_norm.weight"]
    partial = estimate_memory(metadata, file_size=size, n_ctx=4096, n_gpu_layers=10)
    assert 0 < partial.kv_gpu < full.kv_gpu
    assert partial.kv_cpu + partial.kv_gpu == cpu.kv_cache
    assert "9 of 18 layers" in " ".join(partial.assumptions)


@pytest.mark.slow
def test_one_header_estimates_every_quantization(gemma_gguf: Path) -> None:
    metadata = read_gguf_metadata(gemma_gguf)
    size = gemma_gguf.stat().st_size
    same = estimate_memory(metadata, file_size=size, n_ctx=2048)
    double = estimate_memory(metadata, file_size=2 * size, n_ctx=2048)
    assert double.kv_cache == same.kv_cache
    assert double.compute == same.compute
    assert double.weights == pytest.approx(2 * size - metadata[DATA_OFFSET_KEY], rel=0.01)
    assert any("scaled" in a for a in double.assumptions)
    # Without a tensor table the estimate still works, from the shape alone.
    bare = {k: v for k, v in metadata.items() if k not in (TENSORS_KEY, DATA_OFFSET_KEY)}
    rough = estimate_memory(bare, file_size=size, n_ctx=2048)
    assert rough.kv_cache == same.kv_cache
    assert rough.weights == pytest.approx(same.weights, rel=0.1)


# --------------------------------------------------------------------------- verdicts


def _hardware(
    *,
    ram_gib: float,
    available_gib: float | None = None,
    gpu_gib: float | None = None,
    gpu_free_gib: float | None = None,
    backend: str = "CUDA",
    unified: bool = False,
) -> Hardware:
    gpus: tuple[GPU, ...] = ()
    if gpu_gib is not None:
        gpus = (
            GPU(
                index=0,
                name="Test GPU",
                backend=backend,
                total_bytes=int(gpu_gib * GiB),
                free_bytes=int((gpu_free_gib if gpu_free_gib is not None else gpu_gib) * GiB),
                unified_memory=unified,
                source="test",
            ),
        )
    return Hardware(
        os="Darwin" if unified else "Linux",
        os_version="test",
        machine="arm64" if unified else "x86_64",
        cpu_name="Test CPU",
        cpu_physical_cores=8,
        cpu_logical_cores=16,
        ram_total_bytes=int(ram_gib * GiB),
        ram_available_bytes=int((available_gib if available_gib is not None else ram_gib) * GiB),
        backend=backend if gpu_gib is not None else "CPU",
        gpu_offload=gpu_gib is not None,
        gpus=gpus,
        unified_memory=unified,
    )


def test_headroom_rule() -> None:
    assert headroom_bytes(8 * GiB) == GiB
    assert headroom_bytes(64 * GiB) == 64 * GiB // 10


def test_verdicts_on_synthetic_machines() -> None:
    model = _llama_8b()
    big_gpu = check_fit(model, _hardware(ram_gib=32, gpu_gib=24), file_size=Q4_K_M_8B, n_ctx=8192)
    assert big_gpu.verdict is Verdict.FITS_GPU
    assert big_gpu.n_gpu_layers == 33
    assert big_gpu.vram_needed <= (big_gpu.vram_budget or 0)
    assert "entirely on the GPU" in big_gpu.message

    small_gpu = check_fit(model, _hardware(ram_gib=32, gpu_gib=4), file_size=Q4_K_M_8B, n_ctx=8192)
    assert small_gpu.verdict is Verdict.PARTIAL_OFFLOAD
    assert 1 < small_gpu.n_gpu_layers < 33
    assert small_gpu.vram_needed <= (small_gpu.vram_budget or 0)
    # One more layer would not fit.
    more = check_fit(
        model,
        _hardware(ram_gib=32, gpu_gib=4),
        file_size=Q4_K_M_8B,
        n_ctx=8192,
        n_gpu_layers=small_gpu.n_gpu_layers + 1,
    )
    assert more.verdict is Verdict.DOES_NOT_FIT

    laptop = check_fit(model, _hardware(ram_gib=16), file_size=Q4_K_M_8B, n_ctx=8192)
    assert laptop.verdict is Verdict.CPU_ONLY
    assert laptop.estimate.gpu_total == 0
    assert laptop.ram_needed <= laptop.ram_budget

    tiny = check_fit(model, _hardware(ram_gib=8, available_gib=4), file_size=Q4_K_M_8B)
    assert tiny.verdict is Verdict.DOES_NOT_FIT
    assert "Does not fit" in tiny.message

    # The same machine with a long context no longer holds the model on its GPU.
    long = check_fit(model, _hardware(ram_gib=32, gpu_gib=8), file_size=Q4_K_M_8B, n_ctx=8192 * 4)
    short = check_fit(model, _hardware(ram_gib=32, gpu_gib=8), file_size=Q4_K_M_8B, n_ctx=2048)
    assert short.verdict is Verdict.FITS_GPU
    assert long.verdict is not Verdict.FITS_GPU


def test_verdict_states_its_assumptions() -> None:
    result = check_fit(_llama_8b(), _hardware(ram_gib=16), file_size=Q4_K_M_8B, n_ctx=4096)
    text = " ".join(result.assumptions)
    assert "context 4096 tokens" in text
    assert "KV cache f16" in text
    assert "flash attention off" in text
    assert "all layers on the CPU" in text
    assert "1 GiB, 10 %" in text


def test_unified_memory_counts_gpu_use_against_ram() -> None:
    # A 16 GiB Mac: the GPU may use ~10.7 GiB, and whatever it uses is RAM too.
    mac = _hardware(ram_gib=16, available_gib=12, gpu_gib=10.67, backend="Metal", unified=True)
    fits = check_fit(_llama_8b(), mac, file_size=Q4_K_M_8B, n_ctx=4096)
    assert fits.verdict is Verdict.FITS_GPU
    assert fits.ram_needed >= fits.vram_needed
    busy = replace(mac, ram_available_bytes=5 * GiB)
    assert check_fit(_llama_8b(), busy, file_size=Q4_K_M_8B, n_ctx=4096).verdict is not (
        Verdict.FITS_GPU
    )


def test_gpu_with_unknown_memory_is_judged_for_the_cpu() -> None:
    hardware = _hardware(ram_gib=32, gpu_gib=24)
    unknown = replace(
        hardware, gpus=(replace(hardware.gpus[0], total_bytes=None, free_bytes=None),)
    )
    result = check_fit(_llama_8b(), unknown, file_size=Q4_K_M_8B, n_ctx=4096)
    assert result.verdict is Verdict.CPU_ONLY
    assert any("GPU memory unknown" in a for a in result.assumptions)


# --------------------------------------------------------------------------- recommendations

# Sizes of a Llama-3-8B repository's files (bytes).
CHOICES_8B = [
    QuantOption("F16", 16_070_000_000),
    QuantOption("Q8_0", 8_540_000_000),
    QuantOption("Q6_K", 6_600_000_000),
    QuantOption("Q5_K_M", 5_730_000_000),
    QuantOption("Q4_K_M", 4_920_000_000),
    QuantOption("IQ4_XS", 4_450_000_000),
    QuantOption("Q3_K_M", 4_020_000_000),
    QuantOption("Q2_K", 3_180_000_000),
]


def test_recommend_without_hardware_is_the_default() -> None:
    assert recommend(CHOICES_8B) == "Q4_K_M"
    assert recommend([]) == "Q4_K_M"
    # Q4_K_M not offered: the nearest level, the smaller one on a tie.
    assert recommend([("Q8_0", 8), ("Q4_K_S", 4), ("Q2_K", 2)]) == "Q4_K_S"


def test_recommend_on_a_big_gpu_stops_at_q8_0() -> None:
    hardware = _hardware(ram_gib=64, gpu_gib=48)
    assert recommend(CHOICES_8B, hardware, metadata=_llama_8b()) == "Q8_0"
    # Only F16 is offered and fits: take it.
    assert recommend([("F16", 16_070_000_000)], hardware, metadata=_llama_8b()) == "F16"


def test_recommend_the_best_that_fits_on_the_gpu() -> None:
    hardware = _hardware(ram_gib=32, gpu_gib=8, gpu_free_gib=7.5)
    choice = recommend(CHOICES_8B, hardware, metadata=_llama_8b(), n_ctx=4096)
    sizes = dict(CHOICES_8B)
    fits = {
        name: check_fit(_llama_8b(), hardware, file_size=size, n_ctx=4096).verdict
        for name, size in CHOICES_8B
    }
    assert fits[choice] is Verdict.FITS_GPU
    better = [n for n in ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M") if sizes[n] > sizes[choice]]
    assert all(fits[n] is not Verdict.FITS_GPU for n in better)
    assert choice in {"Q5_K_M", "Q6_K"}


def test_recommend_beside_a_small_gpu_caps_at_the_default() -> None:
    # Nothing fits a 3 GiB GPU whole; partial offload of a bigger file would be slow.
    hardware = _hardware(ram_gib=64, gpu_gib=3)
    assert recommend(CHOICES_8B, hardware, metadata=_llama_8b()) == "Q4_K_M"


def test_recommend_on_a_cpu_machine() -> None:
    assert recommend(CHOICES_8B, _hardware(ram_gib=32), metadata=_llama_8b()) == "Q8_0"
    # 8 GiB with 6 available: 6 - 1 GiB headroom leaves room for Q4_K_M but not Q5_K_M.
    small = _hardware(ram_gib=8, available_gib=6.5)
    choice = recommend(CHOICES_8B, small, metadata=_llama_8b(), n_ctx=2048)
    assert check_fit(
        _llama_8b(), small, file_size=dict(CHOICES_8B)[choice], n_ctx=2048
    ).verdict is (Verdict.CPU_ONLY)
    assert choice in {"Q4_K_M", "IQ4_XS"}


def test_recommend_when_nothing_fits_is_the_default() -> None:
    assert recommend(CHOICES_8B, _hardware(ram_gib=4, available_gib=2), metadata=_llama_8b()) == (
        "Q4_K_M"
    )


def test_recommend_without_metadata_uses_a_rough_allowance() -> None:
    assert recommend(CHOICES_8B, _hardware(ram_gib=32, gpu_gib=24)) == "Q8_0"
    assert recommend(CHOICES_8B, _hardware(ram_gib=8, available_gib=7)) in {"Q4_K_M", "IQ4_XS"}


@pytest.mark.parametrize("seed", range(5))
def test_damaged_header_is_not_a_gguf_whatever_the_bytes(seed: int) -> None:
    """Random bytes behind a valid magic must give NotAGGUF, never an overflow or a huge read."""
    import io
    import random

    body = random.Random(seed).randbytes(4096)
    for start in (b"GGUF\x03\x00\x00\x00", b"GGUF\x03\x00\x00\x00\x01" + b"\x00" * 7):
        with pytest.raises(NotAGGUF):
            read_gguf_metadata_from(io.BytesIO(start + body))
