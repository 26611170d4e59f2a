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
* CPU: its brand string from /proc/cpuinfo, sysctl or the Windows registry (here).
* Backend and devices: llama.cpp's own ggml backend registry (`llama_build`).
* GPU memory: nvidia-smi, rocm-smi, Metal's working set on Apple Silicon (`gpus`).

`commands` runs those external tools.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.memory.commands import COMMAND_TIMEOUT_S, CommandRunner, run_command
from desktop.core.memory.gpus import GPU, find_gpus
from desktop.core.memory.llama_build import LlamaBuild, probe_llama_build

__all__ = ["Hardware", "probe_hardware"]


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


def probe_hardware(
    *,
    run: CommandRunner = run_command,
    build: LlamaBuild | None = None,
    timeout: float = COMMAND_TIMEOUT_S,
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

    apple_silicon = machine_os == "Darwin" and machine == "arm64"
    gpus, backend = find_gpus(
        build,
        ram_total=memory.total,
        apple_silicon=apple_silicon,
        run=run,
        timeout=timeout,
        notes=notes,
    )

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
