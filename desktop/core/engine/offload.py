"""Where a loaded model actually runs: how many layers llama.cpp put on which GPU, and the bytes.

Asking for `n_gpu_layers=-1` says nothing about what happened: a CUDA build on a machine
without an NVIDIA GPU quietly runs everything on the CPU, and llama.cpp may place fewer layers
than asked when memory is short. llama.cpp says what it did only in its log while loading, so
`LlamaLogCapture` routes that log to a buffer for the duration of the load (llama-cpp-python's
own callback is put back afterwards), and `placement` reads it:

    load_tensors: layer   0 assigned to device CUDA0, is_swa = 1      (one per layer + output)
    load_tensors: offloaded 19/19 layers to GPU                       (GPU-capable builds only)
    load_tensors:        CUDA0 model buffer size =   234.00 MiB       (one per buffer)
    llama_kv_cache:      CUDA0 KV buffer size =     7.50 MiB
    llama_context:       CUDA0 compute buffer size =   515.75 MiB

The layer lines are the truth (they come from the placement itself); the "offloaded N/M" line
is used when they are missing; without either (a build that logs neither) the placement is
computed from the request and whether the build can offload at all. Layer counts follow
llama.cpp's: the model's blocks plus its output layer (Gemma 3 270M: 18 blocks, 19 layers).

Runs in the model's worker process, which has llama_cpp loaded. It needs nothing of the loaded
model object (the block count comes from the GGUF header), so the engine may hold the model as
it likes.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from desktop.core.memory.llama_build import DeviceInfo, backend_from_registries

log = logging.getLogger("xindesk.engine.offload")

MiB = 1024**2

# enum ggml_log_level (ggml.h): NONE, DEBUG, INFO, WARN, ERROR, CONT (continues the last line).
_LEVEL_ERROR = 4
_LEVEL_CONT = 5

_ASSIGNED = re.compile(r"layer\s+(\d+) assigned to device ([^\s,]+)")
_OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")
_BUFFER = re.compile(r"(\S+)\s+(model|KV|compute|output|RS) buffer size =\s*([\d.]+) MiB")
# Buffers in the computer's RAM: the CPU's own, the mmapped file, the CPU's repacked weights,
# and pinned host memory a GPU backend allocates for transfers ("CUDA_Host").
_HOST_BUFFER = re.compile(r"^(CPU|AMX|KLEIDIAI)|_Host$", re.IGNORECASE)
_BUFFER_SUFFIX = re.compile(r"_(Mapped|REPACK|Private|Shared)$", re.IGNORECASE)
_DEVICE_BACKEND = re.compile(r"^([A-Za-z]+?)(\d*)$")


class LlamaLogCapture:
    """A context manager that keeps everything llama.cpp logs while it is active.

    llama.cpp has one process-wide log callback; llama-cpp-python sets its own at import (it
    prints errors to stderr). While active, ours keeps every line; on exit llama-cpp-python's
    is put back. Error lines are also passed to this package's log, so a failed load still
    leaves its reason in the worker's output.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._errors: list[str] = []
        self._last_level = 0
        self._guard = threading.Lock()
        self._callback: Any = None

    def _on_log(self, level: int, text: bytes | None, _user_data: object) -> None:
        piece = (text or b"").decode("utf-8", errors="replace")
        with self._guard:
            if level == _LEVEL_CONT:
                level = self._last_level
            self._last_level = level
            self._parts.append(piece)
            if level == _LEVEL_ERROR and piece.strip():
                self._errors.append(piece.strip())

    def __enter__(self) -> LlamaLogCapture:
        import ctypes

        import llama_cpp

        # The ctypes wrapper must stay referenced while llama.cpp may call it.
        self._callback = llama_cpp.llama_log_callback(self._on_log)
        llama_cpp.llama_log_set(self._callback, ctypes.c_void_p(0))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        import ctypes

        import llama_cpp
        from llama_cpp import _logger

        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
        for line in self.errors():
            log.error("llama.cpp: %s", line)

    @property
    def text(self) -> str:
        with self._guard:
            return "".join(self._parts)

    def errors(self) -> list[str]:
        """The lines llama.cpp logged as errors (why a load failed, usually)."""
        with self._guard:
            return list(self._errors)


