"""Where a model's layers run, read from llama.cpp's load log (`desktop.core.engine.offload`).

The CPU log is recorded: llama-cpp-python 0.3.36 (CPU wheel) loading Gemma 3 270M Q4_K_M on
this project's development machine. The GPU logs are representative, not recorded (no GPU
here): they are written from the format strings llama.cpp's `load_tensors`, `llama_kv_cache` and
`llama_context` print with (`"layer %3d assigned to device %s, is_swa = %d"`, `"offloaded
%d/%d layers to GPU"`, `"%12s model buffer size = %8.2f MiB"`), with the device and buffer names
the CUDA and Metal backends use (CUDA0, CUDA_Host, MTL0, Metal_Mapped) and the split llama.cpp
makes (the last n_gpu_layers layers go to the GPU). The real load, end to end, is
`tests/e2e/test_offload_e2e.py` and the in-process test at the bottom.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.engine.offload import (
    LlamaLogCapture,
    is_host_buffer,
    parse_load_log,
    placement,
    placement_summary,
)
from desktop.core.memory.llama_build import DeviceInfo

MiB = 1024**2
H100 = DeviceInfo(name="CUDA0", description="NVIDIA H100 80GB HBM3", registry="CUDA", kind="gpu")
RTX = DeviceInfo(name="CUDA1", description="NVIDIA GeForce RTX 4090", registry="CUDA", kind="gpu")
CPU = DeviceInfo(name="CPU", description="AMD EPYC", registry="CPU", kind="cpu")
M2 = DeviceInfo(name="MTL0", description="Apple M2 Pro", registry="MTL", kind="gpu")


def layer_lines(devices: list[str]) -> str:
    return "".join(
        f"load_tensors: layer {i:3d} assigned to device {device}, is_swa = {int(i % 6 != 5)}\n"
        for i, device in enumerate(devices)
    )


# Recorded (see the module docstring): the placement lines of the log, in order.
RECORDED_CPU_LOG = (
    "print_info: n_layer               = 18\n"
    "load_tensors: loading model tensors, this can take a while... (load_mode = mmap)\n"
    + layer_lines(["CPU"] * 19)
    + "done_getting_tensors: tensor 'token_embd.weight' (q8_0) (and 209 others) cannot be used "
    "with preferred buffer type CPU_REPACK, using CPU instead\n"
    "load_tensors:   CPU_Mapped model buffer size =   235.16 MiB\n"
    "load_tensors:   CPU_REPACK model buffer size =    12.66 MiB\n"
    "llama_context:        CPU  output buffer size =     1.00 MiB\n"
    "llama_kv_cache:        CPU KV buffer size =     1.50 MiB\n"
    "llama_kv_cache: size =    1.50 MiB (   512 cells,   3 layers,  1/1 seqs), "
    "K (f16):    0.75 MiB, V (f16):    0.75 MiB\n"
    "llama_kv_cache:        CPU KV buffer size =     7.50 MiB\n"
    "sched_reserve:        CPU compute buffer size =   515.75 MiB\n"
)

# Representative: a CUDA build, every layer on one GPU (n_gpu_layers=-1).
CUDA_FULL_LOG = (
    layer_lines(["CUDA0"] * 19) + "load_tensors: offloading output layer to GPU\n"
    "load_tensors: offloading 17 repeating layers to GPU\n"
    "load_tensors: offloaded 19/19 layers to GPU\n"
    "load_tensors:        CUDA0 model buffer size =   235.16 MiB\n"
    "load_tensors:   CPU_Mapped model buffer size =    21.22 MiB\n"
    "llama_context:  CUDA_Host  output buffer size =     1.00 MiB\n"
    "llama_kv_cache:      CUDA0 KV buffer size =     9.00 MiB\n"
    "llama_context:      CUDA0 compute buffer size =   515.75 MiB\n"
    "llama_context:  CUDA_Host compute buffer size =     5.01 MiB\n"
)


def test_recorded_cpu_log_puts_every_layer_on_the_cpu() -> None:
    parsed = parse_load_log(RECORDED_CPU_LOG)
    assert len(parsed.layer_devices) == 19
    assert set(parsed.layer_devices.values()) == {"CPU"}
    assert parsed.offloaded is None  # a CPU build prints no offload summary
    assert parsed.buffers["CPU_Mapped"] == round(235.16 * MiB)
    # The two KV caches of Gemma 3 (sliding window and full) add up.
    assert parsed.buffers["CPU"] == round((1.50 + 7.50 + 515.75 + 1.00) * MiB)

    found = placement(parsed, n_layer=18, requested_gpu_layers=-1, gpu_offload=False, devices=[CPU])
    assert found["backend"] == "CPU"
    assert (found["gpu_layers"], found["total_layers"]) == (0, 19)
    assert found["devices"] == []
    assert found["gpu_bytes"] == 0
    assert found["cpu_bytes"] == sum(parsed.buffers.values())
    assert found["summary"] == "CPU"
    assert found["source"] == "llama.cpp load log (layer placement)"
    assert "cannot offload to a GPU" in found["note"]


def test_cuda_log_with_every_layer_on_the_gpu() -> None:
    found = placement(
        parse_load_log(CUDA_FULL_LOG),
        n_layer=18,
        requested_gpu_layers=-1,
        gpu_offload=True,
        devices=[CPU, H100],
    )
    assert found["backend"] == "CUDA"
    assert (found["gpu_layers"], found["total_layers"]) == (19, 19)
    assert found["devices"] == [
        {
            "name": "CUDA0",
            "description": "NVIDIA H100 80GB HBM3",
            "backend": "CUDA",
            "layers": 19,
            "bytes": round(235.16 * MiB) + round(9.00 * MiB) + round(515.75 * MiB),
        }
    ]
    # The token embeddings stay in mapped host memory, and CUDA_Host is pinned RAM.
    assert found["cpu_bytes"] == round(21.22 * MiB) + round(1.00 * MiB) + round(5.01 * MiB)
    assert found["summary"] == "19/19 layers on CUDA0 (NVIDIA H100 80GB HBM3)"
    assert found["note"] is None


def test_partial_offload_takes_the_last_layers_and_says_why() -> None:
    # n_gpu_layers=10: llama.cpp puts the last 10 of the 19 layers on the GPU.
    log = layer_lines(["CPU"] * 9 + ["CUDA0"] * 10) + (
        "load_tensors: offloaded 10/19 layers to GPU\n"
        "load_tensors:        CUDA0 model buffer size =   130.00 MiB\n"
        "load_tensors:   CPU_Mapped model buffer size =   126.38 MiB\n"
    )
    found = placement(
        parse_load_log(log), n_layer=18, requested_gpu_layers=10, gpu_offload=True, devices=[H100]
    )
    assert (found["gpu_layers"], found["total_layers"]) == (10, 19)
    assert found["devices"][0]["layers"] == 10
    assert found["gpu_bytes"] == round(130.00 * MiB)
    assert found["summary"] == "10/19 layers on CUDA0 (NVIDIA H100 80GB HBM3), the rest on the CPU"
    assert found["note"] == "The launch asked for 10 GPU layers (n_gpu_layers)."


def test_layers_split_over_two_gpus() -> None:
    log = layer_lines(["CUDA0"] * 10 + ["CUDA1"] * 9) + (
        "load_tensors:        CUDA0 model buffer size =   120.00 MiB\n"
        "load_tensors:        CUDA1 model buffer size =   115.16 MiB\n"
    )
    found = placement(
        parse_load_log(log),
        n_layer=18,
        requested_gpu_layers=-1,
        gpu_offload=True,
        devices=[H100, RTX],
    )
    assert [(d["name"], d["layers"], d["bytes"]) for d in found["devices"]] == [
        ("CUDA0", 10, round(120.00 * MiB)),
        ("CUDA1", 9, round(115.16 * MiB)),
    ]
    assert found["summary"] == (
        "19/19 layers on CUDA0 (NVIDIA H100 80GB HBM3), CUDA1 (NVIDIA GeForce RTX 4090)"
    )


def test_metal_buffers_named_after_the_backend_belong_to_its_one_device() -> None:
    log = layer_lines(["MTL0"] * 19) + (
        "load_tensors: Metal_Mapped model buffer size =   235.16 MiB\n"
        "load_tensors:   CPU_Mapped model buffer size =    21.22 MiB\n"
    )
    found = placement(
        parse_load_log(log), n_layer=18, requested_gpu_layers=-1, gpu_offload=True, devices=[M2]
    )
    assert found["backend"] == "Metal"
    assert found["devices"][0]["name"] == "MTL0"
    assert found["devices"][0]["bytes"] == round(235.16 * MiB)
    assert found["summary"] == "19/19 layers on MTL0 (Apple M2 Pro)"


def test_only_the_offload_summary_line() -> None:
    # A build that does not log each layer's device still prints the summary.
    log = "load_tensors: offloaded 7/19 layers to GPU\n"
    found = placement(
        parse_load_log(log), n_layer=18, requested_gpu_layers=7, gpu_offload=True, devices=[H100]
    )
    assert (found["gpu_layers"], found["total_layers"]) == (7, 19)
    assert found["devices"][0]["name"] == "CUDA0"
    assert found["source"] == "llama.cpp load log (offload summary)"


@pytest.mark.parametrize(
    ("requested", "offload", "expected", "note"),
    [
        (-1, False, 0, "cannot offload to a GPU"),
        (-1, True, 19, None),
        (5, True, 5, "asked for 5 GPU layers"),
        (0, True, 0, "asked for no GPU layers"),
    ],
)
def test_placement_is_computed_when_nothing_was_logged(
    requested: int, offload: bool, expected: int, note: str | None
) -> None:
    found = placement(
        parse_load_log(""),
        n_layer=18,
        requested_gpu_layers=requested,
        gpu_offload=offload,
        devices=[H100] if offload else [],
    )
    assert (found["gpu_layers"], found["total_layers"]) == (expected, 19)
    assert found["source"].startswith("computed")
    if note is None:
        assert found["note"] is None
    else:
        assert note in found["note"]


@pytest.mark.parametrize(
    ("name", "host"),
    [
        ("CPU", True),
        ("CPU_Mapped", True),
        ("CPU_REPACK", True),
        ("CUDA_Host", True),
        ("ROCm_Host", True),
        ("CUDA0", False),
        ("ROCm0", False),
        ("MTL0_Mapped", False),
        ("Vulkan0", False),
    ],
)
def test_host_buffers(name: str, host: bool) -> None:
    assert is_host_buffer(name) is host


def test_summary_without_device_names() -> None:
    assert placement_summary(0, 19, []) == "CPU"
    assert placement_summary(19, 19, [{"name": "CUDA0", "layers": 19}]) == "19/19 layers on CUDA0"


def test_capture_joins_continued_lines_and_keeps_errors() -> None:
    capture = LlamaLogCapture()
    capture._on_log(2, b"load_tensors: offloaded ", None)
    capture._on_log(5, b"19/19 layers to GPU\n", None)
    capture._on_log(4, b"llama_model_load: error loading model: bad tensor\n", None)
    capture._on_log(5, b"", None)
    assert parse_load_log(capture.text).offloaded == (19, 19)
    assert capture.errors() == ["llama_model_load: error loading model: bad tensor"]


@pytest.mark.slow
def test_real_load_in_process_reports_zero_of_all_layers(gemma_gguf: Path) -> None:
    """The real llama.cpp, in this process: the capture sees the placement of every layer, and
    llama-cpp-python's own log callback is back afterwards."""
    import llama_cpp
    from llama_cpp import Llama

    from desktop.core.engine.offload import model_placement
    from desktop.core.memory.gguf_info import read_gguf_info

    blocks = read_gguf_info(gemma_gguf).block_count
    assert blocks is not None
    with LlamaLogCapture() as capture:
        llm = Llama(model_path=str(gemma_gguf), n_ctx=256, n_gpu_layers=-1, verbose=False)
    try:
        found = model_placement(str(gemma_gguf), capture.text, -1)
        assert found["total_layers"] == blocks + 1
        assert found["gpu_layers"] == 0
        assert found["source"] == "llama.cpp load log (layer placement)"
        assert found["cpu_bytes"] > 100 * MiB
        # Nothing more reaches the capture once it is closed.
        size = len(capture.text)
        llama_cpp.llama_print_system_info()
        Llama(model_path=str(gemma_gguf), n_ctx=64, verbose=False, vocab_only=True).close()
        assert len(capture.text) == size
    finally:
        llm.close()


def test_xinference_accelerators_name_the_gpus_in_use() -> None:
    from desktop.server.presenters.running import accelerators as _accelerators

    two = placement(
        parse_load_log(layer_lines(["CUDA0"] * 10 + ["CUDA1"] * 9)),
        n_layer=18,
        requested_gpu_layers=-1,
        gpu_offload=True,
        devices=[H100, RTX],
    )
    assert _accelerators(two) == ["0", "1"]
    on_cpu = placement(
        parse_load_log(RECORDED_CPU_LOG), n_layer=18, requested_gpu_layers=-1, gpu_offload=False
    )
    assert _accelerators(on_cpu) == []
    assert _accelerators(None) == []
