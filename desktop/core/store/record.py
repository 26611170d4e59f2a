"""One installed model as the store lists it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ModelSource = Literal["download", "import", "hf-cache"]

#: Which copy wins when the same model is reachable in more than one way.
SOURCE_ORDER: dict[ModelSource, int] = {"download": 0, "import": 1, "hf-cache": 2}


@dataclass(frozen=True)
class InstalledModel:
    """One model on disk (a single GGUF file or a whole split set).

    Attributes:
        id: Stable id. Downloads: `<owner>/<repo>/<file>` relative to the models folder
            (the first part for split sets). Imports: `local/<sha1 of the path>[:12]`.
            Hugging Face cache: `hf-cache/<owner>/<repo>/<file>`.
        path: The file to load: the first part of a split set (where it is, or would be
            when it is missing).
        parts: The parts that are on disk, in order (one for a single file).
        size: Bytes of all parts on disk.
        source: How it got here.
        repo_id: `<owner>/<repo>` for downloads and the Hugging Face cache, else None.
        quantization: The level named in the file name (the header's file type otherwise).
        architecture: `general.architecture` from the header, None when unreadable.
        context_length: The trained context length from the header.
        block_count: Layer count from the header.
        is_projector: A vision projector (`mmproj-*`, architecture `clip`), not a model
            that runs on its own.
        complete: Every part is present (always true for a single file that exists).
        problem: What is wrong, in words a person can act on; None when nothing is.
    """

    id: str
    path: Path
    parts: tuple[Path, ...]
    size: int
    source: ModelSource
    repo_id: str | None
    quantization: str | None
    architecture: str | None
    context_length: int | None
    block_count: int | None
    is_projector: bool
    complete: bool
    problem: str | None

    @property
    def usable(self) -> bool:
        """Whole, readable, and a model of its own (not a projector)."""
        return self.complete and self.problem is None and not self.is_projector
