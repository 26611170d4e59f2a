"""The doctor's checks of this computer: the build, its backend, devices, memory, keychain and
the models folder. No network; the hardware facts come from `desktop.core.memory` (`hardware`,
`gpus`, `llama_build`)."""

from __future__ import annotations

import logging
import os
import platform
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from desktop import __version__
from desktop.api.settings import Settings
from desktop.core.backend.build import BuildInfo, is_frozen
from desktop.core.doctor.report import Section, Status
from desktop.core.errors import SecretStoreUnavailable
from desktop.core.memory.gpus import GPU
from desktop.core.memory.hardware import Hardware
from desktop.core.memory.llama_build import LlamaBuild
from desktop.core.paths import AppPaths
from desktop.core.secrets import SecretStore
from desktop.core.settings import models_dir_of
from desktop.core.units import GiB, human_bytes

log = logging.getLogger("xindesk.doctor")

#: Below this much free space in the models folder a typical download (1-5 GB) will not fit.
LOW_DISK_BYTES = 5 * GiB
#: Below this much available RAM even a small model struggles.
LOW_RAM_BYTES = 1 * GiB
# A name that is never stored: reading it asks the keychain whether it works at all.
KEYRING_PROBE = "availability-check"
# What each GPU backend needs to find, in words ("no NVIDIA GPU found").
_GPU_WORDS = {
    "CUDA": "NVIDIA GPU",
    "HIP": "AMD GPU supported by ROCm",
    "Metal": "Apple GPU (Metal)",
    "Vulkan": "GPU with Vulkan support",
}


def _size(value: float | None) -> str:
    """A size for the report; "unknown" rather than a dash, which a pasted report may lose."""
    return human_bytes(value, unknown="unknown")


def _llama_cpp_python_version(info: BuildInfo | None) -> str | None:
    """From the build record, the installed package's metadata, or the loaded module."""
    if info is not None and info.llama_cpp_python:
        return info.llama_cpp_python
    from importlib import metadata

    try:
        return metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        module = sys.modules.get("llama_cpp")
        version = getattr(module, "__version__", None)
        return str(version) if version else None


def build_section(info: BuildInfo | None) -> Section:
    """Version, variant and how this copy runs (frozen bundle or from source)."""
    frozen = is_frozen()
    llama_version = _llama_cpp_python_version(info)
    details: dict[str, Any] = {
        "version": __version__,
        "variant": info.variant if info else None,
        "frozen": frozen,
        "llama_cpp_python": llama_version,
        "cmake_args": info.cmake_args if info else None,
        "python": platform.python_version(),
        "platform": (info.platform if info and info.platform else sysconfig.get_platform()),
        "os": platform.platform(),
        "executable": sys.executable,
        "note": info.note if info else None,
    }
    how = f"{info.variant.upper()} build" if info else "run from source"
    summary = f"XinDesk {__version__}, {how}; llama-cpp-python {llama_version or 'unknown'}"
    status: Status = "ok"
    lines = [f"Python {details['python']} on {details['os']}"]
    if info is not None and info.cmake_args:
        lines.append(f"llama-cpp-python built with CMAKE_ARGS={info.cmake_args}")
    if info is not None and info.note:
        status = "warn"
        lines.append(info.note)
    elif info is not None and info.version and info.version != __version__:
        status = "warn"
        lines.append(f"The bundle says version {info.version}, the code {__version__}.")
    return Section("build", status, summary, details, lines)


def backend_section(
    info: BuildInfo | None, build: LlamaBuild, vendor: Sequence[GPU] = ()
) -> Section:
    """What the build was made for against what loaded: a clear statement, and the verdict.

    Args:
        info: The frozen build's record (None from source).
        build: What llama.cpp's libraries report (`probe_llama_build`).
        vendor: GPUs the vendor tools see, usable or not (`gpus.vendor_gpus`).
    """
    built_for = info.backend if info is not None and info.backend else None
    gpus = [d for d in build.devices if d.kind in {"gpu", "igpu"}]
    details: dict[str, Any] = {
        "built_for": built_for or (None if build.load_problem else build.backend),
        "library_backend": None if build.load_problem else build.backend,
        "running_on": None,
        "gpu_offload": build.gpu_offload,
        "registries": list(build.registries),
        "gpu_devices": [d.name for d in gpus],
        "cpu_features": list(build.cpu_features),
        "source": build.source,
        "load_problem": build.load_problem.to_dict() if build.load_problem else None,
    }
    lines: list[str] = []
    if build.cpu_features:
        lines.append("CPU features: " + ", ".join(build.cpu_features))
    name = built_for or build.backend
    if build.load_problem is not None:
        return Section("backend", "fail", build.load_problem.message, details, lines)

    status: Status = "ok"
    if build.backend == "CPU" and built_for not in (None, "CPU"):
        status = "warn"
        summary = (
            f"Built for {built_for}, but its llama.cpp library has no {built_for} backend: "
            f"models run on the CPU. The bundle holds the wrong llama-cpp-python build."
        )
        details["running_on"] = "CPU"
    elif build.backend == "CPU":
        summary = "Built for CPU: models run on the CPU."
        details["running_on"] = "CPU"
        unused = [gpu.name for gpu in vendor]
        if unused:
            status = "warn"
            lines.append(
                f"This computer has {', '.join(unused)}, which this CPU build does not use; "
                f"a GPU build of XinDesk would be much faster."
            )
    elif gpus and build.gpu_offload:
        where = ", ".join(f"{d.description or d.name} ({d.name})" for d in gpus)
        summary = f"Built for {name}: models run on {where}."
        details["running_on"] = build.backend
    else:
        status = "warn"
        wanted = _GPU_WORDS.get(build.backend, f"{build.backend} device")
        summary = f"Built for {name}; no {wanted} found, so models run on the CPU."
        details["running_on"] = "CPU"
        if vendor:
            lines.append(
                "The vendor tool lists "
                + ", ".join(gpu.name for gpu in vendor)
                + ", but llama.cpp cannot use it: check the driver and runtime versions."
            )
    return Section("backend", status, summary, details, lines)