@dataclass
class LoadLog:
    """What a load log says about placement.

    Attributes:
        layer_devices: Device name per layer index ("CPU", "CUDA0", ...), from the
            "assigned to device" lines; empty when the build did not log them.
        offloaded: (layers offloaded, layers offloadable) from "offloaded N/M layers to GPU".
        buffers: Bytes per buffer name ("CUDA0", "CPU_Mapped", "CUDA_Host", ...), model,
            KV cache, compute and output buffers together.
    """

    layer_devices: dict[int, str] = field(default_factory=dict)
    offloaded: tuple[int, int] | None = None
    buffers: dict[str, int] = field(default_factory=dict)


def parse_load_log(text: str) -> LoadLog:
    """Read the placement lines of a llama.cpp load log (see the module docstring)."""
    parsed = LoadLog()
    for line in text.splitlines():
        if found := _ASSIGNED.search(line):
            parsed.layer_devices[int(found.group(1))] = found.group(2)
        elif found := _OFFLOADED.search(line):
            parsed.offloaded = (int(found.group(1)), int(found.group(2)))
        elif found := _BUFFER.search(line):
            name = found.group(1)
            parsed.buffers[name] = parsed.buffers.get(name, 0) + round(float(found.group(3)) * MiB)
    return parsed


def is_host_buffer(name: str) -> bool:
    """True for buffers in the computer's RAM (see `_HOST_BUFFER`)."""
    return bool(_HOST_BUFFER.search(name))


def _backend_of(device: str, known: dict[str, DeviceInfo]) -> str:
    """The backend of a device ("CUDA" for "CUDA0"): the registry's name for it when the
    registry lists the device, else read from the device's name."""
    info = known.get(device)
    if info is not None:
        return backend_from_registries([info.registry], True)
    found = _DEVICE_BACKEND.match(device)
    return backend_from_registries([found.group(1) if found else device], True)


def _device_of_buffer(name: str, gpu_devices: Sequence[str]) -> str:
    base = _BUFFER_SUFFIX.sub("", name)
    if base in gpu_devices:
        return base
    # A backend may name its buffers after itself ("Metal") rather than the device ("MTL0");
    # with one GPU in use it can only be that one.
    return gpu_devices[0] if len(gpu_devices) == 1 else base


