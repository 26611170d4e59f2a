"""GPUs and their memory: from the llama.cpp build's device list and the vendors' tools.

* NVIDIA: `nvidia-smi --query-gpu=...`. ggml is not asked for CUDA/ROCm memory: that creates a
  device context in this process (see `llama_build`).
* AMD: `rocm-smi --showproductname --showmeminfo vram --json`.
* Apple Silicon: unified memory. A Metal build reports Metal's recommendedMaxWorkingSetSize
  through ggml (free = total); otherwise it is approximated with macOS's default GPU wired
  limit, see `apple_gpu_working_set`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from desktop.core.memory.commands import COMMAND_TIMEOUT_S, CommandRunner, run_command
from desktop.core.memory.llama_build import LlamaBuild, backend_name

__all__ = [
    "GPU",
    "apple_gpu_working_set",
    "find_gpus",
    "parse_nvidia_smi",
    "parse_rocm_smi",
    "vendor_gpus",
]

MiB = 1024**2
GiB = 1024**3

_NVIDIA_QUERY = (
    "nvidia-smi",
    "--query-gpu=index,name,memory.total,memory.free,driver_version",
    "--format=csv,noheader,nounits",
)
_ROCM_QUERY = ("rocm-smi", "--showproductname", "--showmeminfo", "vram", "--json")
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


def _gpus_from_build(build: LlamaBuild) -> list[GPU]:
    """GPUs as the ggml registry lists them (names always, memory where it was asked)."""
    gpus: list[GPU] = []
    per_backend: dict[str, int] = {}
    for device in build.devices:
        if device.kind not in {"gpu", "igpu"}:
            continue
        backend = backend_name(device.registry)
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
    *, run: CommandRunner = run_command, timeout: float = COMMAND_TIMEOUT_S
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


def find_gpus(
    build: LlamaBuild,
    *,
    ram_total: int,
    apple_silicon: bool,
    run: CommandRunner,
    timeout: float,
    notes: list[str],
) -> tuple[list[GPU], str]:
    """The GPUs a build lists, with memory figures, and the build's backend made precise.

    ggml names the GPUs; nvidia-smi and rocm-smi fill in memory ggml was not asked for, and
    tell which vendor a build whose registry was unreadable ("GPU") runs on. On Apple Silicon
    the GPU gets its unified-memory working set. What could not be found out is appended to
    `notes`.

    Returns:
        (gpus, backend): every GPU found, whether or not the build can offload to it, and
        "CUDA", "HIP", "Metal", ... or the build's own backend name.
    """
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

    if apple_silicon and backend == "GPU":
        backend = "Metal"
    if apple_silicon:
        gpus = _apple_gpus(gpus, ram_total, backend, run, timeout, notes)
    return gpus, backend


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
