"""What the llama-cpp-python build in this environment can do: its backend, devices and CPU
features, asked of llama.cpp's own libraries.

The backend and devices come from llama.cpp's ggml backend registry, read through ctypes from
the libraries llama-cpp-python ships (`ggml_backend_reg_*`, `ggml_backend_dev_*`), plus
`llama_supports_gpu_offload()` and `llama_print_system_info()` for the CPU features. Device
memory is asked of ggml only where that is free of side effects (Metal, Vulkan): for CUDA and
ROCm ggml calls `cudaMemGetInfo`, which creates a CUDA context in *this* process and so takes
hundreds of MiB of the very VRAM being measured, for as long as the process lives (`gpus` asks
the vendor tools instead).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.core.backend.libraries import LibraryProblem

__all__ = [
    "DeviceInfo",
    "LlamaBuild",
    "backend_from_registries",
    "backend_name",
    "probe_llama_build",
]

log = logging.getLogger("xindesk.hardware")

# ggml_backend_dev_type (ggml-backend.h).
_DEV_CPU, _DEV_GPU, _DEV_IGPU, _DEV_ACCEL = 0, 1, 2, 3

# ggml registry names -> the backend names XinDesk shows. The HIP build of ggml-cuda registers
# itself as "ROCm"; Metal as "Metal" (devices "MTL0"...).
_BACKEND_NAMES: dict[str, str] = {
    "CUDA": "CUDA",
    "ROCM": "HIP",
    "HIP": "HIP",
    "METAL": "Metal",
    "MTL": "Metal",
    "VULKAN": "Vulkan",
    "SYCL": "SYCL",
    "MUSA": "MUSA",
    "OPENCL": "OpenCL",
    "CANN": "CANN",
}
# Backends whose memory query would create a device context in this process (see the module
# docstring).
_CONTEXT_CREATING_BACKENDS = frozenset({"CUDA", "HIP", "MUSA", "SYCL", "CANN"})


@dataclass(frozen=True)
class DeviceInfo:
    """One device in llama.cpp's ggml backend registry."""

    name: str
    description: str
    registry: str
    kind: str  # "cpu", "gpu", "igpu" or "accel"
    total_bytes: int | None = None
    free_bytes: int | None = None


@dataclass(frozen=True)
class LlamaBuild:
    """What the llama-cpp-python build in this environment can do.

    Attributes:
        backend: "Metal", "CUDA", "HIP", "Vulkan", "SYCL", ... or "CPU".
        gpu_offload: `llama_supports_gpu_offload()`.
        registries: Names of the compiled-in ggml backends, e.g. ("CUDA", "CPU").
        devices: The devices those backends found on this machine.
        cpu_features: Features the CPU backend uses, e.g. ("AVX2", "F16C", "FMA").
        source: How this was found out.
        load_problem: Why llama.cpp's library could not be loaded (a GPU build without its
            driver, say); None when it loaded. Then backend is "CPU" only as the assumption
            memory estimates work with: nothing can run until the problem is fixed.
    """

    backend: str
    gpu_offload: bool
    registries: tuple[str, ...] = ()
    devices: tuple[DeviceInfo, ...] = ()
    cpu_features: tuple[str, ...] = ()
    source: str = "unknown"
    load_problem: LibraryProblem | None = None


def backend_name(registry: str) -> str:
    """The backend name XinDesk shows for a ggml registry name ("ROCm" -> "HIP")."""
    return _BACKEND_NAMES.get(registry.upper(), registry)


def backend_from_registries(registries: Sequence[str], gpu_offload: bool) -> str:
    """The backend name of a build from its ggml registry names.

    A CUDA build on a machine without an NVIDIA GPU still registers "CUDA" (with no devices),
    so the build's backend is the first non-CPU registry, whatever devices it found.
    """
    for registry in registries:
        name = _BACKEND_NAMES.get(registry.upper())
        if name is not None:
            return name
    extra = [r for r in registries if r.upper() not in {"CPU", "BLAS", "RPC"}]
    if extra:
        return extra[0]
    # No registry API: llama_supports_gpu_offload still tells a GPU build from a CPU one.
    return "GPU" if gpu_offload else "CPU"


def _cpu_features(system_info: str) -> tuple[str, ...]:
    """Feature names set to 1 in `llama_print_system_info()` ("CPU : AVX2 = 1 | ...")."""
    features: list[str] = []
    for part in system_info.replace("\n", "|").split("|"):
        key, sep, value = part.rpartition("=")
        if sep and value.strip() == "1":
            name = key.split(":")[-1].strip()
            if name:
                features.append(name)
    return tuple(features)


