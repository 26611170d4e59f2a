"""Memory fit for every quantization choice of a hub repository, before any download.

All quantizations of a model share its shape, so one header (the smallest file's, read with
Range requests: a few MiB) serves every choice; each is then judged at its own file size.
"""

from __future__ import annotations

from typing import Any

from desktop.core.catalog.files import QuantChoice
from desktop.core.errors import XinDeskError
from desktop.core.hub.remote import RemoteHub
from desktop.core.hub.remote_header import read_remote_metadata
from desktop.core.memory.fit import check_fit, recommend
from desktop.core.memory.hardware import Hardware


def fit_choices(
    remote: RemoteHub,
    repo: str,
    revision: str | None,
    choices: list[QuantChoice],
    n_ctx: int,
    hardware: Hardware,
) -> dict[str, Any]:
    """Fit verdicts for every choice from one header: all quantizations of a model share its
    shape, so only the smallest file's header is read (with Range requests, a few MiB)."""
    complete = [choice for choice in choices if choice.complete]
    options = [(choice.quant, choice.size) for choice in complete]
    if not complete:
        return {
            "verdicts": [None] * len(choices),
            "recommended": None,
            "assumptions": [],
            "note": "No complete GGUF file to judge.",
        }
    smallest = min(complete, key=lambda choice: choice.size)
    try:
        metadata = read_remote_metadata(remote.file_url(repo, smallest.path, revision))
    except (XinDeskError, ValueError, OSError) as exc:
        return {
            "verdicts": [None] * len(choices),
            "recommended": recommend(options, hardware),
            "assumptions": [],
            "note": f"Could not read the model's GGUF header ({exc}); no fit estimate.",
        }
    verdicts: list[dict[str, Any] | None] = []
    assumptions: tuple[str, ...] = ()
    for choice in choices:
        if not choice.complete:
            verdicts.append(None)
            continue
        result = check_fit(metadata, hardware, file_size=choice.size, n_ctx=n_ctx)
        assumptions = result.assumptions
        verdicts.append(
            {
                "verdict": str(result.verdict),
                "n_gpu_layers": result.n_gpu_layers,
                "ram_needed": result.ram_needed,
                "ram_budget": result.ram_budget,
                "vram_needed": result.vram_needed,
                "vram_budget": result.vram_budget,
                "message": result.message,
            }
        )
    return {
        "verdicts": verdicts,
        "recommended": recommend(options, hardware, metadata=metadata, n_ctx=n_ctx),
        "assumptions": list(assumptions),
        "note": None,
    }
