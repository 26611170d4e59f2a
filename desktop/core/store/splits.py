"""Which GGUF files make one model: a single file, or the parts of a split set.

Split GGUFs (`name-00001-of-00003.gguf` ...) are one model whose file to load is the first part,
because that is the file llama.cpp opens; it finds the other parts by name in the same folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

GGUF_SUFFIX = ".gguf"
# llama.cpp's own naming for split files (`llama_split_path`: "%s-%05d-of-%05d.gguf"); it finds
# the parts by this name, so the name, not the header, decides what belongs together.
_SPLIT_RE = re.compile(r"^(?P<prefix>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)


@dataclass(frozen=True)
class FileGroup:
    """The files of one model.

    Attributes:
        first: The file llama.cpp opens (the first part, whether or not it is there).
        parts: The parts on disk, in order.
        count: How many parts the set has (1 for a single file).
        missing: The numbers of the parts that are not on disk.
    """

    first: Path
    parts: tuple[Path, ...]
    count: int
    missing: tuple[int, ...]

    def part_name(self, number: int) -> str:
        """The file name of part `number` of this split set."""
        split = split_match(self.first.name)
        assert split is not None
        return f"{split[0]}-{number:05d}-of-{self.count:05d}{self.first.suffix}"

    def missing_text(self) -> str:
        """ "missing part 2 of 3", "missing parts 2, 3 of 3"."""
        numbers = ", ".join(str(number) for number in self.missing)
        noun = "part" if len(self.missing) == 1 else "parts"
        return f"missing {noun} {numbers} of {self.count}"


def is_gguf_name(name: str) -> bool:
    return name.lower().endswith(GGUF_SUFFIX)


def split_match(name: str) -> tuple[str, int, int] | None:
    """(prefix, part number, part count) of a split part's file name; None for other names."""
    match = _SPLIT_RE.match(name)
    if match is None:
        return None
    number, count = int(match["no"]), int(match["count"])
    if not 1 <= number <= count:
        return None
    return match["prefix"], number, count


def group_files(files: Iterable[Path]) -> list[FileGroup]:
    """Group GGUF files into models: split parts together, everything else alone."""
    singles: list[FileGroup] = []
    splits: dict[tuple[Path, str, int], dict[int, Path]] = {}
    for path in files:
        split = split_match(path.name)
        if split is None:
            singles.append(FileGroup(first=path, parts=(path,), count=1, missing=()))
            continue
        prefix, number, count = split
        splits.setdefault((path.parent, prefix, count), {})[number] = path
    groups = singles
    for (folder, prefix, count), found in splits.items():
        first = found.get(1) or folder / f"{prefix}-{1:05d}-of-{count:05d}{GGUF_SUFFIX}"
        groups.append(
            FileGroup(
                first=first,
                parts=tuple(found[number] for number in sorted(found)),
                count=count,
                missing=tuple(n for n in range(1, count + 1) if n not in found),
            )
        )
    return sorted(groups, key=lambda group: str(group.first))


def group_of(path: Path) -> FileGroup:
    """The model `path` belongs to, looking for the other parts beside it."""
    split = split_match(path.name)
    if split is None:
        present = (path,) if path.is_file() else ()
        return FileGroup(first=path, parts=present, count=1, missing=() if present else (1,))
    prefix, _number, count = split
    suffix = path.name[-len(GGUF_SUFFIX) :]
    names = [f"{prefix}-{n:05d}-of-{count:05d}{suffix}" for n in range(1, count + 1)]
    parts = [path.parent / name for name in names]
    return FileGroup(
        first=parts[0],
        parts=tuple(part for part in parts if part.is_file()),
        count=count,
        missing=tuple(n for n, part in enumerate(parts, start=1) if not part.is_file()),
    )
