"""A draft model: a small model of the launched model's family that guesses its next tokens.

It has its own context with as many sequences as the launched model, one per slot, and keeps
each in step with the text of the request in that slot: before drafting, the tokens a
sequence took since the last draft (the whole prompt, the first time) are read, and cells of
guesses the launched model did not keep are dropped. Then all drafting sequences advance
together, one `llama_decode` per drafted position, each taking its most likely token (a
deterministic draft, which `engine.batcher`'s check needs to leave the answer unchanged).

Its sliding-window layers keep full-size caches: dropping the cells of wrong guesses is then
safe whatever llama.cpp's micro-batches reused (see `Batcher._plan_drafts`).
Runs only in the model's worker process.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from desktop.core.engine.textmodel import TextModel

log = logging.getLogger("xindesk.engine")


class DraftModel:
    """The draft model's weights and context, and the tokens each sequence's cells hold."""

    def __init__(self, path: str, llama_kwargs: dict[str, Any], parallel: int) -> None:
        kwargs: dict[str, Any] = {
            key: llama_kwargs[key]
            for key in (
                "n_ctx",
                "n_gpu_layers",
                "main_gpu",
                "n_threads",
                "n_threads_batch",
                "flash_attn",
            )
            if key in llama_kwargs
        }
        kwargs["swa_full"] = True
        self.model = TextModel(path, kwargs, parallel)
        self._cells: list[list[int]] = [[] for _ in range(self.model.parallel)]
        from desktop.core.engine.batcher import _Batch

        self._batch = _Batch(self.model.n_batch)
        import llama_cpp

        self._lib = llama_cpp

    @property
    def n_vocab(self) -> int:
        return self.model.n_vocab

    def draft(self, texts: dict[int, list[int]], k: int) -> dict[int, list[int]]:
        """Up to `k` guessed tokens after each sequence's text (by sequence id). A sequence
        whose text does not fit the draft's context gets none."""
        lib, model, batch = self._lib, self.model, self._batch
        n_ctx = model.n_ctx()
        wanted = {seq_id: text for seq_id, text in texts.items() if 0 < len(text) < n_ctx - k}
        if not wanted or k <= 0:
            return {}
        # Catch up: read what each sequence's cells do not hold yet, the last token of each
        # with logits (the rows of the first guesses).
        pending = {seq_id: self._sync(seq_id, text) for seq_id, text in wanted.items()}
        rows: dict[int, int] = {}
        while any(pending.values()):
            batch.clear()
            room = batch.capacity
            order: list[int] = []
            for seq_id in sorted(pending):
                todo = pending[seq_id]
                if not todo or room <= 0:
                    continue
                chunk = todo[:room]
                last = len(chunk) == len(todo)
                cells = self._cells[seq_id]
                batch.add(chunk, len(cells), seq_id, last)
                cells.extend(chunk)
                pending[seq_id] = todo[len(chunk) :]
                room -= len(chunk)
                if last:
                    order.append(seq_id)
            batch.struct.n_tokens = batch.n
            if lib.llama_decode(model.ctx, batch.struct) != 0:
                log.warning("draft model: llama_decode failed; no drafts this step")
                self.reset()
                return {}
            if order:
                logits = np.ctypeslib.as_array(
                    lib.llama_get_logits(model.ctx), shape=(len(order), model.n_vocab)
                )
                for row, seq_id in enumerate(order):
                    rows[seq_id] = int(logits[row].argmax())
        guesses = {seq_id: [token] for seq_id, token in rows.items()}
        live = sorted(guesses)
        for _ in range(k - 1):
            batch.clear()
            for seq_id in live:
                token = guesses[seq_id][-1]
                batch.add_one(token, len(self._cells[seq_id]), seq_id)
                self._cells[seq_id].append(token)
            batch.struct.n_tokens = batch.n
            if lib.llama_decode(model.ctx, batch.struct) != 0:
                log.warning("draft model: llama_decode failed while drafting")
                self.reset()
                return guesses
            logits = np.ctypeslib.as_array(
                lib.llama_get_logits(model.ctx), shape=(len(live), model.n_vocab)
            )
            for row, seq_id in enumerate(live):
                guesses[seq_id].append(int(logits[row].argmax()))
        return guesses

    def _sync(self, seq_id: int, text: list[int]) -> list[int]:
        """Drop the cells that do not hold `text`'s tokens; returns the tokens still to read
        (at least the last one, whose logits give the first guess)."""
        cells = self._cells[seq_id]
        keep = min(_shared_prefix(cells, text), len(text) - 1)
        if keep < len(cells):
            if not self._lib.llama_memory_seq_rm(self.model.memory, seq_id, keep, -1):
                self._lib.llama_memory_seq_rm(self.model.memory, seq_id, -1, -1)
                keep = 0
            del cells[keep:]
        return text[keep:]

    def reset(self) -> None:
        """Forget every sequence's cells (after a failed decode their state is unknown)."""
        for seq_id, cells in enumerate(self._cells):
            self._lib.llama_memory_seq_rm(self.model.memory, seq_id, -1, -1)
            cells.clear()

    def close(self) -> None:
        self.model.close()


def _shared_prefix(a: list[int], b: list[int]) -> int:
    """How many first tokens two texts share, with list comparisons (C speed) instead of a
    loop over a prompt of thousands of tokens every step."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    low, high = 0, n  # a[:low] == b[:low], a[:high] != b[:high]
    while high - low > 1:
        middle = (low + high) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle
    return low
