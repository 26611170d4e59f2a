"""The imports record (`<data_dir>/imports.json`): local GGUF files registered in place.

Each import is remembered by the path of its first file (the first part of a split set), as the
user gave it: resolving a Hugging Face snapshot link would give a blob named by its hash, and a
split set's parts are found by name.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from desktop.core.fileio import atomic_write_text

log = logging.getLogger("xindesk.store")

#: Where imports are remembered, inside the data folder.
IMPORTS_FILE = "imports.json"
_SCHEMA = 1


class ImportsRecord:
    """Reads and writes `imports.json`; one lock, so two imports at once never lose one another's
    record (the server calls in from several threads)."""

    def __init__(self, data_dir: Path) -> None:
        self.file = data_dir / IMPORTS_FILE
        self._lock = threading.Lock()

    def paths(self) -> list[Path]:
        """The first file of every import, oldest first."""
        with self._lock:
            return [Path(record["path"]) for record in self._load()]

    def add(self, firsts: Iterable[Path]) -> None:
        """Remember these files (those already remembered stay as they are)."""
        with self._lock:
            records = self._load()
            known = {record["path"] for record in records}
            added = [str(first) for first in firsts if str(first) not in known]
            if added:
                now = time.time()
                records.extend({"path": path, "added_at": now} for path in added)
                self._save(records)

    def forget(self, first: Path) -> None:
        with self._lock:
            records = self._load()
            kept = [record for record in records if record["path"] != str(first)]
            if len(kept) != len(records):
                self._save(kept)

    def _load(self) -> list[dict[str, Any]]:
        file = self.file
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            # Keep the damaged file for the user rather than overwrite it on the next import.
            aside = file.with_name(f"{file.name}.damaged-{int(time.time())}")
            log.error("cannot read %s (%s); moved it to %s", file, exc, aside.name)
            with contextlib.suppress(OSError):
                os.replace(file, aside)
            return []
        records = raw.get("imports") if isinstance(raw, dict) else None
        if not isinstance(records, list):
            log.error("%s has no list of imports; ignoring it", file)
            return []
        return [
            record
            for record in records
            if isinstance(record, dict) and isinstance(record.get("path"), str)
        ]

    def _save(self, records: list[dict[str, Any]]) -> None:
        payload = json.dumps(
            {"schema_version": _SCHEMA, "imports": records}, indent=2, ensure_ascii=False
        )
        atomic_write_text(self.file, payload)
