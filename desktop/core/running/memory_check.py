"""Whether a planned launch fits in the memory free now, checked before its worker starts.

A model that does not fit does not fail cleanly: the worker grows until the kernel's OOM killer
ends it (or the computer swaps to a halt), taking other programs' memory with it. So a launch
whose memory estimate (`memory.estimate`: weights, KV cache of every sequence, compute buffers)
exceeds what is free is refused with both figures, unless the caller passes `force`.

Free memory is RAM available to a new process (reclaimable cache included) and, where this
llama.cpp build offloads to a GPU whose free memory is known, that GPU's free memory; on
unified memory (Apple Silicon) the GPU's share comes out of the same RAM. No headroom is kept
here: the check refuses only what the estimate says cannot fit at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core.catalog.splits import group_of
from desktop.core.errors import InvalidRequest, NotEnoughMemory
from desktop.core.memory.estimate import ENGINE_SWA_FULL, MemoryEstimate, estimate_memory
from desktop.core.memory.gguf_info import read_gguf_metadata
from desktop.core.memory.hardware import Hardware
from desktop.core.units import human_bytes

if TYPE_CHECKING:
    from desktop.core.running.launch import LaunchPlan

log = logging.getLogger("xindesk.launch")


@dataclass(frozen=True)
class MemoryNeed:
    """What a launch needs, by device, and what is free.

    Attributes:
        ram: Bytes of RAM the model needs (with the GPU's share on unified memory).
        gpu: Bytes of GPU memory it needs (0 when nothing is offloaded).
        ram_free: RAM available now.
        gpu_free: Free GPU memory; None without a GPU this build offloads to, or when unknown.
        weights, kv_cache, compute: The parts of the need, all devices together.
        sequences: Sequences whose KV cache is counted (a chat model's `parallel`).
    """

    ram: int
    gpu: int
    ram_free: int
    gpu_free: int | None
    weights: int
    kv_cache: int
    compute: int
    sequences: int

    @property
    def fits(self) -> bool:
        if self.ram > self.ram_free:
            return False
        return self.gpu_free is None or self.gpu <= self.gpu_free

    @property
    def total(self) -> int:
        return self.ram + self.gpu

    @property
    def free(self) -> int:
        return self.ram_free + (self.gpu_free or 0)


def launch_memory_need(plan: LaunchPlan, hardware: Hardware) -> MemoryNeed:
    """The memory `plan` needs on `hardware`, and what is free there now.

    Raises:
        InvalidRequest, NotAGGUF, OSError, ValueError, KeyError: No estimate for this file
            (an architecture whose shape the estimate does not know, say).
    """
    options = plan.worker.llama_kwargs
    files = group_of(plan.model_path)
    file_size = sum(part.stat().st_size for part in files.parts) or plan.model_path.stat().st_size
    metadata = read_gguf_metadata(plan.model_path)
    gpu_free = hardware.gpu_free_bytes if hardware.gpu_offload and hardware.gpus else None
    unified = hardware.unified_memory or any(gpu.unified_memory for gpu in hardware.gpus)
    layers = int(options.get("n_gpu_layers", 0)) if gpu_free is not None else 0
    flash = options.get("flash_attn", "auto") != "off"

    def estimate(kv_type: str) -> MemoryEstimate:
        return estimate_memory(
            metadata,
            file_size=file_size,
            n_ctx=plan.n_ctx,
            n_gpu_layers=layers,
            kv_type=kv_type,
            flash_attn=flash,
            n_batch=int(options.get("n_batch", 512)),
            n_ubatch=int(options.get("n_ubatch", 512)),
            swa_full=bool(options.get("swa_full", ENGINE_SWA_FULL)),
            gpu_backend=hardware.backend if layers else None,
        )

    # K and V rows are the same size in the models XinDesk serves: a cache of two types
    # takes the mean of the two single-type caches.
    with_k = estimate(str(options.get("type_k", "f16")))
    with_v = estimate(str(options.get("type_v", "f16")))
    sequences = plan.worker.parallel or 1
    kv_cpu = (with_k.kv_cpu + with_v.kv_cpu) // 2 * sequences
    kv_gpu = (with_k.kv_gpu + with_v.kv_gpu) // 2 * sequences
    draft = _draft_bytes(plan)
    cpu = with_k.cpu_total - with_k.kv_cpu + kv_cpu
    gpu = with_k.gpu_total - with_k.kv_gpu + kv_gpu if with_k.gpu_total else 0
    if gpu:
        gpu += draft
    else:
        cpu += draft
    return MemoryNeed(
        ram=cpu + (gpu if unified else 0),
        gpu=gpu,
        ram_free=hardware.ram_available_bytes,
        gpu_free=None if unified else gpu_free,
        weights=with_k.weights + draft,
        kv_cache=kv_cpu + kv_gpu,
        compute=with_k.compute,
        sequences=sequences,
    )


def _draft_bytes(plan: LaunchPlan) -> int:
    path = plan.worker.draft_model_path
    if not path:
        return 0
    try:
        return sum(part.stat().st_size for part in group_of(Path(path)).parts)
    except (OSError, ValueError):
        return 0


def check_launch_memory(plan: LaunchPlan, hardware: Hardware) -> MemoryNeed | None:
    """Refuse a launch whose estimate exceeds the free memory (`NotEnoughMemory`).

    Returns the figures, or None when this file has no estimate (then nothing is refused).
    """
    try:
        need = launch_memory_need(plan, hardware)
    except (InvalidRequest, OSError, ValueError, KeyError) as exc:
        log.info("launch %s: no memory estimate (%s); not checked", plan.uid, exc)
        return None
    if need.fits:
        return need
    raise NotEnoughMemory(refusal_text(plan, need))


def refusal_text(plan: LaunchPlan, need: MemoryNeed) -> str:
    """The refusal, with the figures a person needs to choose what to change."""
    parts = [f"RAM: {human_bytes(need.ram)} needed, {human_bytes(need.ram_free)} available"]
    if need.gpu_free is not None and need.gpu:
        parts.append(
            f"GPU memory: {human_bytes(need.gpu)} needed, {human_bytes(need.gpu_free)} free"
        )
    cache = (
        f"KV cache {human_bytes(need.kv_cache)} for "
        + (f"{need.sequences} sequences" if need.sequences > 1 else "one sequence")
        + f" of {plan.n_ctx} tokens"
    )
    parts.append(
        f"weights {human_bytes(need.weights)}, {cache}, compute {human_bytes(need.compute)}"
    )
    return (
        f"Not enough memory to launch {plan.uid}: it needs {human_bytes(need.total)}, "
        f"{human_bytes(need.free)} free ({'; '.join(parts)}). Close other programs, choose a "
        f"smaller quantization or context (n_ctx, parallel), or launch with force=true."
    )
