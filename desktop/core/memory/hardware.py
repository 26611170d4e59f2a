"""What this computer offers a model: RAM, CPU, GPUs and the llama.cpp backend of this build.

Every figure says where it came from (`*_source` fields), because the GUI shows them next to
the memory estimate and a person deciding between two downloads should know whether "24 GiB
free" was measured or guessed.

The probe is cheap (well under a second) and never raises: a tool that is missing, slow or
prints something unexpected leaves its figure unknown (None) and adds a note instead. The
pieces that parse tool output are plain functions of text, so tests check them against
recorded `nvidia-smi` / `rocm-smi` output without a GPU.

Where figures come from:

* RAM: psutil (`available` counts reclaimable page cache, which is what a model can use).
* Backend and devices: llama.cpp's own ggml backend registry, read through ctypes from the
  libraries llama-cpp-python ships (`ggml_backend_reg_*`, `ggml_backend_dev_*`), plus
  `llama_supports_gpu_offload()` and `llama_print_system_info()` for the CPU features.
* NVIDIA memory: `nvidia-smi --query-gpu=...`. We do not ask ggml for CUDA/ROCm memory: that
  calls `cudaMemGetInfo`, which creates a CUDA context in *this* process and so takes
  hundreds of MiB of the very VRAM we are measuring, for as long as the process lives.
* AMD memory: `rocm-smi --showproductname --showmeminfo vram --json`.
* Apple Silicon: unified memory. A Metal build reports Metal's recommendedMaxWorkingSetSize
  through ggml (free = total); otherwise we approximate it with macOS's default GPU wired
  limit, see `apple_gpu_working_set`.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop.core.backend.libraries import LibraryProblem

__all__ = [
    "GPU",
    "CommandRunner",
    "DeviceInfo",
    "Hardware",
    "LlamaBuild",
    "apple_gpu_working_set",
    "backend_from_registries",
    "parse_nvidia_smi",
    "parse_rocm_smi",
    "probe_hardware",
    "probe_llama_build",
    "run_command",
    "vendor_gpus",
]

log = logging.getLogger("xindesk.hardware")

MiB = 1024**2
GiB = 1024**3

#: Runs a command with a timeout in seconds; returns its stdout, or None when the program is
#: missing, fails, or runs out of time.
CommandRunner = Callable[[Sequence[str], float], str | None]

# How long one external tool may take. nvidia-smi usually answers in 0.05-0.5 s; a driver in a
# bad state can hang it for minutes, which must never hang the app.
_COMMAND_TIMEOUT_S = 1.0

_NVIDIA_QUERY = (
    "nvidia-smi",
    "--query-gpu=index,name,memory.total,memory.free,driver_version",
    "--format=csv,noheader,nounits",
)
_ROCM_QUERY = ("rocm-smi", "--showproductname", "--showmeminfo", "vram", "--json")

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
# Backends whose memory query would create a device context in this process (see above).
_CONTEXT_CREATING_BACKENDS = frozenset({"CUDA", "HIP", "MUSA", "SYCL", "CANN"})
# Backends that run on memory the CPU shares.
_UNIFIED_BACKENDS = frozenset({"Metal"})


@dataclass(frozen=True)
class GPU:
    """One GPU that llama.cpp can offload to (or that a vendor tool reports).

    Attributes:
        index: The device's position as its backend counts it (CUDA0 -> 0).
        name: Marketing name, e.g. "NVIDIA GeForce RTX 4090" or "Apple M2 Pro".
        backend: "CUDA", "HIP", "Metal", "Vulkan", ... as XinDesk names backends.
        total_bytes: Memory the GPU can use; None when no source could tell.
        free_bytes: Of that, free now; None when unknown.
        unified_memory: True when the GPU uses system RAM (Apple Silicon, integrated GPUs),
            so what it uses is also taken from RAM.
        source: Where the memory figures came from, in words.
    """

    index: int
    name: str
    backend: str
    total_bytes: int | None
    free_bytes: int | None
    unified_memory: bool = False
    source: str = "unknown"


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


@dataclass(frozen=True)
class Hardware:
    """This machine, as far as running a GGUF model is concerned.

    Attributes:
        os: `platform.system()`: "Darwin", "Linux" or "Windows".
        os_version: `platform.release()`.
        machine: CPU architecture, e.g. "x86_64", "arm64".
        cpu_name: Brand string of the CPU.
        cpu_physical_cores: Physical cores (None when the OS does not say).
        cpu_logical_cores: Logical cores (hardware threads).
        ram_total_bytes: Installed RAM.
        ram_available_bytes: RAM available to a new process now (includes reclaimable cache).
        backend: llama.cpp backend of this llama-cpp-python build ("Metal", "CUDA", "HIP",
            "Vulkan", "CPU", ...).
        gpu_offload: Whether this build can offload layers to a GPU at all.
        gpus: GPUs the backend can use, with memory where it can be told.
        cpu_features: CPU features llama.cpp's CPU backend uses.
        unified_memory: True on Apple Silicon: GPU and CPU share RAM.
        ram_source, cpu_source, backend_source: Where those figures came from.
        notes: Anything that could not be found out, and why.
    """

    os: str
    os_version: str
    machine: str
    cpu_name: str
    cpu_physical_cores: int | None
    cpu_logical_cores: int | None
    ram_total_bytes: int
    ram_available_bytes: int
    backend: str
    gpu_offload: bool
    gpus: tuple[GPU, ...] = ()
    cpu_features: tuple[str, ...] = ()
    unified_memory: bool = False
    ram_source: str = "psutil.virtual_memory()"
    cpu_source: str = "platform"
    backend_source: str = "unknown"
    notes: tuple[str, ...] = field(default=())

    @property
    def gpu_total_bytes(self) -> int | None:
        """Total memory of the usable GPUs, None when no GPU or none has a known size."""
        sizes = [gpu.total_bytes for gpu in self.gpus if gpu.total_bytes is not None]
        return sum(sizes) if sizes else None

    @property
    def gpu_free_bytes(self) -> int | None:
        """Free memory of the usable GPUs (their total where free is unknown)."""
        sizes = [
            gpu.free_bytes if gpu.free_bytes is not None else gpu.total_bytes for gpu in self.gpus
        ]
        known = [size for size in sizes if size is not None]
        return sum(known) if known else None


def run_command(argv: Sequence[str], timeout: float) -> str | None:
    """Run a tool and return its stdout; None if it is missing, fails or times out."""
    program = shutil.which(argv[0])
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, *argv[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            # A console window flashing up on Windows for every probe would be absurd.
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("%s did not answer: %s", argv[0], exc)
        return None
    if done.returncode != 0:
        log.info("%s exited with %s: %s", argv[0], done.returncode, done.stderr.strip()[:200])
        return None
    return done.stdout


def _mib_figure(text: str) -> int | None:
    """A MiB count as nvidia-smi prints it with `nounits`, or None for "[N/A]" and the like."""
    try:
        return int(float(text.strip()) * MiB)
    except ValueError:
        return None


def parse_nvidia_smi(text: str) -> list[GPU]:
    """GPUs from `nvidia-smi --query-gpu=index,name,memory.total,memory.free,driver_version
    --format=csv,noheader,nounits` output.

    Lines that do not have the expected five fields are skipped (nvidia-smi prints warnings
    on stdout on some systems). Memory reads "[N/A]" on boards that share system memory
    (e.g. GH200 in some modes); those figures come back as None.
    """
    gpus: list[GPU] = []
    for line in text.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) < 5 or not parts[0].isdigit():
            continue
        # A name can contain commas in principle; index is first and the last three are
        # numbers, so the name is everything in between.
        index, name = int(parts[0]), ", ".join(parts[1:-3])
        total, free = _mib_figure(parts[-3]), _mib_figure(parts[-2])
        gpus.append(
            GPU(
                index=index,
                name=name,
                backend="CUDA",
                total_bytes=total,
                free_bytes=free,
                source=f"nvidia-smi (driver {parts[-1]})",
            )
        )
    return gpus


_ROCM_NAME_KEYS = ("Card Series", "Card series", "Device Name", "Card Model", "Card model")


def parse_rocm_smi(text: str) -> list[GPU]:
    """GPUs from `rocm-smi --showproductname --showmeminfo vram --json` output.

    rocm-smi prints one object per card ("card0", ...) whose key spelling changed between
    ROCm releases, so names are looked up under several spellings.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []
    if not isinstance(data, dict):
        return []
    gpus: list[GPU] = []
    for card, fields in data.items():
        if not (card.startswith("card") and card[4:].isdigit() and isinstance(fields, dict)):
            continue
        name = next((str(fields[key]) for key in _ROCM_NAME_KEYS if fields.get(key)), card)
        total = _int_or_none(fields.get("VRAM Total Memory (B)"))
        used = _int_or_none(fields.get("VRAM Total Used Memory (B)"))
        free = total - used if total is not None and used is not None else None
        gpus.append(
            GPU(
                index=int(card[4:]),
                name=name,
                backend="HIP",
                total_bytes=total,
                free_bytes=free,
                source="rocm-smi",
            )
        )
    return sorted(gpus, key=lambda gpu: gpu.index)


