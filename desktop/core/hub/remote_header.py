"""Read a remote GGUF's header without downloading the file, with HTTP Range requests.

The fit estimate needs the model's shape (layers, KV heads, head size) before anyone spends an
hour downloading it. The header is at the front of the file; reading it costs a few MiB at most
(the tokenizer vocabulary dominates). Only the blocks the parser actually reads are fetched.
ModelScope's SDK offers no ranged reads, so one small reader serves both hubs.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

from desktop.core.errors import HubError, HubUnreachable
from desktop.core.units import MiB

if TYPE_CHECKING:
    # Imported where a header is read: the server imports this module at start, and httpx
    # with what it loads for its own command line is 5 MiB of an idle server's memory.
    import httpx

log = logging.getLogger("xindesk.hub")

BLOCK = MiB
MAX_HEADER = 64 * MiB


class RangeFile(io.RawIOBase):
    """A read-only file over HTTP: each read becomes a `Range` request of at least `BLOCK`."""

    def __init__(self, client: httpx.Client, url: str, headers: dict[str, str]) -> None:
        super().__init__()
        self._client = client
        self._url = url
        self._headers = headers
        self._pos = 0
        self._fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            raise io.UnsupportedOperation("the remote size is not needed, so not known")
        return self._pos

    def readinto(self, buffer: Any) -> int:
        import httpx

        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        if self._fetched + len(view) > MAX_HEADER:
            raise HubError(f"The GGUF header of {self._url} is larger than {MAX_HEADER} bytes.")
        end = self._pos + len(view) - 1
        headers = {**self._headers, "Range": f"bytes={self._pos}-{end}"}
        want = len(view)
        data = b""
        try:
            with self._client.stream("GET", self._url, headers=headers) as response:
                if response.status_code == 416:
                    return 0
                if response.status_code not in (200, 206):
                    raise HubError(f"{self._url} answered HTTP {response.status_code}.")
                # A server that ignores Range sends the whole file from byte 0: skip to our
                # offset and stop reading once we have our part, never the whole file.
                skip = self._pos if response.status_code == 200 else 0
                for chunk in response.iter_bytes():
                    if skip:
                        dropped = min(skip, len(chunk))
                        chunk, skip = chunk[dropped:], skip - dropped
                    data += chunk
                    if len(data) >= want:
                        break
        except httpx.TransportError as exc:
            raise HubUnreachable(f"Cannot read {self._url}: {exc}") from exc
        data = data[:want]
        view[: len(data)] = data
        self._pos += len(data)
        self._fetched += len(data)
        return len(data)


def read_remote_metadata(
    url: str, headers: dict[str, str] | None = None, *, timeout: float = 20.0
) -> dict[str, Any]:
    """The GGUF key/value metadata of a remote file (arrays such as the vocabulary skipped)."""
    import httpx

    from desktop.core.memory.gguf_info import read_gguf_metadata_from

    with httpx.Client(follow_redirects=True, timeout=timeout, trust_env=True) as client:
        raw = RangeFile(client, url, dict(headers or {}))
        with io.BufferedReader(raw, buffer_size=BLOCK) as stream:
            metadata = read_gguf_metadata_from(stream)
    log.debug("read the GGUF header of %s", url)
    return metadata
