"""The GGUF files of a repository, grouped into the quantization choices a person picks from.

A repository lists files; a person picks "Q4_K_M". Between the two: split files
(`…-00001-of-00003.gguf`, which only work with every part), files in folders (big quantizations
often sit in `Q8_0/`), vision projectors (`mmproj-*.gguf`, which go with a model and are never a
model of their own), two files of one level (Unsloth's `Q4_K_M` beside `UD-Q4_K_M`), and files
whose level cannot be told. The level names come from `desktop.core.memory.quant`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from desktop.core.hub.remote import RemoteFile
from desktop.core.memory.quant import quant_from_filename, sort_key
from desktop.core.store.splits import split_match

__all__ = ["QuantChoice", "RepoGGUFs", "group_gguf_files", "is_projector", "split_part"]


@dataclass(frozen=True)
class QuantChoice:
    """One downloadable model file (or set of split parts) at one quantization level.

    Attributes:
        quant: Canonical level name ("Q4_K_M"), from `desktop.core.memory.quant`.
        files: The file, or the parts of a split file in order 1..N (only those listed).
        size: Bytes of all listed files together.
        complete: True when every part of a split file is listed (always for a single file).
        folder: The folder the files sit in, None at the top of the repository.
        parts: How many parts the file names say there are (1 for a single file).
    """

    quant: str
    files: tuple[RemoteFile, ...]
    size: int
    complete: bool
    folder: str | None
    parts: int = 1

    @property
    def path(self) -> str:
        """The file llama.cpp opens: the single file, or the first part of a split one."""
        return self.files[0].path

    @property
    def label(self) -> str:
        """The file name without folder, part numbers or `.gguf` ("gemma-3-4b-it-UD-Q4_K_XL"),
        which tells two choices of one level apart."""
        name = _basename(self.files[0].path)
        split = split_match(name)
        if split is not None:
            return split[0]
        return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name

    @property
    def missing_parts(self) -> tuple[int, ...]:
        """Part numbers (1-based) the listing lacks; empty when complete."""
        present = {_part_number(f.path) for f in self.files}
        return tuple(n for n in range(1, self.parts + 1) if n not in present)


@dataclass(frozen=True)
class RepoGGUFs:
    """A repository's GGUF files, sorted out.

    Attributes:
        choices: Model files per quantization level, best quality first.
        projectors: Vision projectors (`mmproj`), to download with a model for image input.
        unknown: GGUF files whose level the name does not tell.
    """

    choices: list[QuantChoice] = field(default_factory=list)
    projectors: list[RemoteFile] = field(default_factory=list)
    unknown: list[RemoteFile] = field(default_factory=list)

    @property
    def quants(self) -> list[str]:
        """The levels on offer, best first, each once."""
        return list(dict.fromkeys(choice.quant for choice in self.choices))

    def find(self, quant: str) -> list[QuantChoice]:
        """The choices for a level asked as a person or a catalog writes it ("q4_k_m",
        "UD-Q4_K_XL"), the best match first: complete ones, then those whose file name holds
        the text as written, then the shortest name (the plain file before its variants)."""
        wanted = quant_from_filename(quant)
        if wanted is None:
            wanted = quant.strip().upper()
        text = quant.strip().lower()
        matches = [choice for choice in self.choices if choice.quant == wanted]
        return sorted(
            matches,
            key=lambda c: (not c.complete, text not in c.label.lower(), len(c.label), c.path),
        )


def split_part(path: str) -> tuple[int, int] | None:
    """(part, of) for a split GGUF file name such as "x-00002-of-00003.gguf", else None."""
    split = split_match(_basename(path))
    if split is None:
        return None
    return split[1], split[2]


def is_projector(path: str) -> bool:
    """Whether a GGUF file is a vision projector (llama.cpp's `mmproj` files)."""
    return "mmproj" in _basename(path).lower()


def group_gguf_files(files: Iterable[RemoteFile]) -> RepoGGUFs:
    """Sort a repository listing into quantization choices, projectors and unknown files.

    Files other than `.gguf` are ignored. Split parts group by folder, name stem and part count,
    so two different split sets never merge, and a set missing a part is kept but marked
    incomplete rather than dropped: the person should see that it exists and why it cannot be
    used.
    """
    groups: dict[tuple[str | None, str, int], list[RemoteFile]] = {}
    projectors: list[RemoteFile] = []
    unknown: list[RemoteFile] = []
    for file in files:
        if not file.path.lower().endswith(".gguf"):
            continue
        if is_projector(file.path):
            projectors.append(file)
            continue
        folder = _folder(file.path)
        name = _basename(file.path)
        split = split_match(name)
        key = (folder, split[0], split[2]) if split is not None else (folder, name, 1)
        groups.setdefault(key, []).append(file)

    choices: list[QuantChoice] = []
    for (folder, _stem, total), members in groups.items():
        members.sort(key=lambda f: _part_number(f.path))
        quant = _quant_of(members[0].path)
        if quant is None:
            unknown.extend(members)
            continue
        present = {_part_number(f.path) for f in members}
        choices.append(
            QuantChoice(
                quant=quant,
                files=tuple(members),
                size=sum(f.size for f in members),
                complete=present == set(range(1, total + 1)),
                folder=folder,
                parts=total,
            )
        )
    choices.sort(key=lambda c: (sort_key(c.quant), not c.complete, c.label.lower(), c.path))
    projectors.sort(key=lambda f: (sort_key(quant_from_filename(_basename(f.path)) or ""), f.path))
    unknown.sort(key=lambda f: f.path)
    return RepoGGUFs(choices=choices, projectors=projectors, unknown=unknown)


def _part_number(path: str) -> int:
    """The part number of a split file, 1 for a single file."""
    split = split_part(path)
    return split[0] if split is not None else 1


def _quant_of(path: str) -> str | None:
    """The level in the file name, else in the folder names ("Q4_K_M/model-00001-of-00002")."""
    return quant_from_filename(_basename(path)) or quant_from_filename(path)


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _folder(path: str) -> str | None:
    head, sep, _ = path.rpartition("/")
    return head if sep else None
