"""Sequence slots of the shared context, and reuse of a slot's cached prompt prefix.

Each slot is one llama.cpp sequence id with its own KV cells. A finished request leaves its
tokens in its slot; the next request that starts with the same tokens (the next turn of the
same conversation, a repeated system prompt) takes that slot and evaluates only the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.core.engine.textmodel import TextModel

log = logging.getLogger("xindesk.engine")


@dataclass
class Slot:
    """One sequence of the context: the tokens its KV cells hold, positions 0..n-1."""

    seq_id: int
    tokens: list[int] = field(default_factory=list)
    busy: bool = False
    last_used: int = 0


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class SlotPool:
    """All slots of one context."""

    def __init__(self, model: TextModel) -> None:
        self._model = model
        self.slots = [Slot(seq_id=i) for i in range(model.parallel)]
        self._clock = 0

    @property
    def free(self) -> int:
        return sum(not s.busy for s in self.slots)

    @property
    def busy(self) -> int:
        return sum(s.busy for s in self.slots)

    def acquire(self, prompt: list[int]) -> tuple[Slot, int] | None:
        """A free slot for `prompt` and how many of its first tokens are already in the cache
        there; None when every slot is busy."""
        free = [s for s in self.slots if not s.busy]
        if not free:
            return None
        # The longest shared prefix wins; among equals, the least recently used slot, so a
        # conversation's cache survives as long as possible.
        scored = [(common_prefix(s.tokens, prompt), -s.last_used, s) for s in free]
        shared, _age, slot = max(scored, key=lambda item: (item[0], item[1]))
        self._clock += 1
        slot.busy = True
        slot.last_used = self._clock
        # At least one prompt token must be decoded to get the logits for the first answer
        # token, so a fully cached prompt re-reads its last token.
        reuse = min(shared, len(prompt) - 1)
        reuse = self._trim(slot, reuse)
        slot.tokens = slot.tokens[:reuse]
        return slot, reuse

    def _trim(self, slot: Slot, reuse: int) -> int:
        """Drop the slot's cells from `reuse` on; returns how many cells really remain."""
        import llama_cpp

        memory = self._model.memory
        if reuse <= 0:
            llama_cpp.llama_memory_seq_rm(memory, slot.seq_id, -1, -1)
            return 0
        if not llama_cpp.llama_memory_seq_rm(memory, slot.seq_id, reuse, -1):
            # Recurrent and hybrid models cannot cut a sequence short.
            llama_cpp.llama_memory_seq_rm(memory, slot.seq_id, -1, -1)
            return 0
        n_swa = self._model.n_swa
        if n_swa > 0:
            # A sliding-window cache keeps only the last window of a sequence; the prefix is
            # usable only if the window before its end is still all there.
            pos_min = int(llama_cpp.llama_memory_seq_pos_min(memory, slot.seq_id))
            if pos_min > max(0, reuse - n_swa):
                log.debug("slot %d: window cache too short to reuse %d tokens", slot.seq_id, reuse)
                llama_cpp.llama_memory_seq_rm(memory, slot.seq_id, -1, -1)
                return 0
        return reuse

    def release(self, slot: Slot) -> None:
        slot.busy = False
