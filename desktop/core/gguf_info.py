"""Facts from a GGUF file's header, and the check that a path really is a GGUF file.

Reading the header needs no llama.cpp: the `gguf` package parses it (memory-mapped), so the
server can refuse a wrong file with a clear message before any worker process starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core.errors import NotAGGUF

GGUF_MAGIC = b"GGUF"


def check_gguf_file(path: str | Path) -> Path:
    """Return the resolved path, or raise `NotAGGUF` saying what is wrong with it."""
    file = Path(path).expanduser()
    if not file.exists():
        raise NotAGGUF(f"No file at {file}. Check the path (model_path must name a .gguf file).")
    if file.is_dir():
        ggufs = sorted(p.name for p in file.glob("*.gguf"))
        hint = f" It holds: {', '.join(ggufs[:5])}." if ggufs else " It holds no .gguf files."
        raise NotAGGUF(f"{file} is a folder; model_path must name the .gguf file itself.{hint}")
    try:
        with file.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise NotAGGUF(f"Cannot read {file}: {exc}") from exc
    if magic != GGUF_MAGIC:
        raise NotAGGUF(
            f"{file} is not a GGUF file (it does not start with the GGUF signature). XinDesk runs "
            f"GGUF models; convert other formats with llama.cpp's convert_hf_to_gguf.py."
        )
    return file.resolve()


@dataclass(frozen=True)
class GGUFInfo:
    """The header facts XinDesk uses."""

    architecture: str
    name: str | None
    context_length: int | None
    block_count: int | None
    embedding_length: int | None
    pooling_type: int | None
    has_chat_template: bool
    file_type: int | None


def _field_value(reader: Any, key: str) -> Any:
    field = reader.fields.get(key)
    if field is None:
        return None
    return field.contents()


def read_gguf_info(path: str | Path) -> GGUFInfo:
    """Parse the header of a GGUF file (`NotAGGUF` if it is not one or is damaged)."""
    from gguf import GGUFReader

    file = check_gguf_file(path)
    try:
        reader = GGUFReader(file, "r")
    except (ValueError, OSError, IndexError) as exc:
        raise NotAGGUF(f"{file} is a damaged or truncated GGUF file: {exc}") from exc
    arch = str(_field_value(reader, "general.architecture") or "")

    def arch_int(suffix: str) -> int | None:
        value = _field_value(reader, f"{arch}.{suffix}")
        return int(value) if value is not None else None

    name = _field_value(reader, "general.name")
    file_type = _field_value(reader, "general.file_type")
    return GGUFInfo(
        architecture=arch,
        name=str(name) if name is not None else None,
        context_length=arch_int("context_length"),
        block_count=arch_int("block_count"),
        embedding_length=arch_int("embedding_length"),
        pooling_type=arch_int("pooling_type"),
        has_chat_template="tokenizer.chat_template" in reader.fields,
        file_type=int(file_type) if file_type is not None else None,
    )
