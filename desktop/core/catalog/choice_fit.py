"""Memory fit for every quantization choice of a hub repository, before any download.

All quantizations of a model share its shape, so one header (the smallest file's, read with
Range requests: a few MiB) serves every choice; each is then judged at its own file size.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.catalog.files import QuantChoice
from desktop.core.errors import XinDeskError
from desktop.core.hub.remote import RemoteHub
from desktop.core.hub.remote_header import read_remote_metadata
from desktop.core.memory.fit import FitResult, check_fit, recommend
from desktop.core.memory.hardware import Hardware


@dataclass(frozen=True)
class ChoicesFit:
    """The fit of every choice of one model.

    Attributes:
        verdicts: One per choice, in order; None where it could not be judged (an incomplete
            split set, or no header could be read).
        recommended: The quantization to pick, None when none can be recommended.
        assumptions: What the estimates assumed, in words.
        note: Why there are no verdicts, when there are none.
    """

    verdicts: list[FitResult | None]
    recommended: str | None
    assumptions: tuple[str, ...] = ()
    note: str | None = None


def fit_choices(
    remote: RemoteHub,
    repo: str,
    revision: str | None,
    choices: list[QuantChoice],
    n_ctx: int,
    hardware: Hardware,
) -> ChoicesFit:
    """Fit verdicts for every choice from one header: all quantizations of a model share its
    shape, so only the smallest file's header is read (with Range requests, a few MiB)."""
    complete = [choice for choice in choices if choice.complete]
    options = [(choice.quant, choice.size) for choice in complete]
    if not complete:
        return ChoicesFit([None] * len(choices), None, note="No complete GGUF file to judge.")
    smallest = min(complete, key=lambda choice: choice.size)
    try:
        metadata = read_remote_metadata(remote.file_url(repo, smallest.path, revision))
    except (XinDeskError, ValueError, OSError) as exc:
        return ChoicesFit(
            [None] * len(choices),
            recommend(options, hardware),
            note=f"Could not read the model's GGUF header ({exc}); no fit estimate.",
        )
    verdicts: list[FitResult | None] = []
    assumptions: tuple[str, ...] = ()
    for choice in choices:
        if not choice.complete:
            verdicts.append(None)
            continue
        result = check_fit(metadata, hardware, file_size=choice.size, n_ctx=n_ctx)
        assumptions = result.assumptions
        verdicts.append(result)
    return ChoicesFit(
        verdicts, recommend(options, hardware, metadata=metadata, n_ctx=n_ctx), assumptions
    )
