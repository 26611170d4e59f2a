"""The server's recent log records in memory, for the GUI's log page and support bundles.

The GUI is a REST client of the server, often in another process (or on another machine), so it
cannot read the server's stderr; it pages through these records by sequence number instead.
Secrets the buffer is told about (the API key, hub tokens) are replaced by "***" before a record
is kept, so no route that shows logs can leak them.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import deque
from dataclasses import dataclass

DEFAULT_CAPACITY = 5000
REDACTED = "***"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One kept record.

    Attributes:
        seq: Position in the stream of every record this buffer kept, from 1, never reused.
        time: When the record was made (epoch seconds).
        levelno: The numeric level, for filtering; `level` is its name.
    """

    seq: int
    time: float
    levelno: int
    level: str
    logger: str
    message: str

    def line(self) -> str:
        return f"{self.time:.3f} {self.level} {self.logger}: {self.message}"


class LogBuffer(logging.Handler):
    """A thread-safe handler that keeps the last `capacity` records, secrets redacted."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._seq = 0
        self._secrets: set[str] = set()
        # One record reaches this handler once per logger it is attached to on the record's
        # way up (uvicorn.error propagates to uvicorn); it is kept only the first time.
        self._seen: weakref.WeakSet[logging.LogRecord] = weakref.WeakSet()
        self._guard = threading.Lock()

    def add_secret(self, value: str | None) -> None:
        """Redact `value` from every record kept from now on (and from `redact`)."""
        if value:
            with self._guard:
                self._secrets.add(value)

    def redact(self, text: str) -> str:
        """`text` with every known secret replaced by "***"."""
        with self._guard:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # The default formatter gives the message with any traceback appended.
            message = self.redact(self.format(record))
        except Exception:  # noqa: BLE001 - a log handler must never raise into the caller
            self.handleError(record)
            return
        with self._guard:
            if record in self._seen:
                return
            self._seen.add(record)
            self._seq += 1
            self._entries.append(
                LogEntry(
                    seq=self._seq,
                    time=record.created,
                    levelno=record.levelno,
                    level=record.levelname,
                    logger=record.name,
                    message=message,
                )
            )

    @property
    def last_seq(self) -> int:
        with self._guard:
            return self._seq

    def records(
        self,
        *,
        after: int = 0,
        level: str | None = None,
        contains: str | None = None,
        limit: int = 500,
    ) -> tuple[list[LogEntry], int]:
        """The oldest `limit` records after `after` that match, and the seq to ask after next.

        That seq is the last record returned when `limit` cut the answer short, else the newest
        seq kept, so a filter that matched nothing still moves the reader on. A seq below
        `after` means the buffer is not the one the reader paged before (the server restarted).
        """
        threshold = logging.getLevelName(level.upper()) if level else logging.NOTSET
        if not isinstance(threshold, int):
            raise ValueError(f"Unknown log level {level!r}")
        needle = contains.lower() if contains else None
        with self._guard:
            entries = [entry for entry in self._entries if entry.seq > after]
            newest = self._seq
        found: list[LogEntry] = []
        for entry in entries:
            if entry.levelno < threshold:
                continue
            if needle is not None and needle not in entry.message.lower():
                continue
            if len(found) == limit:
                return found, found[-1].seq
            found.append(entry)
        return found, newest

    def tail(self, count: int) -> list[LogEntry]:
        """The newest `count` records, oldest first."""
        with self._guard:
            entries = list(self._entries)
        return entries[-count:] if count > 0 else []
