"""Which chat, embedding and rerank model to suggest first, for this computer.

A knowledge base (FastGPT, Dify) needs all three. For each kind there is a short ladder of
catalog models, best first; the suggestion is the first one that runs well here:

* a rough check from the hardware alone (parameters x bits per weight, plus room for the
  context), instant and offline, shown at once;
* then the server's own fit (`catalog_files` with a context length: the hub's exact files and
  a memory estimate from the model's header), which confirms the pick or moves down the ladder.

"Runs well" means: entirely in GPU memory; or partly on the GPU or on the CPU for the models
that stay pleasant there (a 4B model needs a few cores to answer at reading speed; a 30B one
is only suggested when the GPU holds it whole). Nothing here imports Qt: the Welcome page shows
the result, a test can call it with any machine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from desktop.client import ClientError, XinDeskClient
from desktop.core.memory.quant import DEFAULT_QUANT, quant_from_filename, quant_level
from desktop.core.units import GiB, MiB
from desktop.gui.models.catalog_model import CatalogEntry

FITS_GPU = "fits_gpu"
PARTIAL = "partial_offload"
CPU_ONLY = "cpu_only"


@dataclass(frozen=True)
class StarterCandidate:
    """One rung of a ladder.

    Attributes:
        params_billion: Parameters, for the rough estimate (the catalog has no size for
            embedding and rerank models).
        gpu_only: Suggest only when the whole model fits in GPU memory.
        min_cpu_cores: On the CPU alone, suggest only with this many physical cores.
    """

    model_type: str
    name: str
    size: str | None
    params_billion: float
    gpu_only: bool = False
    min_cpu_cores: int = 0


LADDERS: dict[str, tuple[StarterCandidate, ...]] = {
    "LLM": (
        # A mixture of experts: 30B of knowledge, 3B working per token, fast on a big GPU.
        StarterCandidate("LLM", "Qwen3-Instruct", "30", 30.5, gpu_only=True),
        StarterCandidate("LLM", "Qwen3-Instruct", "4", 4.0, min_cpu_cores=6),
        StarterCandidate("LLM", "gemma-3-1b-it", "1", 1.0),
        StarterCandidate("LLM", "qwen2.5-instruct", "0_5", 0.5),
    ),
    "embedding": (
        # bge-m3 is what FastGPT's own guides use: Chinese and English, 8K tokens.
        StarterCandidate("embedding", "bge-m3", None, 0.57),
        StarterCandidate("embedding", "Qwen3-Embedding-0.6B", None, 0.6),
    ),
    "rerank": (
        StarterCandidate("rerank", "bge-reranker-v2-m3", None, 0.57),
        StarterCandidate("rerank", "Qwen3-Reranker-0.6B", None, 0.6),
    ),
}

# Small models lose more from rounding and cost little memory either way.
_PREFERRED_QUANTS: dict[str, tuple[str, ...]] = {
    "LLM": (DEFAULT_QUANT,),
    "embedding": ("Q8_0", DEFAULT_QUANT),
    "rerank": ("Q8_0", DEFAULT_QUANT),
}


@dataclass(frozen=True)
class Machine:
    """What the rough check needs to know about this computer (from `GET /hardware`)."""

    ram_budget: int
    gpu_budget: int | None
    unified: bool
    cores: int

    @classmethod
    def from_hardware(cls, hardware: dict[str, Any]) -> Machine:
        """Budgets as the server's fit reckons them: keep max(1 GiB, 10 %) free."""
        total = int(hardware.get("ram_total_bytes") or 0)
        available = int(hardware.get("ram_available_bytes") or 0)
        gpu_total = hardware.get("gpu_total_bytes")
        gpu_free = hardware.get("gpu_free_bytes")
        gpu_budget = None
        if hardware.get("gpu_offload") and hardware.get("gpus") and gpu_total and gpu_free:
            gpu_budget = int(gpu_free) - max(GiB, int(gpu_total) // 10)
        cores = hardware.get("cpu_physical_cores") or (hardware.get("cpu_logical_cores") or 2) // 2
        return cls(
            ram_budget=available - max(GiB, total // 10),
            gpu_budget=gpu_budget,
            unified=bool(hardware.get("unified_memory")),
            cores=max(1, int(cores)),
        )


@dataclass(frozen=True)
class StarterPick:
    """The suggestion for one kind of model.

    Attributes:
        quantization: The level to get, in the catalog's spelling.
        download_size: Bytes to download (estimated when `estimated`).
        estimated: Size and fit come from the rough check, not from the hub and the server.
        verdict: The fit verdict ("fits_gpu", "partial_offload", "cpu_only"), None unknown.
        fit: The server's fit of the pick (with its message), None when not checked.
        problem: Why the exact check could not be made (the server's words).
    """

    candidate: StarterCandidate
    quantization: str
    download_size: int | None
    estimated: bool
    verdict: str | None
    fit: dict[str, Any] | None = None
    problem: str | None = None

    def launch_body(self) -> dict[str, Any]:
        """The launch request (the uid is the model's name, as Xinference does)."""
        body: dict[str, Any] = {
            "model_uid": self.candidate.name,
            "model_name": self.candidate.name,
            "model_type": self.candidate.model_type,
            "model_engine": "llama.cpp",
            "model_format": "ggufv2",
            "quantization": self.quantization,
        }
        if self.candidate.size is not None:
            body["model_size_in_billions"] = self.candidate.size
        return body


def _runs_well(candidate: StarterCandidate, verdict: str | None, machine: Machine) -> bool:
    if verdict == FITS_GPU:
        return True
    if candidate.gpu_only:
        return False
    if verdict == PARTIAL:
        return True
    if verdict == CPU_ONLY:
        return machine.cores >= candidate.min_cpu_cores
    return False


def _rough_quant(candidate: StarterCandidate, entry: CatalogEntry) -> str:
    offered = entry.quantizations_for(candidate.size)
    for wanted in _PREFERRED_QUANTS[candidate.model_type]:
        for name in offered:
            if name.upper() == wanted:
                return name
    return offered[0] if offered else DEFAULT_QUANT


def _rough_verdict(need: int, machine: Machine) -> str | None:
    fits_ram = need + 128 * MiB <= machine.ram_budget
    on_gpu = machine.gpu_budget is not None and need <= machine.gpu_budget
    if on_gpu and (not machine.unified or fits_ram):
        return FITS_GPU
    if fits_ram:
        return PARTIAL if machine.gpu_budget and not machine.unified else CPU_ONLY
    return None


def rough_pick(
    model_type: str, catalog: dict[str, CatalogEntry], machine: Machine, start: int = 0
) -> tuple[int, StarterPick] | None:
    """The first rung (from `start`) that the rough check says runs well, with its index."""
    ladder = LADDERS[model_type]
    fallback: tuple[int, StarterPick] | None = None
    for index in range(start, len(ladder)):
        candidate = ladder[index]
        entry = catalog.get(candidate.name)
        if entry is None or (candidate.size is not None and candidate.size not in entry.sizes):
            continue
        quant = _rough_quant(candidate, entry)
        level = quant_level(quant_from_filename(quant) or quant)
        bits = level.bits_per_weight if level else 5.0
        file_size = int(candidate.params_billion * 1e9 * bits / 8)
        # Room for the context cache, buffers and the process: a rough 15 % plus 600 MiB.
        verdict = _rough_verdict(file_size * 115 // 100 + 600 * MiB, machine)
        pick = StarterPick(candidate, quant, file_size, estimated=True, verdict=verdict)
        if _runs_well(candidate, verdict, machine):
            return index, pick
        if fallback is None or file_size < (fallback[1].download_size or 0):
            fallback = (index, pick)
    # Nothing runs well: the smallest one, so the person still has something to try.
    return fallback


def checked_pick(
    client: XinDeskClient,
    model_type: str,
    catalog: dict[str, CatalogEntry],
    machine: Machine,
    context_length: int,
) -> StarterPick | None:
    """The rough pick confirmed (or corrected) with the server's fit; blocking, call it off
    the GUI thread. Falls back to the rough pick, saying why, when the hub cannot tell."""
    found = rough_pick(model_type, catalog, machine)
    if found is None:
        return None
    index, rough = found
    while True:
        candidate = LADDERS[model_type][index]
        try:
            answer = client.catalog_files(
                model_type, candidate.name, size=candidate.size, context_length=context_length
            )
        except ClientError as exc:
            return replace(rough, problem=exc.detail)
        specs = answer.get("specs") or []
        chosen = next((row for row in specs if row.get("recommended")), None)
        if chosen is None:
            # No estimate (the header could not be read): the rough level, at its real size.
            same = next(
                (
                    row
                    for row in specs
                    if str(row.get("quantization")).upper() == rough.quantization.upper()
                    and row.get("size") is not None
                ),
                None,
            )
            notes = [s.get("fit_note") for s in answer.get("sizes") or [] if s.get("fit_note")]
            if same is None:
                return replace(rough, problem=notes[0] if notes else None)
            return replace(
                rough,
                download_size=int(same["size"]),
                estimated=False,
                problem=notes[0] if notes else None,
            )
        fit = chosen.get("fit") or {}
        pick = StarterPick(
            candidate=candidate,
            quantization=str(chosen["quantization"]),
            download_size=chosen.get("size"),
            estimated=False,
            verdict=fit.get("verdict"),
            fit=fit or None,
        )
        if _runs_well(candidate, pick.verdict, machine):
            return pick
        following = rough_pick(model_type, catalog, machine, start=index + 1)
        if following is None:
            return pick
        index, rough = following
