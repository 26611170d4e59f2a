"""Responses kept in memory so a request can continue one by `previous_response_id`
(OpenAI's Responses API). Bounded: the oldest are forgotten first; nothing is written to disk.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

#: Responses kept; a conversation older than this many responses cannot be continued.
KEPT_RESPONSES = 256


class Conversations:
    """Each kept response's whole conversation (the chat messages, its answer included)."""

    def __init__(self, limit: int = KEPT_RESPONSES) -> None:
        self._limit = limit
        self._kept: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, response_id: str, messages: list[dict[str, Any]]) -> None:
        with self._lock:
            self._kept[response_id] = messages
            while len(self._kept) > self._limit:
                self._kept.popitem(last=False)

    def get(self, response_id: str) -> list[dict[str, Any]] | None:
        with self._lock:
            found = self._kept.get(response_id)
            return list(found) if found is not None else None