def _int_or_none(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def apple_gpu_working_set(ram_total: int, wired_limit_mb: int | None = None) -> int:
    """How much unified memory macOS lets the GPU use, as Metal's recommendedMaxWorkingSetSize.

    The rule: 2/3 of RAM on Macs with up to 36 GiB, 3/4 above. It reproduces the values Metal
    reports on Apple Silicon (10.67 GiB of 16, 21.33 of 32, 48 of 64, 96 of 128) and is the
    limit llama.cpp's Metal backend works to. `sysctl iogpu.wired_limit_mb` (a user can raise
    it with sudo) overrides it when set to a non-zero value.
    """
    if wired_limit_mb:
        return wired_limit_mb * MiB
    share = (2, 3) if ram_total <= 36 * GiB else (3, 4)
    return ram_total * share[0] // share[1]


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
        backend = _BACKEND_NAMES.get(registry.upper(), registry)
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


def _cpu_name(machine_os: str, run: CommandRunner, timeout: float) -> tuple[str, str]:
    """CPU brand string and where it came from."""
    if machine_os == "Linux":
        try:
            for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
                if line.startswith(("model name", "Model")):
                    return line.split(":", 1)[1].strip(), "/proc/cpuinfo"
        except OSError:
            pass
    elif machine_os == "Darwin":
        out = run(("sysctl", "-n", "machdep.cpu.brand_string"), timeout)
        if out and out.strip():
            return out.strip(), "sysctl machdep.cpu.brand_string"
    elif machine_os == "Windows":
        name = _windows_cpu_name()
        if name:
            return name, "Windows registry ProcessorNameString"
    return platform.processor() or platform.machine() or "unknown CPU", "platform.processor()"


def _windows_cpu_name() -> str | None:
    """The CPU brand string Windows keeps in the registry (platform.processor() only says
    "Intel64 Family 6 Model 183 Stepping 1, GenuineIntel")."""
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(
                winreg.HKEY_LOCAL_MACHINE, r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
            ) as key:
                value, _kind = winreg.QueryValueEx(key, "ProcessorNameString")
        except OSError:
            return None
        return str(value).strip() or None
    return None


def _gpus_from_build(build: LlamaBuild) -> list[GPU]:
    """GPUs as the ggml registry lists them (names always, memory where it was asked)."""
    gpus: list[GPU] = []
    per_backend: dict[str, int] = {}
    for device in build.devices:
        if device.kind not in {"gpu", "igpu"}:
            continue
        backend = _BACKEND_NAMES.get(device.registry.upper(), device.registry)
        index = per_backend.get(backend, 0)
        per_backend[backend] = index + 1
        known = device.total_bytes is not None
        gpus.append(
            GPU(
                index=index,
                name=device.description or device.name,
                backend=backend,
                total_bytes=device.total_bytes,
                free_bytes=device.free_bytes,
                unified_memory=backend in _UNIFIED_BACKENDS or device.kind == "igpu",
                source=f"ggml {device.name} device memory" if known else "ggml device list",
            )
        )
    return gpus


def _merge_vendor_figures(gpus: list[GPU], vendor: list[GPU]) -> list[GPU]:
    """Fill memory figures of ggml's GPUs from a vendor tool, matching by index.

    When ggml listed nothing (say, the registry was unreadable) the vendor's list is used.
    CUDA_VISIBLE_DEVICES can make ggml's CUDA0 a different board from nvidia-smi's 0, so we
    match by index only when the names agree, else by name.
    """
    if not gpus:
        return vendor
    merged: list[GPU] = []
    for gpu in gpus:
        match = next(
            (v for v in vendor if v.index == gpu.index and _same_name(v.name, gpu.name)),
            next((v for v in vendor if _same_name(v.name, gpu.name)), None),
        )
        if match is None or gpu.total_bytes is not None:
            merged.append(gpu)
            continue
        merged.append(
            replace(
                gpu,
                total_bytes=match.total_bytes,
                free_bytes=match.free_bytes,
                source=match.source,
            )
        )
    return merged


def _same_name(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a in b or b in a


def vendor_gpus(
    *, run: CommandRunner = run_command, timeout: float = _COMMAND_TIMEOUT_S
) -> list[GPU]:
    """Every GPU nvidia-smi and rocm-smi report, whatever this build can use.

    `probe_hardware` lists only the GPUs the build can offload to; this is how `xindesk
    doctor` can say "an NVIDIA GPU is here, but this is the CPU build".
    """
    found: list[GPU] = []
    out = run(_NVIDIA_QUERY, timeout)
    if out is not None:
        found.extend(parse_nvidia_smi(out))
    out = run(_ROCM_QUERY, timeout)
    if out is not None:
        found.extend(parse_rocm_smi(out))
    return found


def probe_hardware(
    *,
    run: CommandRunner = run_command,
    build: LlamaBuild | None = None,
    timeout: float = _COMMAND_TIMEOUT_S,
) -> Hardware:
    """Describe this machine. Fast (< 1 s when the tools answer in time) and never raises.

    Args:
        run: Runs external tools (nvidia-smi, rocm-smi, sysctl); tests pass a fake.
        build: What llama-cpp-python's build can do; probed with `probe_llama_build` if None.
        timeout: Seconds each external tool may take.
    """
    import psutil

    notes: list[str] = []
    machine_os = platform.system()
    machine = platform.machine()
    memory = psutil.virtual_memory()
    cpu_name, cpu_source = _cpu_name(machine_os, run, timeout)
    if build is None:
        build = probe_llama_build()
    if build.source.startswith("llama_cpp unavailable"):
        notes.append(build.source)

    gpus = _gpus_from_build(build)
    backend = build.backend
    if backend == "CUDA" or (backend == "GPU" and not gpus):
        out = run(_NVIDIA_QUERY, timeout)
        if out is None:
            notes.append("nvidia-smi not found or did not answer: GPU memory unknown")
        else:
            gpus = _merge_vendor_figures(gpus, parse_nvidia_smi(out))
            backend = "CUDA" if backend == "GPU" and gpus else backend
    if backend == "HIP" or (backend == "GPU" and not gpus):
        out = run(_ROCM_QUERY, timeout)
        if out is None:
            notes.append("rocm-smi not found or did not answer: GPU memory unknown")
        else:
            gpus = _merge_vendor_figures(gpus, parse_rocm_smi(out))
            backend = "HIP" if backend == "GPU" and gpus else backend

    apple_silicon = machine_os == "Darwin" and machine == "arm64"
    if apple_silicon and backend == "GPU":
        backend = "Metal"
    if apple_silicon:
        gpus = _apple_gpus(gpus, memory.total, backend, run, timeout, notes)

    physical = psutil.cpu_count(logical=False)
    logical = psutil.cpu_count(logical=True) or os.cpu_count()
    if not build.gpu_offload and gpus:
        notes.append(
            f"This llama-cpp-python build runs on the CPU only; the GPU ({gpus[0].name}) "
            f"is not used."
        )
    return Hardware(
        os=machine_os,
        os_version=platform.release(),
        machine=machine,
        cpu_name=cpu_name,
        cpu_physical_cores=physical,
        cpu_logical_cores=logical,
        ram_total_bytes=int(memory.total),
        ram_available_bytes=int(memory.available),
        backend=backend,
        gpu_offload=build.gpu_offload,
        # Only GPUs this build can offload to matter for fitting a model.
        gpus=tuple(gpus) if build.gpu_offload else (),
        cpu_features=build.cpu_features,
        unified_memory=apple_silicon,
        ram_source="psutil.virtual_memory()",
        cpu_source=cpu_source,
        backend_source=build.source,
        notes=tuple(notes),
    )


def _apple_gpus(
    gpus: list[GPU],
    ram_total: int,
    backend: str,
    run: CommandRunner,
    timeout: float,
    notes: list[str],
) -> list[GPU]:
    """The Apple GPU with its unified-memory working set (from Metal if we have it)."""
    if any(gpu.backend == "Metal" and gpu.total_bytes for gpu in gpus):
        return [replace(gpu, unified_memory=True) for gpu in gpus]
    out = run(("sysctl", "-n", "iogpu.wired_limit_mb"), timeout)
    wired = _int_or_none(out) if out else None
    limit = apple_gpu_working_set(ram_total, wired)
    source = (
        f"sysctl iogpu.wired_limit_mb = {wired}"
        if wired
        else "macOS default GPU working set: 2/3 of RAM up to 36 GiB, 3/4 above"
    )
    if backend != "Metal":
        notes.append("This llama-cpp-python build has no Metal backend; the GPU is not used.")
    name = gpus[0].name if gpus else "Apple GPU"
    return [
        GPU(
            index=0,
            name=name,
            backend="Metal",
            total_bytes=limit,
            free_bytes=limit,
            unified_memory=True,
            source=source,
        )
    ]