def probe_llama_build(*, query_memory: bool = True) -> LlamaBuild:
    """Ask the llama.cpp libraries of llama-cpp-python what this build has.

    Args:
        query_memory: Ask ggml for device memory where that is side-effect free (Metal,
            Vulkan); never for CUDA/HIP (see the module docstring).

    Returns:
        The build's backend and devices; backend "CPU" with a note in `source` and the reason
        in `load_problem` when llama_cpp cannot be imported (never raises for that).
    """
    from desktop.core.backend.build import read_build_info
    from desktop.core.backend.libraries import import_llama_cpp

    build_info = read_build_info()
    llama_cpp, problem = import_llama_cpp(build_info.variant if build_info else None)
    if llama_cpp is None:
        assert problem is not None
        return LlamaBuild(
            backend="CPU",
            gpu_offload=False,
            source=f"llama_cpp unavailable: {problem.message}",
            load_problem=problem,
        )

    gpu_offload = bool(llama_cpp.llama_supports_gpu_offload())
    system_info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    features = _cpu_features(system_info)
    try:
        registries, devices = _ggml_registry(query_memory=query_memory)
    except (OSError, AttributeError, ImportError, RuntimeError) as exc:
        # Older or unusual builds may not export the registry API; the offload flag is
        # still a reliable CPU-versus-GPU answer.
        log.info("ggml backend registry not readable: %s", exc)
        return LlamaBuild(
            backend="GPU" if gpu_offload else "CPU",
            gpu_offload=gpu_offload,
            cpu_features=features,
            source="llama_supports_gpu_offload (ggml registry not readable)",
        )
    return LlamaBuild(
        backend=backend_from_registries(registries, gpu_offload),
        gpu_offload=gpu_offload,
        registries=tuple(registries),
        devices=tuple(devices),
        cpu_features=features,
        source="ggml backend registry of llama-cpp-python's libraries",
    )


def _ggml_registry(*, query_memory: bool) -> tuple[list[str], list[DeviceInfo]]:
    """Registry and device names read from libggml through ctypes.

    llama-cpp-python binds none of the `ggml_backend_reg_*` / `ggml_backend_dev_*` functions,
    but it ships the libraries that export them. We build our own prototypes instead of
    setting argtypes on the shared CDLL, which other code may use with other signatures.
    """
    import ctypes

    from llama_cpp import _ctypes_extensions
    from llama_cpp import llama_cpp as bindings

    # The folder libllama was loaded from: LLAMA_CPP_LIB_PATH when set, else the package's
    # lib/. (llama_cpp._ggml always reads the package's, which would describe another build.)
    base = Path(bindings._base_path)
    libs: list[ctypes.CDLL] = [_ctypes_extensions.load_shared_library("ggml", base)]
    try:
        # On Windows a DLL's exports do not include its dependencies' exports, and the
        # device functions live in ggml-base.
        libs.append(_ctypes_extensions.load_shared_library("ggml-base", base))
    except (OSError, RuntimeError) as exc:
        log.debug("ggml-base not loaded separately: %s", exc)

    def fn(name: str, restype: type | None, *argtypes: type) -> Callable[..., object]:
        prototype = ctypes.CFUNCTYPE(restype, *argtypes)
        for lib in libs:
            try:
                return prototype((name, lib))
            except AttributeError:
                continue
        raise AttributeError(f"{name} is not exported by the ggml libraries")

    vp, size_t = ctypes.c_void_p, ctypes.c_size_t
    reg_count = fn("ggml_backend_reg_count", size_t)
    reg_get = fn("ggml_backend_reg_get", vp, size_t)
    reg_name = fn("ggml_backend_reg_name", ctypes.c_char_p, vp)
    dev_count = fn("ggml_backend_dev_count", size_t)
    dev_get = fn("ggml_backend_dev_get", vp, size_t)
    dev_name = fn("ggml_backend_dev_name", ctypes.c_char_p, vp)
    dev_description = fn("ggml_backend_dev_description", ctypes.c_char_p, vp)
    dev_type = fn("ggml_backend_dev_type", ctypes.c_int, vp)
    dev_reg = fn("ggml_backend_dev_backend_reg", vp, vp)
    dev_memory = fn(
        "ggml_backend_dev_memory", None, vp, ctypes.POINTER(size_t), ctypes.POINTER(size_t)
    )

    def text(value: object) -> str:
        return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else ""

    def count(value: object) -> int:
        return value if isinstance(value, int) else 0

    registries = [text(reg_name(reg_get(i))) for i in range(count(reg_count()))]
    kinds = {_DEV_CPU: "cpu", _DEV_GPU: "gpu", _DEV_IGPU: "igpu", _DEV_ACCEL: "accel"}
    devices: list[DeviceInfo] = []
    for i in range(count(dev_count())):
        dev = dev_get(i)
        registry = text(reg_name(dev_reg(dev)))
        kind = kinds.get(count(dev_type(dev)), "accel")
        total = free = None
        backend = backend_name(registry)
        if query_memory and kind in {"gpu", "igpu"} and backend not in _CONTEXT_CREATING_BACKENDS:
            free_c, total_c = size_t(0), size_t(0)
            dev_memory(dev, ctypes.byref(free_c), ctypes.byref(total_c))
            total, free = total_c.value or None, free_c.value or None
        devices.append(
            DeviceInfo(
                name=text(dev_name(dev)),
                description=text(dev_description(dev)),
                registry=registry,
                kind=kind,
                total_bytes=total,
                free_bytes=free,
            )
        )
    return registries, devices
