"""Never over memory: before a model loads, what it needs is weighed against what is free, and
idle models are unloaded to make room, least recently used first.

What a model needs is the memory estimate for its launch (weights, every sequence's KV cache,
compute buffers; `core.memory.estimate`), counted in RAM except on a build for a discrete GPU
(CUDA, ROCm), where the layers it offloads live in GPU memory, which llama.cpp checks as it
loads. On a Mac GPU memory is RAM. What is free is the system's available RAM, or what the
`models.memory_budget_gb` setting leaves after the loaded models' estimates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psutil

from desktop.api.settings import Settings
from desktop.core.backend.build import read_build_info
from desktop.core.errors import NotEnoughMemory
from desktop.core.memory.estimate import ENGINE_SWA_FULL, estimate_memory
from desktop.core.memory.gguf_info import read_gguf_metadata
from desktop.core.units import GiB, human_bytes

if TYPE_CHECKING:
    from desktop.core.running.launch import LaunchPlan

log = logging.getLogger("xindesk.supervisor")

#: Builds whose offloaded layers live in a discrete GPU's own memory.
_DISCRETE_GPU_VARIANTS = frozenset({"cuda", "rocm"})


def discrete_gpu_build() -> bool:
    """Whether this copy was built for a discrete GPU (the installer's record says so)."""
    info = read_build_info()
    return info is not None and info.variant in _DISCRETE_GPU_VARIANTS


def ram_needed(plan: LaunchPlan, *, discrete_gpu: bool) -> int:
    """RAM the launch will take, by the memory estimate, every sequence's cache included."""
    kwargs = plan.worker.llama_kwargs
    gpu_layers = int(kwargs.get("n_gpu_layers", 0)) if discrete_gpu else 0
    flash = kwargs.get("flash_attn", "auto")
    estimate = estimate_memory(
        read_gguf_metadata(plan.model_path, tensors=False),
        file_size=plan.model_path.stat().st_size,
        n_ctx=plan.n_ctx,
        n_gpu_layers=gpu_layers,
        kv_type=str(kwargs.get("type_k", "f16")),
        flash_attn=flash is True or flash == "on",
        n_batch=int(kwargs.get("n_batch", 512)),
        n_ubatch=int(kwargs.get("n_ubatch", 512)),
        swa_full=bool(kwargs.get("swa_full", ENGINE_SWA_FULL)),
    )
    # Every sequence has the whole context in its own cells (one KV stream per sequence).
    extra_sequences = max(plan.worker.parallel or 1, 1) - 1
    return estimate.cpu_total + extra_sequences * estimate.kv_cpu


@dataclass(frozen=True)
class Loaded:
    """A loaded model as admission sees it."""

    uid: str
    needs: int
    last_used: float
    evictable: bool


def room(settings: Settings, loaded: Sequence[Loaded], available: Callable[[], int]) -> int:
    """Bytes free for another model: the budget left, capped by the system's available RAM."""
    free = available()
    budget = settings.models.memory_budget_gb
    if budget is not None:
        free = min(free, int(budget * GiB) - sum(model.needs for model in loaded))
    return free


def plan_evictions(
    needs: int, settings: Settings, loaded: Sequence[Loaded], available: Callable[[], int]
) -> list[str]:
    """The idle models to unload, least recently used first, so `needs` bytes fit.

    Raises:
        NotEnoughMemory: Unloading every idle model would still leave too little.
    """
    free = room(settings, loaded, available)
    chosen: list[str] = []
    for model in sorted((m for m in loaded if m.evictable), key=lambda m: m.last_used):
        if free >= needs:
            break
        chosen.append(model.uid)
        free += model.needs
    if free < needs:
        busy = [m.uid for m in loaded if not m.evictable]
        held = f" ({', '.join(busy)} stay loaded: pinned or answering)" if busy else ""
        raise NotEnoughMemory(
            f"Needs {human_bytes(needs)}; {human_bytes(max(free, 0))} free with nothing left to "
            f"unload{held}: close other programs, use a smaller quantization or context, or "
            "launch with force=true to load it anyway."
        )
    return chosen


def available_ram() -> int:
    """RAM a new process can use now (reclaimable cache included)."""
    return int(psutil.virtual_memory().available)
