"""Never over memory: before a model loads, what it needs (`memory_check.launch_memory_need`:
weights, every sequence's KV cache, compute buffers, by device) is weighed against what is
free, and idle models are unloaded to make room, least recently used first.

What is free is the RAM available now and the GPU's free memory where this build offloads to
one, plus what unloading the chosen models gives back; with `models.memory_budget_gb` set,
RAM is also capped by the budget left after the loaded models' needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from desktop.api.settings import Settings
from desktop.core.errors import InvalidRequest, NotEnoughMemory
from desktop.core.memory.hardware import Hardware
from desktop.core.running.memory_check import MemoryNeed, launch_memory_need, refusal_text
from desktop.core.units import GiB

if TYPE_CHECKING:
    from desktop.core.running.launch import LaunchPlan

log = logging.getLogger("xindesk.supervisor")


@dataclass(frozen=True)
class Loaded:
    """A loaded (or loading) model as admission sees it."""

    uid: str
    ram: int
    gpu: int
    last_used: float
    evictable: bool


def memory_need(plan: LaunchPlan, hardware: Callable[[], Hardware]) -> MemoryNeed | None:
    """The launch's need and what is free now; None when the file has no estimate (an
    architecture the estimate does not know): then it is not checked."""
    try:
        return launch_memory_need(plan, hardware())
    except (InvalidRequest, OSError, ValueError, KeyError) as exc:
        log.info("load of %s: no memory estimate (%s); not checked", plan.uid, exc)
        return None


def _with_budget(need: MemoryNeed, settings: Settings, loaded: Sequence[Loaded]) -> MemoryNeed:
    budget = settings.models.memory_budget_gb
    if budget is None:
        return need
    left = int(budget * GiB) - sum(model.ram for model in loaded)
    return replace(need, ram_free=min(need.ram_free, left))


def plan_evictions(
    plan: LaunchPlan, need: MemoryNeed, settings: Settings, loaded: Sequence[Loaded]
) -> list[str]:
    """The idle models to unload, least recently used first, so the launch fits.

    Raises:
        NotEnoughMemory: Unloading every idle model would still leave too little.
    """
    free = _with_budget(need, settings, loaded)
    chosen: list[str] = []
    for model in sorted((m for m in loaded if m.evictable), key=lambda m: m.last_used):
        if free.fits:
            break
        chosen.append(model.uid)
        gpu_free = None if free.gpu_free is None else free.gpu_free + model.gpu
        free = replace(free, ram_free=free.ram_free + model.ram, gpu_free=gpu_free)
    if not free.fits:
        busy = [m.uid for m in loaded if not m.evictable]
        held = f" {', '.join(busy)} stay loaded (pinned or answering)." if busy else ""
        raise NotEnoughMemory(
            refusal_text(plan, replace(free, ram_free=max(free.ram_free, 0)))
            + f" Nothing is left to unload.{held}"
        )
    return chosen
