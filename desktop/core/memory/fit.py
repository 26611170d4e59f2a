"""Whether a model fits this machine, with how much GPU offload, and which quantization to pick.

`check_fit` judges `estimate.estimate_memory` against a `Hardware` probe; `recommend` picks one
of a model's quantizations by those verdicts.

Verdicts keep headroom free: max(1 GiB, 10 % of the device's total) of RAM and of GPU memory,
so the rest of the system (and the desktop's own GPU use) is not squeezed out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from desktop.api.common import Verdict
from desktop.core.memory.estimate import (
    CPU_PROCESS_OVERHEAD,
    ENGINE_SWA_FULL,
    MemoryEstimate,
    estimate_memory,
)
from desktop.core.memory.hardware import Hardware
from desktop.core.memory.quant import DEFAULT_QUANT, quant_level
from desktop.core.memory.shape import model_shape

__all__ = [
    "FitResult",
    "QuantOption",
    "Verdict",
    "check_fit",
    "headroom_bytes",
    "recommend",
]

log = logging.getLogger("xindesk.fit")

MiB = 1024**2
GiB = 1024**3


@dataclass(frozen=True)
class FitResult:
    """Whether (and how) a model runs on a machine, with the numbers behind the answer.

    Attributes:
        verdict: fits_gpu, partial_offload, cpu_only or does_not_fit.
        n_gpu_layers: The offload the verdict is for (llama.cpp's n_gpu_layers).
        estimate: The memory estimate for that offload.
        ram_needed / ram_budget: Bytes of RAM needed, and available after headroom.
        vram_needed / vram_budget: The same for GPU memory (0 / None without a GPU).
        message: One sentence for a person.
        assumptions: Everything the estimate and the verdict assumed, in words.
    """

    verdict: Verdict
    n_gpu_layers: int
    estimate: MemoryEstimate
    ram_needed: int
    ram_budget: int
    vram_needed: int
    vram_budget: int | None
    message: str
    assumptions: tuple[str, ...]


class QuantOption(NamedTuple):
    """One quantization on offer for a model: its level name and total download size."""

    name: str
    size_bytes: int


def headroom_bytes(total: int) -> int:
    """Memory to keep free on a device of `total` bytes: max(1 GiB, 10 %)."""
    return max(GiB, total // 10)


def _budgets(hardware: Hardware) -> tuple[int, int | None, str | None, bool]:
    """RAM budget, GPU budget (None: no usable GPU), GPU backend, unified memory."""
    ram_budget = hardware.ram_available_bytes - headroom_bytes(hardware.ram_total_bytes)
    gpu_total = hardware.gpu_total_bytes
    gpu_free = hardware.gpu_free_bytes
    if not hardware.gpu_offload or not hardware.gpus or gpu_total is None or gpu_free is None:
        return ram_budget, None, None, False
    return (
        ram_budget,
        gpu_free - headroom_bytes(gpu_total),
        hardware.backend,
        hardware.unified_memory or all(gpu.unified_memory for gpu in hardware.gpus),
    )


def _fits(estimate: MemoryEstimate, ram_budget: int, gpu_budget: int | None, unified: bool) -> bool:
    if estimate.gpu_total and (gpu_budget is None or estimate.gpu_total > gpu_budget):
        return False
    # On unified memory the GPU's share comes out of the same RAM.
    ram_needed = estimate.cpu_total + (estimate.gpu_total if unified else 0)
    return ram_needed <= ram_budget


def check_fit(
    metadata: Mapping[str, Any],
    hardware: Hardware,
    *,
    file_size: int,
    n_ctx: int | None = None,
    n_gpu_layers: int | None = None,
    kv_type: str = "f16",
    flash_attn: bool = False,
    swa_full: bool = ENGINE_SWA_FULL,
) -> FitResult:
    """Whether a model runs on `hardware` at `n_ctx`, and with how much offload.

    With `n_gpu_layers=None` the best plan is chosen: everything on the GPU, else as many
    layers as fit (partial offload), else the CPU alone. With a number, only that plan is
    judged.
    """
    ram_budget, gpu_budget, backend, unified = _budgets(hardware)
    n_layer = model_shape(metadata).n_layer

    def plan(layers: int) -> MemoryEstimate:
        return estimate_memory(
            metadata,
            file_size=file_size,
            n_ctx=n_ctx,
            n_gpu_layers=layers,
            kv_type=kv_type,
            flash_attn=flash_attn,
            swa_full=swa_full,
            gpu_backend=backend,
        )

    notes = [
        f"keeps free max(1 GiB, 10 %) of RAM ({headroom_bytes(hardware.ram_total_bytes) // MiB}"
        " MiB)"
    ]
    if gpu_budget is None and hardware.gpu_offload and hardware.gpus:
        notes.append("GPU memory unknown: judged for the CPU only")
    gpu_total = hardware.gpu_total_bytes
    if gpu_budget is not None and gpu_total is not None:
        notes.append(
            f"keeps free max(1 GiB, 10 %) of GPU memory ({headroom_bytes(gpu_total) // MiB} MiB)"
        )

    if n_gpu_layers is not None:
        layers = n_layer + 1 if n_gpu_layers < 0 else min(n_gpu_layers, n_layer + 1)
        estimate = plan(layers if gpu_budget is not None else 0)
        if not _fits(estimate, ram_budget, gpu_budget, unified):
            verdict = Verdict.DOES_NOT_FIT
        elif estimate.n_gpu_layers == n_layer + 1:
            verdict = Verdict.FITS_GPU
        elif estimate.n_gpu_layers:
            verdict = Verdict.PARTIAL_OFFLOAD
        else:
            verdict = Verdict.CPU_ONLY
        return _result(verdict, estimate, ram_budget, gpu_budget, unified, notes)

    if gpu_budget is not None:
        full = plan(n_layer + 1)
        if _fits(full, ram_budget, gpu_budget, unified):
            return _result(Verdict.FITS_GPU, full, ram_budget, gpu_budget, unified, notes)
        # GPU memory grows with every offloaded layer (and RAM shrinks), so the most layers
        # the GPU holds are found by bisection over 1..n_layer; RAM is checked for that plan,
        # the one that needs the least of it.
        low, high, best = 1, n_layer, None
        while low <= high:
            middle = (low + high) // 2
            candidate = plan(middle)
            if candidate.gpu_total <= gpu_budget:
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        if (
            best is not None
            and best.n_gpu_layers > 1
            and _fits(best, ram_budget, gpu_budget, unified)
        ):
            return _result(Verdict.PARTIAL_OFFLOAD, best, ram_budget, gpu_budget, unified, notes)
    cpu = plan(0)
    if _fits(cpu, ram_budget, None, unified):
        return _result(Verdict.CPU_ONLY, cpu, ram_budget, gpu_budget, unified, notes)
    return _result(Verdict.DOES_NOT_FIT, cpu, ram_budget, gpu_budget, unified, notes)


def _result(
    verdict: Verdict,
    estimate: MemoryEstimate,
    ram_budget: int,
    gpu_budget: int | None,
    unified: bool,
    notes: list[str],
) -> FitResult:
    ram_needed = estimate.cpu_total + (estimate.gpu_total if unified else 0)
    vram_needed = estimate.gpu_total

    def gib(n: int) -> str:
        return f"{n / GiB:.1f} GiB"

    ram_text = f"{gib(ram_needed)} of RAM ({gib(max(ram_budget, 0))} usable)"
    messages = {
        Verdict.FITS_GPU: f"Runs entirely on the GPU: {gib(vram_needed)} of GPU memory"
        + (f" ({gib(max(gpu_budget or 0, 0))} usable)" if gpu_budget is not None else "")
        + f" and {gib(ram_needed)} of RAM.",
        Verdict.PARTIAL_OFFLOAD: f"Runs with {estimate.n_gpu_layers - 1} of {estimate.n_layer} "
        f"layers on the GPU ({gib(vram_needed)}) and the rest on the CPU, {ram_text}; "
        f"slower than fully on the GPU.",
        Verdict.CPU_ONLY: f"Runs on the CPU: needs {ram_text}.",
        Verdict.DOES_NOT_FIT: f"Does not fit: needs {ram_text}"
        + (f" and {gib(vram_needed)} of GPU memory" if vram_needed else "")
        + ". Choose a smaller quantization or a shorter context.",
    }
    return FitResult(
        verdict=verdict,
        n_gpu_layers=estimate.n_gpu_layers,
        estimate=estimate,
        ram_needed=ram_needed,
        ram_budget=ram_budget,
        vram_needed=vram_needed,
        vram_budget=gpu_budget,
        message=messages[verdict],
        assumptions=(*estimate.assumptions, *notes),
    )


def _rank(name: str) -> int:
    level = quant_level(name)
    return level.rank if level is not None else -1


def _nearest_default(names: Sequence[str]) -> str:
    """DEFAULT_QUANT if offered, else the offered level closest to it (the smaller on a tie)."""
    default_rank = _rank(DEFAULT_QUANT)
    for name in names:
        level = quant_level(name)
        if level is not None and level.name == DEFAULT_QUANT:
            return name
    known = [name for name in names if _rank(name) >= 0]
    if not known:
        return names[0]
    return min(known, key=lambda n: (abs(_rank(n) - default_rank), _rank(n)))


def recommend(
    choices: Iterable[tuple[str, int]],
    hardware: Hardware | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
    n_ctx: int | None = 4096,
    kv_type: str = "f16",
    flash_attn: bool = False,
) -> str:
    """The quantization to suggest among one model's choices.

    Args:
        choices: (level name, total file size in bytes) pairs, e.g. `QuantOption`s or
            `(c.quant, c.size)` of a repository's choices.
        hardware: This machine; without it the answer is DEFAULT_QUANT (or the nearest).
        metadata: The model's header (any of its quantizations); without it the KV cache and
            buffers are guessed as 15 % of the file plus 512 MiB.
        n_ctx: Context to plan for (capped at the model's own).

    The rule: where a GPU can hold a choice entirely, the best-quality such choice; else the
    best that runs at all (partially offloaded or on the CPU), but no bigger than
    DEFAULT_QUANT when part of it must run on the CPU beside a GPU, because speed falls with
    every layer left on the CPU. Levels above Q8_0 are chosen only when nothing at or below
    Q8_0 fits: they cost twice the memory for no quality a person can notice. When nothing
    fits, DEFAULT_QUANT (or the nearest offered).
    """
    options = [QuantOption(str(name), int(size)) for name, size in choices]
    if not options:
        return DEFAULT_QUANT
    names = [option.name for option in options]
    if hardware is None:
        return _nearest_default(names)

    q8_rank = _rank("Q8_0")
    default_rank = _rank(DEFAULT_QUANT)
    _ram, gpu_budget, _backend, _unified = _budgets(hardware)
    on_gpu: list[QuantOption] = []
    runs: list[QuantOption] = []
    for option in options:
        verdict = _verdict_for(option, hardware, metadata, n_ctx, kv_type, flash_attn)
        log.debug("%s (%d bytes): %s", option.name, option.size_bytes, verdict)
        if verdict is Verdict.FITS_GPU:
            on_gpu.append(option)
        if verdict is not Verdict.DOES_NOT_FIT:
            runs.append(option)

    def best(candidates: list[QuantOption], ceiling: int) -> str | None:
        if not candidates:
            return None
        capped = [c for c in candidates if _rank(c.name) <= ceiling]
        if capped:
            return max(capped, key=lambda c: (_rank(c.name), -c.size_bytes)).name
        # Only levels above the ceiling fit: the smallest of them.
        return min(candidates, key=lambda c: c.size_bytes).name

    choice = best(on_gpu, q8_rank)
    if choice is None:
        ceiling = default_rank if gpu_budget is not None else q8_rank
        choice = best(runs, ceiling)
    return choice if choice is not None else _nearest_default(names)


def _verdict_for(
    option: QuantOption,
    hardware: Hardware,
    metadata: Mapping[str, Any] | None,
    n_ctx: int | None,
    kv_type: str,
    flash_attn: bool,
) -> Verdict:
    if metadata is not None:
        shape = model_shape(metadata)
        ctx = min(n_ctx, shape.n_ctx_train) if n_ctx and shape.n_ctx_train else n_ctx
        return check_fit(
            metadata,
            hardware,
            file_size=option.size_bytes,
            n_ctx=ctx,
            kv_type=kv_type,
            flash_attn=flash_attn,
        ).verdict
    # No shape: a rough allowance for cache and buffers beside the weights.
    needed = option.size_bytes + option.size_bytes * 15 // 100 + 512 * MiB
    ram_budget, gpu_budget, _backend, unified = _budgets(hardware)
    fits_ram_too = not unified or needed + CPU_PROCESS_OVERHEAD <= ram_budget
    if gpu_budget is not None and needed <= gpu_budget and fits_ram_too:
        return Verdict.FITS_GPU
    if needed + CPU_PROCESS_OVERHEAD <= ram_budget:
        return Verdict.CPU_ONLY
    return Verdict.DOES_NOT_FIT
