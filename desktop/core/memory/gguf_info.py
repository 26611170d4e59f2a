"""Facts from a GGUF file's header, and the check that a path really is a GGUF file.

Reading the header needs no llama.cpp, so the server can refuse a wrong file with a clear
message before any worker process starts.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from desktop.core.errors import GGUFHeaderIncomplete, GGUFTruncated, NotAGGUF
from desktop.core.safepaths import FileProbe, regular_file, user_path

GGUF_MAGIC = b"GGUF"
# No key or value in a real header comes near this (chat templates are tens of KiB).
MAX_STRING = 64 * 1024 * 1024


def check_given_gguf(raw: str, *, what: str) -> Path:
    """The GGUF file a request names by path (`model_path`, `draft_model_path`), checked
    (`check_gguf_file`); a path no system could look up, or one the system refuses to look
    at, is `NotAGGUF` naming `what`, never an `OSError` that reaches a 500."""
    path = user_path(raw, what=what)
    try:
        return check_gguf_file(path, what=what)
    except OSError as exc:
        raise NotAGGUF(f"{what} cannot name a file: {exc.strerror or exc}.") from exc


def check_gguf_file(
    path: str | Path, *, what: str = "model_path", probe: FileProbe | None = None
) -> Path:
    """Return the resolved path, or raise `NotAGGUF` saying what is wrong with it.

    Only a regular file is opened (a named pipe would block the open, a device or a folder is
    no model), and a message never lists what a folder holds. With `probe`, the look at the
    path is bounded in time (`PathTimeout` when a network mount stops answering).
    """
    file = Path(path).expanduser()
    if probe is not None:
        probe.regular_file(file, what=what)
    else:
        regular_file(file, what=what)
    try:
        with file.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise NotAGGUF(f"Cannot read {file}: {exc.strerror or exc}") from exc
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

#: Numeric and bool arrays up to this many items are kept as lists: per-layer hyperparameters
#: (head_count_kv, sliding_window_pattern, feed_forward_length) are such arrays. Longer ones
#: (token types, scores, merges) are skipped like string arrays.
MAX_KEPT_ARRAY = 4096

#: Reserved key of `read_gguf_metadata*` results: {array key: item count} for every array,
#: kept or skipped. The vocabulary size is the length of "tokenizer.ggml.tokens".
ARRAY_LENGTHS_KEY = "__array_lengths__"
#: Reserved key: the tensors the header describes, a tuple of `GGUFTensorInfo`.
TENSORS_KEY = "__tensors__"
#: Reserved key: where tensor data starts (header size, with alignment padding), in bytes.
DATA_OFFSET_KEY = "__data_offset__"

# ggml types: (elements per block, bytes per block), as ggml.c's type traits.
GGML_BLOCK_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 40),  # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K
    15: (256, 292),  # Q8_K
    16: (256, 66),  # IQ2_XXS
    17: (256, 74),  # IQ2_XS
    18: (256, 98),  # IQ3_XXS
    19: (256, 50),  # IQ1_S
    20: (32, 18),  # IQ4_NL
    21: (256, 110),  # IQ3_S
    22: (256, 82),  # IQ2_S
    23: (256, 136),  # IQ4_XS
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    29: (256, 56),  # IQ1_M
    30: (1, 2),  # BF16
    34: (256, 54),  # TQ1_0
    35: (256, 66),  # TQ2_0
    39: (32, 17),  # MXFP4
    40: (64, 36),  # NVFP4
    41: (128, 18),  # Q1_0
}
#: ggml type numbers by name, for the types fit.py reasons about.
GGML_TYPES: dict[str, int] = {
    "F32": 0,
    "F16": 1,
    "Q4_0": 2,
    "Q4_1": 3,
    "Q5_0": 6,
    "Q5_1": 7,
    "Q8_0": 8,
    "Q4_K": 12,
    "IQ4_NL": 20,
    "BF16": 30,
}

_DEFAULT_ALIGNMENT = 32
# Bytes skipped per read when the stream cannot seek.
_SKIP_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class GGUFTensorInfo:
    """One tensor as the header describes it.

    Attributes:
        name: e.g. "blk.3.attn_k.weight".
        ggml_type: ggml type number (0 = F32, 12 = Q4_K, ...).
        shape: Dimensions, innermost first, as ggml counts them (ne0, ne1, ...).
        offset: Where its data starts, relative to the start of tensor data.
        n_bytes: Size of its data; None for a ggml type this reader does not know.
    """

    name: str
    ggml_type: int
    shape: tuple[int, ...]
    offset: int
    n_bytes: int | None


def ggml_nbytes(ggml_type: int, shape: tuple[int, ...]) -> int | None:
    """Bytes a tensor of this type and shape occupies, None for an unknown type."""
    sizes = GGML_BLOCK_SIZES.get(ggml_type)
    if sizes is None:
        return None
    block, type_size = sizes
    n = 1
    for dim in shape:
        n *= dim
    return n // block * type_size


class _HeaderReader:
    """Sequential reads over a binary stream, counting bytes and honouring a limit."""

    def __init__(self, stream: BinaryIO, max_bytes: int | None) -> None:
        self._stream = stream
        self._max = max_bytes
        self.pos = 0
        try:
            self._seekable = bool(stream.seekable())
        except (AttributeError, OSError):
            self._seekable = False

    def _check(self, size: int) -> None:
        if self._max is not None and self.pos + size > self._max:
            raise GGUFHeaderIncomplete(
                f"The GGUF header is larger than the {self._max} bytes allowed (it goes on "
                f"past byte {self.pos + size}); read more of the file.",
                bytes_read=self.pos,
                needed=self.pos + size,
            )

    def _short(self, got: int, size: int) -> GGUFHeaderIncomplete:
        return GGUFHeaderIncomplete(
            f"The stream ended after {self.pos + got} bytes, inside the GGUF header (it "
            f"needs at least {self.pos + size}): the file is truncated, or too little of it "
            f"was read.",
            bytes_read=self.pos + got,
            needed=self.pos + size,
        )

    def read(self, size: int) -> bytes:
        self._check(size)
        data = self._stream.read(size)
        # Raw streams may return fewer bytes than asked without being at the end.
        while len(data) < size:
            more = self._stream.read(size - len(data))
            if not more:
                raise self._short(len(data), size)
            data += more
        self.pos += size
        return data

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        size = self.unpack("<Q")
        if size > MAX_STRING:
            # Garbage posing as a length: reading it would exhaust memory or overflow.
            raise NotAGGUF(
                f"Damaged GGUF header: a {size}-byte string at byte {self.pos}; "
                "the file is not a valid GGUF."
            )
        return self.read(size).decode("utf-8", errors="replace")

    def skip(self, size: int) -> None:
        self._check(size)
        if self._seekable:
            # Seeking lets a ranged remote reader skip the vocabulary without fetching it;
            # reaching past the end shows up at the next read.
            self._stream.seek(size, io.SEEK_CUR)
            self.pos += size
            return
        left = size
        while left:
            chunk = self._stream.read(min(left, _SKIP_CHUNK))
            if not chunk:
                raise self._short(size - left, size)
            left -= len(chunk)
        self.pos += size


def read_gguf_metadata_from(
    stream: BinaryIO, *, max_bytes: int | None = None, tensors: bool = True
) -> dict[str, Any]:
    """Parse a GGUF header from any binary stream positioned at the start of the file.

    The stream can be a local file or a remote one read with HTTP range requests: only the
    header is read, and big arrays (the vocabulary, token scores, merges) are skipped,
    with `seek` when the stream can seek.

    Args:
        stream: Readable binary stream at byte 0 of the GGUF file.
        max_bytes: Read at most this many bytes; a header that goes on further raises
            `GGUFHeaderIncomplete` instead of reading on.
        tensors: Also read the tensor descriptions that follow the key/value pairs.

    Returns:
        The header's key/value pairs. Strings and scalars as Python values; numeric and
        bool arrays of up to `MAX_KEPT_ARRAY` items as lists; other arrays map to None.
        Reserved keys: `ARRAY_LENGTHS_KEY` (item count of every array), and with `tensors`,
        `TENSORS_KEY` (tuple of `GGUFTensorInfo`) and `DATA_OFFSET_KEY`.

    Raises:
        NotAGGUF: The stream is not a GGUF (wrong signature, unsupported version or types).
        GGUFHeaderIncomplete: The stream ends, or `max_bytes` is reached, inside the header.
    """
    reader = _HeaderReader(stream, max_bytes)
    try:
        if reader.read(4) != GGUF_MAGIC:
            raise NotAGGUF("This is not a GGUF file (it does not start with the GGUF signature).")
        version = reader.unpack("<I")
        if version < 2:
            raise NotAGGUF(f"GGUF version {version} is too old for llama.cpp.")
        n_tensors, n_kv = reader.unpack("<Q"), reader.unpack("<Q")
        meta: dict[str, Any] = {}
        lengths: dict[str, int] = {}
        for _ in range(n_kv):
            key = reader.string()
            kind = reader.unpack("<I")
            if kind in _SCALARS:
                meta[key] = reader.unpack(_SCALARS[kind])
            elif kind == _STRING:
                meta[key] = reader.string()
            elif kind == _ARRAY:
                meta[key] = _read_array(reader, key, lengths)
            else:
                raise NotAGGUF(f"Unknown GGUF value type {kind} for {key}.")
        meta[ARRAY_LENGTHS_KEY] = lengths
        if tensors:
            infos = tuple(_read_tensor_info(reader) for _ in range(n_tensors))
            alignment = meta.get("general.alignment", _DEFAULT_ALIGNMENT)
            if not isinstance(alignment, int) or alignment <= 0:
                alignment = _DEFAULT_ALIGNMENT
            meta[TENSORS_KEY] = infos
            meta[DATA_OFFSET_KEY] = -(-reader.pos // alignment) * alignment
    except struct.error as exc:  # pragma: no cover - read() always returns full sizes
        raise NotAGGUF(f"Damaged GGUF header: {exc}") from exc
    return meta


def _read_array(reader: _HeaderReader, key: str, lengths: dict[str, int]) -> list[Any] | None:
    item, count = reader.unpack("<I"), reader.unpack("<Q")
    lengths[key] = count
    if item == _STRING:
        for _ in range(count):
            reader.skip(reader.unpack("<Q"))
        return None
    if item not in _SCALARS:
        raise NotAGGUF(f"Unsupported GGUF array type {item} in {key}.")
    fmt = _SCALARS[item]
    size = struct.calcsize(fmt) * count
    if count > MAX_KEPT_ARRAY:
        reader.skip(size)
        return None
    return list(struct.unpack(f"<{count}{fmt[1:]}", reader.read(size)))


def _read_tensor_info(reader: _HeaderReader) -> GGUFTensorInfo:
    name = reader.string()
    n_dims = reader.unpack("<I")
    if n_dims > 8:
        raise NotAGGUF(f"Tensor {name} claims {n_dims} dimensions; the header is damaged.")
    shape = tuple(int(reader.unpack("<Q")) for _ in range(n_dims))
    ggml_type = reader.unpack("<I")
    offset = reader.unpack("<Q")
    return GGUFTensorInfo(
        name=name,
        ggml_type=ggml_type,
        shape=shape,
        offset=offset,
        n_bytes=ggml_nbytes(ggml_type, shape),
    )


def read_gguf_metadata(path: str | Path, *, tensors: bool = True) -> dict[str, Any]:
    """The header of a GGUF file on disk; see `read_gguf_metadata_from` for the result.

    The `gguf` package's reader also maps every tensor and turns every array (a 262,144-token
    vocabulary, say) into Python objects, which takes about ten seconds for a small model; the
    server reads a header on every launch, so this reads only what XinDesk needs.
    """
    file = check_gguf_file(path)
    try:
        with file.open("rb") as handle:
            return read_gguf_metadata_from(handle, tensors=tensors)
    except NotAGGUF as exc:
        raise NotAGGUF(f"{file} is a damaged or truncated GGUF file: {exc}") from exc
    except OSError as exc:
        raise NotAGGUF(f"Cannot read {file}: {exc}") from exc


def tensor_data_end(meta: dict[str, Any]) -> int | None:
    """Where the last tensor's data ends, in bytes from the start of the file: the least size a
    whole file has. None when the header was read without its tensors, or holds none (a
    vocabulary-only file ends with its header)."""
    tensors: tuple[GGUFTensorInfo, ...] = meta.get(TENSORS_KEY) or ()
    start = meta.get(DATA_OFFSET_KEY)
    if not tensors or not isinstance(start, int):
        return None
    # A tensor of a type this reader does not know counts from its offset: still a bound.
    return start + max(tensor.offset + (tensor.n_bytes or 0) for tensor in tensors)


def read_gguf_info(path: str | Path) -> GGUFInfo:
    """The facts XinDesk uses from a GGUF header.

    Raises:
        NotAGGUF: Not a GGUF, or a damaged one.
        GGUFTruncated: The header is whole but the tensor data it describes goes past the end
            of the file (an interrupted copy or download): llama.cpp would refuse to load it.
    """
    meta = read_gguf_metadata(path, tensors=True)
    file = Path(path).expanduser()
    end = tensor_data_end(meta)
    if end is not None:
        try:
            size = file.stat().st_size
        except OSError as exc:
            raise NotAGGUF(f"Cannot read {file}: {exc.strerror or exc}") from exc
        if size < end:
            raise GGUFTruncated(
                f"{file} is damaged: it is truncated ({size} bytes, and its tensor data goes on "
                f"to byte {end}; {end - size} bytes are missing). Download or copy it again.",
                size=size,
                needed=end,
            )
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
