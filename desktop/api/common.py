"""Names several parts of the contract share, each defined here once: the model types, a served
model's states, the memory-fit verdicts and the states of a download (the hubs are in
desktop.api.hubs)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import Field

#: What a model does: chat or text generation, embeddings, or reranking (Xinference's names).
ModelType = Literal["LLM", "embedding", "rerank"]
MODEL_TYPES: tuple[ModelType, ...] = get_args(ModelType)

#: A model size in billions as Xinference spells it: an int for whole billions, "0_5" for
#: fractions (launch requests may also give a float).
ModelSize = int | float | str

#: Xinference's InstanceInfo statuses; CREATING is a launch still downloading its files. XinDesk
#: answers the first four; a real Xinference (a remote server) also the others.
InstanceStatus = Literal[
    "CREATING", "LOADING", "READY", "ERROR", "UPDATING", "TERMINATING", "TERMINATED"
]

#: An answer that is JSON `null` (Xinference's answer to a deletion, for instance).
Null = Annotated[None, Field(description="Always null.")]


class ModelState(StrEnum):
    """Where a served model is in its life: loading, answering, unloaded (remembered, loaded
    again by the next request that names it), or stopped with an error."""

    LOADING = "loading"
    READY = "ready"
    UNLOADED = "unloaded"
    ERROR = "error"


class Verdict(StrEnum):
    """How a model can run on a machine (the memory fit)."""

    FITS_GPU = "fits_gpu"
    PARTIAL_OFFLOAD = "partial_offload"
    CPU_ONLY = "cpu_only"
    DOES_NOT_FIT = "does_not_fit"


class JobState(StrEnum):
    """Where a download is: queued, running, verifying, or ended (and how)."""

    QUEUED = "queued"
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"
    PAUSED = "paused"
    FAILED = "failed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.DOWNLOADING, JobState.VERIFYING)

    @property
    def finished(self) -> bool:
        return self in (JobState.FAILED, JobState.CANCELLED, JobState.COMPLETED)
