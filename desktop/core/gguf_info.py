"""Facts from a GGUF file's header, and the check that a path really is a GGUF file.

Reading the header needs no llama.cpp, so the server can refuse a wrong file with a clear
message before any worker process starts.
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


# GGUF value types (gguf spec): fixed sizes, and the struct codes of the scalar ones.
_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


def read_gguf_metadata(path: str | Path) -> dict[str, Any]:
    """The header's key/value pairs, with arrays skipped (their keys map to None).

    The `gguf` package's reader also maps every tensor and turns every array (a 262,144-token
    vocabulary, say) into Python objects, which takes about ten seconds for a small model; the
    server reads a header on every launch, so this reads only the scalar facts it needs.
    """
    import struct

    file = check_gguf_file(path)
    meta: dict[str, Any] = {}
    try:
        with file.open("rb") as handle:

            def read(fmt: str) -> Any:
                size = struct.calcsize(fmt)
                data = handle.read(size)
                if len(data) != size:
                    raise EOFError("the file ends inside its header")
                return struct.unpack(fmt, data)[0]

            def read_str() -> str:
                length = read("<Q")
                data = handle.read(length)
                if len(data) != length:
                    raise EOFError("the file ends inside its header")
                return data.decode("utf-8", errors="replace")

            handle.read(4)
            version = read("<I")
            if version < 2:
                raise ValueError(f"GGUF version {version} is too old for llama.cpp")
            _n_tensors, n_kv = read("<Q"), read("<Q")
            for _ in range(n_kv):
                key = read_str()
                kind = read("<I")
                if kind in _SCALARS:
                    meta[key] = read(_SCALARS[kind])
                elif kind == _STRING:
                    meta[key] = read_str()
                elif kind == _ARRAY:
                    item, count = read("<I"), read("<Q")
                    if item == _STRING:
                        for _ in range(count):
                            handle.seek(read("<Q"), 1)
                    elif item in _SCALARS:
                        handle.seek(struct.calcsize(_SCALARS[item]) * count, 1)
                    else:
                        raise ValueError(f"unsupported array type {item} in {key}")
                    meta[key] = None
                else:
                    raise ValueError(f"unknown value type {kind} for {key}")
    except (EOFError, ValueError, OSError, struct.error) as exc:
        raise NotAGGUF(f"{file} is a damaged or truncated GGUF file: {exc}") from exc
    return meta


def read_gguf_info(path: str | Path) -> GGUFInfo:
    """The facts XinDesk uses from a GGUF header (`NotAGGUF` if it is not one or is damaged)."""
    meta = read_gguf_metadata(path)
    arch = str(meta.get("general.architecture") or "")

    def arch_int(suffix: str) -> int | None:
        value = meta.get(f"{arch}.{suffix}")
        return int(value) if isinstance(value, int | float) else None

    name = meta.get("general.name")
    file_type = meta.get("general.file_type")
    return GGUFInfo(
        architecture=arch,
        name=str(name) if name is not None else None,
        context_length=arch_int("context_length"),
        block_count=arch_int("block_count"),
        embedding_length=arch_int("embedding_length"),
        pooling_type=arch_int("pooling_type"),
        has_chat_template="tokenizer.chat_template" in meta,
        file_type=int(file_type) if isinstance(file_type, int) else None,
    )
