"""The build record of a frozen app, why a native library did not load, and the doctor's
statement of what a build was made for against what it runs on.

Loader messages marked "recorded" were produced on this machine (glibc, by loading a library
linked against a library that is not there: see `tests/e2e/test_missing_gpu_library.py`); the
macOS and Windows ones are representative, written from the loaders' documented wording.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.core.backend.build import BuildInfo, read_build_info
from desktop.core.backend.libraries import explain_load_failure
from desktop.core.doctor.local import backend_section
from desktop.core.memory.gpus import GPU
from desktop.core.memory.llama_build import DeviceInfo, LlamaBuild

# -- build record -----------------------------------------------------------------------------


def test_from_source_there_is_no_build_record() -> None:
    assert read_build_info() is None


def test_build_record_is_read_from_the_bundle(tmp_path: Path) -> None:
    record = {
        "variant": "CUDA",
        "version": "0.1.0",
        "llama_cpp_python": "0.3.36",
        "cmake_args": "-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=75;86;89",
        "python": "3.11.7",
        "platform": "linux-x86_64",
    }
    (tmp_path / "xindesk_build.json").write_text(json.dumps(record), encoding="utf-8")
    info = read_build_info(tmp_path)
    assert info == BuildInfo(
        variant="cuda",
        version="0.1.0",
        llama_cpp_python="0.3.36",
        cmake_args="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=75;86;89",
        python="3.11.7",
        platform="linux-x86_64",
    )
    assert info.backend == "CUDA"


@pytest.mark.parametrize(
    ("content", "note"),
    [
        (None, "is missing from the bundle"),
        ("{not json", "cannot be read"),
        ('["cuda"]', "does not hold a JSON object"),
        ('{"variant": "vulkan"}', "unknown variant 'vulkan'"),
    ],
)
def test_a_bad_build_record_gives_an_unknown_variant(
    tmp_path: Path, content: str | None, note: str
) -> None:
    if content is not None:
        (tmp_path / "xindesk_build.json").write_text(content, encoding="utf-8")
    info = read_build_info(tmp_path)
    assert info is not None
    assert info.variant == "unknown"
    assert info.backend is None
    assert info.note is not None
    assert note in info.note


# -- why the library did not load -------------------------------------------------------------

# Recorded: llama-cpp-python's loader on Linux (glibc) when libcuda.so.1 is not installed.
LINUX_NO_DRIVER = (
    "Failed to load shared library '/opt/xindesk/_internal/llama_cpp/lib/libllama.so': "
    "libcuda.so.1: cannot open shared object file: No such file or directory"
)


def test_missing_nvidia_driver_on_linux() -> None:
    problem = explain_load_failure(RuntimeError(LINUX_NO_DRIVER), "cuda")
    assert problem.library == "/opt/xindesk/_internal/llama_cpp/lib/libllama.so"
    assert problem.missing == "libcuda.so.1"
    assert problem.component == "the NVIDIA driver"
    assert "This is XinDesk's CUDA build." in problem.message
    assert "Install or update the NVIDIA driver" in problem.message
    assert problem.message.endswith(f"(The system said: {LINUX_NO_DRIVER})")


@pytest.mark.parametrize(
    ("missing", "component"),
    [
        ("libcudart.so.12", "the NVIDIA CUDA runtime (cudart / cuBLAS)"),
        ("libcublas.so.12", "the NVIDIA CUDA runtime (cudart / cuBLAS)"),
        ("libamdhip64.so.6", "AMD ROCm (the HIP runtime and hipBLAS / rocBLAS)"),
        ("libhipblas.so.2", "AMD ROCm (the HIP runtime and hipBLAS / rocBLAS)"),
        ("libvulkan.so.1", "the Vulkan loader"),
        ("libgomp.so.1", "the OpenMP runtime"),
    ],
)
def test_each_runtime_is_named(missing: str, component: str) -> None:
    raw = (
        f"Failed to load shared library '/x/libllama.so': {missing}: cannot open shared object "
        "file: No such file or directory"
    )
    problem = explain_load_failure(RuntimeError(raw))
    assert problem.missing == missing
    assert problem.component == component
    # From source there is no variant to name.
    assert "This is XinDesk's" not in problem.message


def test_old_cpp_runtime() -> None:
    raw = (
        "Failed to load shared library '/x/libllama.so': /lib/x86_64-linux-gnu/libstdc++.so.6: "
        "version `GLIBCXX_3.4.32' not found (required by /x/libllama.so)"
    )
    problem = explain_load_failure(RuntimeError(raw))
    assert problem.missing == "GLIBCXX_3.4.32"
    assert problem.component == "the C++ runtime"


def test_macos_library_not_loaded() -> None:
    # Representative dyld wording.
    raw = (
        "Failed to load shared library '/Applications/XinDesk.app/Contents/Frameworks/llama_cpp/"
        "lib/libllama.dylib': dlopen(/Applications/XinDesk.app/Contents/Frameworks/llama_cpp/"
        "lib/libllama.dylib, 0x0006): Library not loaded: @rpath/libggml-metal.dylib"
    )
    problem = explain_load_failure(RuntimeError(raw), "metal")
    assert problem.missing == "libggml-metal.dylib"
    assert problem.component is None
    assert "reinstall XinDesk" in problem.advice


def test_windows_names_no_dependency() -> None:
    # Representative Windows wording: the loader does not say which DLL is missing. Off
    # Windows no DLL can be tried, so the answer stays general.
    raw = (
        "Failed to load shared library 'C:\\XinDesk\\_internal\\llama_cpp\\lib\\llama.dll': "
        "Could not find module 'C:\\XinDesk\\_internal\\llama_cpp\\lib\\llama.dll' (or one of "
        "its dependencies). Try using the full path with constructor syntax."
    )
    problem = explain_load_failure(RuntimeError(raw), "cuda")
    assert problem.missing is None
    assert "This is XinDesk's CUDA build." in problem.message
    assert "driver and runtime" in problem.advice


def test_library_file_itself_missing() -> None:
    problem = explain_load_failure(
        FileNotFoundError("Shared library with base name 'llama' not found")
    )
    assert problem.library is None
    assert "installation is incomplete" in problem.message
    assert "LLAMA_CPP_LIB_PATH" in problem.advice


# -- built for, runs on -----------------------------------------------------------------------

CPU = DeviceInfo(name="CPU", description="AMD EPYC", registry="CPU", kind="cpu")
H100 = DeviceInfo(name="CUDA0", description="NVIDIA H100 80GB HBM3", registry="CUDA", kind="gpu")
NVIDIA_SMI_H100 = GPU(
    index=0, name="NVIDIA H100 80GB HBM3", backend="CUDA", total_bytes=80 * 2**30, free_bytes=None
)
CUDA_RECORD = BuildInfo(variant="cuda", version="0.1.0", llama_cpp_python="0.3.36")


def test_cpu_build_from_source() -> None:
    build = LlamaBuild(backend="CPU", gpu_offload=False, registries=("CPU",), devices=(CPU,))
    section = backend_section(None, build)
    assert section.status == "ok"
    assert section.summary == "Built for CPU: models run on the CPU."
    assert section.details["running_on"] == "CPU"


def test_cpu_build_on_a_computer_with_an_nvidia_gpu_says_so() -> None:
    build = LlamaBuild(backend="CPU", gpu_offload=False, registries=("CPU",), devices=(CPU,))
    section = backend_section(BuildInfo(variant="cpu"), build, [NVIDIA_SMI_H100])
    assert section.status == "warn"
    assert any("NVIDIA H100" in line and "GPU build" in line for line in section.lines)


def test_cuda_build_with_its_gpu() -> None:
    build = LlamaBuild(
        backend="CUDA", gpu_offload=True, registries=("CUDA", "CPU"), devices=(H100, CPU)
    )
    section = backend_section(CUDA_RECORD, build, [NVIDIA_SMI_H100])
    assert section.status == "ok"
    assert section.summary == "Built for CUDA: models run on NVIDIA H100 80GB HBM3 (CUDA0)."
    assert section.details["running_on"] == "CUDA"
    assert section.details["gpu_devices"] == ["CUDA0"]


def test_cuda_build_without_a_gpu_falls_back_to_the_cpu() -> None:
    # The driver is there (the library loads) but the registry found no device.
    build = LlamaBuild(
        backend="CUDA", gpu_offload=False, registries=("CUDA", "CPU"), devices=(CPU,)
    )
    section = backend_section(CUDA_RECORD, build)
    assert section.status == "warn"
    assert section.summary == "Built for CUDA; no NVIDIA GPU found, so models run on the CPU."
    assert section.details["running_on"] == "CPU"


def test_cuda_bundle_holding_a_cpu_library_is_a_packaging_mistake() -> None:
    build = LlamaBuild(backend="CPU", gpu_offload=False, registries=("CPU",), devices=(CPU,))
    section = backend_section(CUDA_RECORD, build)
    assert section.status == "warn"
    assert "has no CUDA backend" in section.summary


def test_a_library_that_cannot_load_fails() -> None:
    problem = explain_load_failure(RuntimeError(LINUX_NO_DRIVER), "cuda")
    build = LlamaBuild(backend="CPU", gpu_offload=False, load_problem=problem)
    section = backend_section(CUDA_RECORD, build)
    assert section.status == "fail"
    assert section.summary == problem.message
    assert section.details["load_problem"]["missing"] == "libcuda.so.1"
    assert section.details["running_on"] is None
