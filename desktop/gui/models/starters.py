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

from desktop.api.common import ModelType, Verdict
from desktop.api.library import FitVerdict, HardwareView
from desktop.api.xinference import LaunchRequest
from desktop.client import ClientError, XinDeskClient
from desktop.core.memory.quant import DEFAULT_QUANT, quant_from_filename, quant_level
from desktop.core.units import GiB, MiB
from desktop.gui.models.catalog_model import CatalogEntry


@dataclass(frozen=True)
class StarterCandidate:
    """One rung of a ladder.

    Attributes:
        params_billion: Parameters, for the rough estimate (the catalog has no size for
            embedding and rerank models).
        gpu_only: Suggest only when the whole model fits in GPU memory.
        min_cpu_cores: On the CPU alone, suggest only with this many physical cores.
    """

    model_type: ModelType
    name: str
    size: str | None
    params_billion: float
    gpu_only: bool = False
    min_cpu_cores: int = 0


LADDERS: dict[ModelType, tuple[StarterCandidate, ...]] = {
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
_PREFERRED_QUANTS: dict[ModelType, tuple[str, ...]] = {
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
    def from_api(cls, hardware: HardwareView) -> Machine:
        """Budgets as the server's fit reckons them: keep max(1 GiB, 10 %) free."""
        total, available = hardware.ram_total_bytes, hardware.ram_available_bytes
        gpu_total, gpu_free = hardware.gpu_total_bytes, hardware.gpu_free_bytes
        gpu_budget = None
        if hardware.gpu_offload and hardware.gpus and gpu_total and gpu_free:
            gpu_budget = gpu_free - max(GiB, gpu_total // 10)
        cores = hardware.cpu_physical_cores or (hardware.cpu_logical_cores or 2) // 2
        return cls(
            ram_budget=available - max(GiB, total // 10),
            gpu_budget=gpu_budget,
            unified=hardware.unified_memory,
            cores=max(1, cores),
        )


@dataclass(frozen=True)
class StarterPick:
    """The suggestion for one kind of model.

    Attributes:
        quantization: The level to get, in the catalog's spelling.
        download_size: Bytes to download (estimated when `estimated`).
        estimated: Size and fit come from the rough check, not from the hub and the server.
        verdict: The fit verdict, None when unknown.
        fit: The server's fit of the pick (with its message), None when not checked.
        problem: Why the exact check could not be made (the server's words).
    """

    candidate: StarterCandidate
    quantization: str
    download_size: int | None
    estimated: bool
    verdict: Verdict | None
    fit: FitVerdict | None = None
    problem: str | None = None

    def launch_body(self) -> LaunchRequest:
        """The launch request (the uid is the model's name, as Xinference does)."""
        body = LaunchRequest(
            model_uid=self.candidate.name,
            model_name=self.candidate.name,
            model_type=self.candidate.model_type,
            model_engine="llama.cpp",
            model_format="ggufv2",
            quantization=self.quantization,
        )
        if self.candidate.size is not None:
            body.model_size_in_billions = self.candidate.size
        return body


def _runs_well(candidate: StarterCandidate, verdict: Verdict | None, machine: Machine) -> bool:
    if verdict is Verdict.FITS_GPU:
        return True
    if candidate.gpu_only:
        return False
    if verdict is Verdict.PARTIAL_OFFLOAD:
        return True
    if verdict is Verdict.CPU_ONLY:
        return machine.cores >= candidate.min_cpu_cores
    return False


def _rough_quant(candidate: StarterCandidate, entry: CatalogEntry) -> str:
    offered = entry.quantizations_for(candidate.size)
    for wanted in _PREFERRED_QUANTS[candidate.model_type]:
        for name in offered:
            if name.upper() == wanted:
                return name
    return offered[0] if offered else DEFAULT_QUANT


def _rough_verdict(need: int, machine: Machine) -> Verdict | None:
    fits_ram = need + 128 * MiB <= machine.ram_budget
    on_gpu = machine.gpu_budget is not None and need <= machine.gpu_budget
    if on_gpu and (not machine.unified or fits_ram):
        return Verdict.FITS_GPU
    if fits_ram:
        if machine.gpu_budget and not machine.unified:
            return Verdict.PARTIAL_OFFLOAD
        return Verdict.CPU_ONLY
    return None


def rough_pick(
    model_type: ModelType, catalog: dict[str, CatalogEntry], machine: Machine, start: int = 0
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
    model_type: ModelType,
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
        chosen = next((row for row in answer.specs if row.recommended), None)
        if chosen is None:
            # No estimate (the header could not be read): the rough level, at its real size.
            same = next(
                (
                    row
                    for row in answer.specs
                    if row.quantization.upper() == rough.quantization.upper()
                    and row.size is not None
                ),
                None,
            )
            notes = [size.fit_note for size in answer.sizes or [] if size.fit_note]
            problem = notes[0] if notes else None
            if same is None:
                return replace(rough, problem=problem)
            return replace(rough, download_size=same.size, estimated=False, problem=problem)
        pick = StarterPick(
            candidate=candidate,
            quantization=chosen.quantization,
            download_size=chosen.size,
            estimated=False,
            verdict=chosen.fit.verdict if chosen.fit else None,
            fit=chosen.fit,
        )
        if _runs_well(candidate, pick.verdict, machine):
            return pick
        following = rough_pick(model_type, catalog, machine, start=index + 1)
        if following is None:
            return pick
        index, rough = following
