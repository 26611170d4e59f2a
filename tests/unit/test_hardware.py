"""Hardware probe: the real one on this machine, and parsing of recorded vendor-tool output."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import pytest

from desktop.core.memory.commands import run_command
from desktop.core.memory.gpus import GPU, apple_gpu_working_set, parse_nvidia_smi, parse_rocm_smi
from desktop.core.memory.hardware import probe_hardware
from desktop.core.memory.llama_build import (
    DeviceInfo,
    LlamaBuild,
    backend_from_registries,
    probe_llama_build,
)

MiB = 1024**2
GiB = 1024**3

# `nvidia-smi --query-gpu=index,name,memory.total,memory.free,driver_version
#  --format=csv,noheader,nounits` on a two-GPU workstation.
NVIDIA_TWO_GPUS = """\
0, NVIDIA GeForce RTX 4090, 24564, 23975, 550.54.15
1, NVIDIA GeForce RTX 3090, 24576, 24243, 550.54.15
"""
# A laptop GPU, with the warning some drivers print on stdout first.
NVIDIA_LAPTOP = """\
WARNING: infoROM is corrupted at gpu 0000:01:00.0
0, NVIDIA GeForce RTX 4060 Laptop GPU, 8188, 7816, 566.36
"""
# DGX Spark (GB10) shares system memory and reports no figures of its own.
NVIDIA_UNIFIED = "0, NVIDIA GB10, [N/A], [N/A], 580.95.05\n"

# `rocm-smi --showproductname --showmeminfo vram --json`, ROCm 6.x spelling.
ROCM_6 = (
    '{"card0": {"Card Series": "Radeon RX 7900 XTX", "Card Model": "0x744c", '
    '"Card Vendor": "Advanced Micro Devices, Inc. [AMD/ATI]", "Card SKU": "EXT", '
    '"GFX Version": "gfx1100", "VRAM Total Memory (B)": "25753026560", '
    '"VRAM Total Used Memory (B)": "1071955968"}}'
)
# ROCm 5.x spelling, two cards, and the "system" object some versions add.
ROCM_5 = (
    '{"card0": {"Card series": "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]", '
    '"Card model": "0x73bf", "Card vendor": "Advanced Micro Devices, Inc. [AMD/ATI]", '
    '"VRAM Total Memory (B)": "17163091968", "VRAM Total Used Memory (B)": "17084416"}, '
    '"card1": {"Card series": "Instinct MI210", "VRAM Total Memory (B)": "68702699520", '
    '"VRAM Total Used Memory (B)": "11055104"}, '
    '"system": {"Driver version": "6.3.6"}}'
)


def test_probe_on_this_machine() -> None:
    started = time.perf_counter()
    hardware = probe_hardware()
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert hardware.ram_total_bytes > 512 * MiB
    assert 0 < hardware.ram_available_bytes <= hardware.ram_total_bytes
    assert hardware.cpu_logical_cores is not None
    assert hardware.cpu_logical_cores >= 1
    assert hardware.cpu_name
    assert hardware.os in {"Linux", "Darwin", "Windows"}
    # This project's CI and development machines use the CPU build of llama-cpp-python.
    assert hardware.backend == "CPU"
    assert hardware.gpu_offload is False
    assert hardware.gpus == ()
    assert "ggml backend registry" in hardware.backend_source
    assert hardware.ram_source


def test_llama_build_lists_the_cpu_device() -> None:
    build = probe_llama_build()
    assert build.backend == "CPU"
    assert "CPU" in build.registries
    assert any(device.kind == "cpu" for device in build.devices)
    # llama_print_system_info names the SIMD features the CPU backend was built with.
    assert build.cpu_features


def test_parse_nvidia_smi_two_gpus() -> None:
    gpus = parse_nvidia_smi(NVIDIA_TWO_GPUS)
    assert [gpu.name for gpu in gpus] == ["NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 3090"]
    assert gpus[0].total_bytes == 24564 * MiB
    assert gpus[0].free_bytes == 23975 * MiB
    assert gpus[1].index == 1
    assert all(gpu.backend == "CUDA" for gpu in gpus)
    assert gpus[0].source == "nvidia-smi (driver 550.54.15)"


def test_parse_nvidia_smi_skips_warnings_and_reads_na() -> None:
    (laptop,) = parse_nvidia_smi(NVIDIA_LAPTOP)
    assert laptop.name == "NVIDIA GeForce RTX 4060 Laptop GPU"
    assert laptop.total_bytes == 8188 * MiB
    (spark,) = parse_nvidia_smi(NVIDIA_UNIFIED)
    assert spark.name == "NVIDIA GB10"
    assert spark.total_bytes is None
    assert spark.free_bytes is None
    assert parse_nvidia_smi("") == []
    assert parse_nvidia_smi("No devices were found\n") == []


def test_parse_rocm_smi_both_spellings() -> None:
    (card,) = parse_rocm_smi(ROCM_6)
    assert card.name == "Radeon RX 7900 XTX"
    assert card.total_bytes == 25753026560
    assert card.free_bytes == 25753026560 - 1071955968
    assert card.backend == "HIP"
    old = parse_rocm_smi(ROCM_5)
    assert [gpu.index for gpu in old] == [0, 1]
    assert old[0].name.startswith("Navi 21")
    assert old[1].name == "Instinct MI210"
    assert old[1].total_bytes == 68702699520
    assert parse_rocm_smi("not json") == []
    assert parse_rocm_smi("[]") == []


@pytest.mark.parametrize(
    ("ram_gib", "working_set_gib"),
    [(8, 8 * 2 / 3), (16, 16 * 2 / 3), (32, 32 * 2 / 3), (36, 24), (64, 48), (128, 96)],
)
def test_apple_working_set_rule(ram_gib: int, working_set_gib: float) -> None:
    assert apple_gpu_working_set(ram_gib * GiB) == pytest.approx(working_set_gib * GiB, abs=1)


def test_apple_wired_limit_overrides_the_rule() -> None:
    assert apple_gpu_working_set(64 * GiB, wired_limit_mb=57344) == 56 * GiB
    assert apple_gpu_working_set(64 * GiB, wired_limit_mb=0) == 48 * GiB


@pytest.mark.parametrize(
    ("registries", "offload", "backend"),
    [
        (["CUDA", "CPU"], True, "CUDA"),
        (["ROCm", "CPU"], True, "HIP"),
        (["Metal", "BLAS", "CPU"], True, "Metal"),
        (["Vulkan", "CPU"], True, "Vulkan"),
        (["CPU"], False, "CPU"),
        (["BLAS", "CPU"], False, "CPU"),
        ([], True, "GPU"),
    ],
)
def test_backend_from_registries(registries: list[str], offload: bool, backend: str) -> None:
    assert backend_from_registries(registries, offload) == backend


class FakeRunner:
    """Answers commands from a table, recording what was asked."""

    def __init__(self, answers: dict[str, str | None]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, argv: Sequence[str], timeout: float) -> str | None:
        assert timeout <= 2.0
        self.asked.append(argv[0])
        return self.answers.get(argv[0])


def _cuda_build(*names: str) -> LlamaBuild:
    devices = [DeviceInfo(name="CPU", description="cpu", registry="CPU", kind="cpu")]
    devices += [
        DeviceInfo(name=f"CUDA{i}", description=name, registry="CUDA", kind="gpu")
        for i, name in enumerate(names)
    ]
    return LlamaBuild(
        backend="CUDA",
        gpu_offload=True,
        registries=("CUDA", "CPU"),
        devices=tuple(devices),
        source="test",
    )


def test_cuda_build_takes_memory_from_nvidia_smi() -> None:
    runner = FakeRunner({"nvidia-smi": NVIDIA_TWO_GPUS})
    build = _cuda_build("NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 3090")
    hardware = probe_hardware(run=runner, build=build)
    assert hardware.backend == "CUDA"
    assert "nvidia-smi" in runner.asked
    assert [gpu.total_bytes for gpu in hardware.gpus] == [24564 * MiB, 24576 * MiB]
    assert hardware.gpu_total_bytes == (24564 + 24576) * MiB
    assert hardware.gpu_free_bytes == (23975 + 24243) * MiB
    assert all(gpu.source.startswith("nvidia-smi") for gpu in hardware.gpus)


def test_cuda_build_without_nvidia_smi_keeps_names_and_says_why() -> None:
    hardware = probe_hardware(run=FakeRunner({}), build=_cuda_build("NVIDIA L4"))
    (gpu,) = hardware.gpus
    assert gpu.name == "NVIDIA L4"
    assert gpu.total_bytes is None
    assert gpu.source == "ggml device list"
    assert hardware.gpu_total_bytes is None
    assert any("nvidia-smi" in note for note in hardware.notes)


def test_hip_build_takes_memory_from_rocm_smi() -> None:
    build = LlamaBuild(
        backend="HIP",
        gpu_offload=True,
        registries=("ROCm", "CPU"),
        devices=(
            DeviceInfo(name="ROCm0", description="Radeon RX 7900 XTX", registry="ROCm", kind="gpu"),
        ),
        source="test",
    )
    hardware = probe_hardware(run=FakeRunner({"rocm-smi": ROCM_6}), build=build)
    (gpu,) = hardware.gpus
    assert gpu.backend == "HIP"
    assert gpu.total_bytes == 25753026560
    assert gpu.source == "rocm-smi"


def test_cpu_build_ignores_gpus() -> None:
    build = LlamaBuild(backend="CPU", gpu_offload=False, registries=("CPU",), source="test")
    runner = FakeRunner({"nvidia-smi": NVIDIA_TWO_GPUS})
    hardware = probe_hardware(run=runner, build=build)
    assert hardware.backend == "CPU"
    assert hardware.gpus == ()
    assert "nvidia-smi" not in runner.asked


def test_vulkan_memory_comes_from_ggml() -> None:
    build = LlamaBuild(
        backend="Vulkan",
        gpu_offload=True,
        registries=("Vulkan", "CPU"),
        devices=(
            DeviceInfo(
                name="Vulkan0",
                description="AMD Radeon 780M",
                registry="Vulkan",
                kind="igpu",
                total_bytes=16 * GiB,
                free_bytes=15 * GiB,
            ),
        ),
        source="test",
    )
    hardware = probe_hardware(run=FakeRunner({}), build=build)
    (gpu,) = hardware.gpus
    assert gpu == GPU(
        index=0,
        name="AMD Radeon 780M",
        backend="Vulkan",
        total_bytes=16 * GiB,
        free_bytes=15 * GiB,
        unified_memory=True,
        source="ggml Vulkan0 device memory",
    )


def test_run_command_missing_program() -> None:
    assert run_command(["xindesk-no-such-tool"], 1.0) is None


def test_run_command_times_out_quickly() -> None:
    started = time.perf_counter()
    assert run_command([sys.executable, "-c", "import time; time.sleep(10)"], 0.3) is None
    assert time.perf_counter() - started < 5


def test_run_command_failure_and_success() -> None:
    assert run_command([sys.executable, "-c", "raise SystemExit(3)"], 5.0) is None
    assert run_command([sys.executable, "-c", "print('ok')"], 5.0) == "ok\n"