def _gpu_line(gpu: GPU) -> str:
    if gpu.total_bytes is None:
        memory = "memory unknown"
    else:
        memory = f"{_size(gpu.total_bytes)}, {_size(gpu.free_bytes)} free"
    shared = ", shares system RAM" if gpu.unified_memory else ""
    return f"{gpu.backend}{gpu.index}: {gpu.name} ({memory}{shared}; {gpu.source})"


def devices_section(build: LlamaBuild, hardware: Hardware, vendor: Sequence[GPU]) -> Section:
    """The ggml devices llama.cpp sees, and the GPUs with their memory."""
    ggml = [asdict(device) for device in build.devices]
    details: dict[str, Any] = {
        "ggml": ggml,
        "gpus": [asdict(gpu) for gpu in hardware.gpus],
        "vendor_gpus": [asdict(gpu) for gpu in vendor],
        "cpu": hardware.cpu_name,
        "cpu_cores": {
            "physical": hardware.cpu_physical_cores,
            "logical": hardware.cpu_logical_cores,
        },
        "notes": list(hardware.notes),
    }
    lines = [f"ggml {d.name} [{d.registry}, {d.kind}]: {d.description}" for d in build.devices]
    lines.extend(_gpu_line(gpu) for gpu in hardware.gpus)
    lines.extend(hardware.notes)
    cores = hardware.cpu_logical_cores or "?"
    gpu_names = ", ".join(gpu.name for gpu in hardware.gpus) or "no GPU in use"
    summary = f"{hardware.cpu_name} ({cores} threads); {gpu_names}"
    return Section("devices", "ok", summary, details, lines)


def memory_section(hardware: Hardware) -> Section:
    details = {
        "ram_total_bytes": hardware.ram_total_bytes,
        "ram_available_bytes": hardware.ram_available_bytes,
        "vram_total_bytes": hardware.gpu_total_bytes,
        "vram_free_bytes": hardware.gpu_free_bytes,
        "unified_memory": hardware.unified_memory,
    }
    summary = (
        f"RAM {_size(hardware.ram_available_bytes)} available of {_size(hardware.ram_total_bytes)}"
    )
    if hardware.gpu_total_bytes is not None:
        summary += (
            f"; GPU memory {_size(hardware.gpu_free_bytes)} free of "
            f"{_size(hardware.gpu_total_bytes)}"
        )
    else:
        summary += "; no GPU memory in use"
    status: Status = "warn" if hardware.ram_available_bytes < LOW_RAM_BYTES else "ok"
    return Section("memory", status, summary, details)


def _keyring_name(backend: object) -> str:
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    chained = getattr(backend, "backends", None)
    if isinstance(chained, (list, tuple)) and chained:
        name += " (" + ", ".join(type(b).__name__ for b in chained) + ")"
    return name


def keyring_section(store: SecretStore) -> Section:
    """Which keychain keeps the API key and hub tokens, and whether it works."""
    import keyring

    name = _keyring_name(keyring.get_keyring())
    try:
        store.get(KEYRING_PROBE)
    except SecretStoreUnavailable as exc:
        details = {"available": False, "backend": name, "message": str(exc)}
        summary = f"no keyring: secrets kept only for this session ({name})"
        return Section("keyring", "warn", summary, details, [str(exc)])
    details = {"available": True, "backend": name, "message": None}
    return Section("keyring", "ok", name, details)


def _nearest_existing(folder: Path) -> Path:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def models_folder_section(
    paths: AppPaths, settings: Settings | None, settings_error: str | None
) -> Section:
    """The models folder: where, whether it can be written, and the free space there."""
    import shutil

    folder = models_dir_of((settings or Settings()), paths)
    existing = _nearest_existing(folder)
    writable = os.access(existing, os.W_OK)
    free = shutil.disk_usage(existing).free if existing.exists() else None
    details: dict[str, Any] = {
        "path": str(folder),
        "exists": folder.is_dir(),
        "writable": writable,
        "free_bytes": free,
        "settings_file": str(paths.settings_file),
        "settings_error": settings_error,
    }
    summary = f"{folder} ({_size(free)} free)"
    if settings_error:
        return Section("models_folder", "fail", settings_error, details)
    if not writable:
        where = folder if folder.exists() else existing
        return Section(
            "models_folder",
            "fail",
            f"{where} cannot be written: downloads will fail. Choose another models folder in "
            f"Settings, or fix the folder's permissions.",
            details,
        )
    if free is not None and free < LOW_DISK_BYTES:
        return Section(
            "models_folder",
            "warn",
            f"{summary}: little room left; most models need 1 to 5 GB or more",
            details,
        )
    lines = [] if folder.exists() else ["(created on the first download)"]
    return Section("models_folder", "ok", summary, details, lines)