def placement(
    parsed: LoadLog,
    *,
    n_layer: int | None,
    requested_gpu_layers: int,
    gpu_offload: bool,
    devices: Iterable[DeviceInfo] = (),
) -> dict[str, Any]:
    """The model's placement as the server shows it (the `offload` field of a description).

    Args:
        parsed: The load log's placement lines.
        n_layer: The model's block count (the GGUF's `<arch>.block_count`); only used when
            the log has no placement lines, None when unknown.
        requested_gpu_layers: The n_gpu_layers the launch asked for (-1: all).
        gpu_offload: `llama_supports_gpu_offload()` of this build on this machine.
        devices: The ggml devices (for their descriptions: "CUDA0" -> "NVIDIA H100 ...").

    Returns:
        {"backend", "gpu_layers", "total_layers", "requested_gpu_layers", "devices":
        [{"name", "description", "backend", "layers", "bytes"}], "gpu_bytes", "cpu_bytes",
        "source", "summary", "note"}.
    """
    known = {device.name: device for device in devices}
    if parsed.layer_devices:
        total = len(parsed.layer_devices)
        per_device: dict[str, int] = {}
        for device in parsed.layer_devices.values():
            if device.upper() != "CPU":
                per_device[device] = per_device.get(device, 0) + 1
        gpu_layers = sum(per_device.values())
        source = "llama.cpp load log (layer placement)"
    elif parsed.offloaded is not None:
        gpu_layers, total = parsed.offloaded
        gpu_names = [d.name for d in known.values() if d.kind in {"gpu", "igpu"}]
        per_device = {gpu_names[0]: gpu_layers} if gpu_layers and gpu_names else {}
        source = "llama.cpp load log (offload summary)"
    else:
        # The output layer counts as one, as llama.cpp counts them.
        total = n_layer + 1 if n_layer is not None else 0
        wanted = total if requested_gpu_layers < 0 else min(requested_gpu_layers, total)
        gpu_layers = wanted if gpu_offload else 0
        gpu_names = [d.name for d in known.values() if d.kind in {"gpu", "igpu"}]
        per_device = {gpu_names[0]: gpu_layers} if gpu_layers and gpu_names else {}
        source = "computed from n_gpu_layers (llama.cpp logged no placement)"

    used = list(per_device)
    gpu_bytes_by_device: dict[str, int] = {}
    cpu_bytes = 0
    for name, size in parsed.buffers.items():
        if is_host_buffer(name):
            cpu_bytes += size
            continue
        device = _device_of_buffer(name, used)
        gpu_bytes_by_device[device] = gpu_bytes_by_device.get(device, 0) + size
    device_rows = [
        {
            "name": name,
            "description": known[name].description if name in known else None,
            "backend": _backend_of(name, known),
            "layers": per_device.get(name, 0),
            "bytes": gpu_bytes_by_device.get(name, 0),
        }
        for name in [*used, *(d for d in gpu_bytes_by_device if d not in per_device)]
    ]
    backend = device_rows[0]["backend"] if gpu_layers and device_rows else "CPU"
    return {
        "backend": backend,
        "gpu_layers": gpu_layers,
        "total_layers": total,
        "requested_gpu_layers": requested_gpu_layers,
        "devices": device_rows,
        "gpu_bytes": sum(gpu_bytes_by_device.values()),
        "cpu_bytes": cpu_bytes,
        "source": source,
        "summary": placement_summary(gpu_layers, total, device_rows),
        "note": _why_cpu(gpu_layers, total, requested_gpu_layers, gpu_offload),
    }


def placement_summary(gpu_layers: int, total: int, devices: Sequence[dict[str, Any]]) -> str:
    """The placement in a few words: "CPU", or "19/19 layers on CUDA0 (NVIDIA H100 80GB
    HBM3)". English, for logs and the command line; the GUI words its own from the fields."""
    if not gpu_layers:
        return "CPU"
    named = [
        f"{row['name']} ({row['description']})" if row.get("description") else str(row["name"])
        for row in devices
        if row.get("layers")
    ]
    where = ", ".join(named) or "GPU"
    text = f"{gpu_layers}/{total} layers on {where}"
    return text if gpu_layers >= total else f"{text}, the rest on the CPU"


def _why_cpu(gpu_layers: int, total: int, requested: int, gpu_offload: bool) -> str | None:
    if gpu_layers >= total:
        return None
    if requested == 0:
        return "The launch asked for no GPU layers (n_gpu_layers=0)."
    if not gpu_offload:
        return (
            "This llama.cpp build cannot offload to a GPU here (a CPU build, or no GPU its "
            "backend can use), so the model runs on the CPU."
        )
    if gpu_layers == 0:
        return "llama.cpp placed no layer on the GPU."
    if 0 < requested < total:
        return f"The launch asked for {requested} GPU layers (n_gpu_layers)."
    return "llama.cpp placed fewer layers on the GPU than asked (not enough GPU memory?)."


def model_placement(model_path: str, log_text: str, requested_gpu_layers: int) -> dict[str, Any]:
    """`placement` for a model just loaded from `model_path` with `log_text` captured.

    Needs nothing of the loaded model object (how the engine holds it is its own business):
    the block count comes from the GGUF header, the rest from llama.cpp's build.
    """
    import llama_cpp

    from desktop.core.memory.gguf_info import read_gguf_info
    from desktop.core.memory.llama_build import probe_llama_build

    # After the load the backends are initialised anyway, so listing devices costs nothing
    # and (unlike a memory query) creates no new GPU context.
    build = probe_llama_build(query_memory=False)
    return placement(
        parse_load_log(log_text),
        n_layer=read_gguf_info(model_path).block_count,
        requested_gpu_layers=requested_gpu_layers,
        gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()),
        devices=build.devices,
    )
