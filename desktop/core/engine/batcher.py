"""The decode loop: every running request is one sequence of a shared context, and one
`llama_decode` per step advances all of them (continuous batching).

Each step puts the last sampled token of every generating sequence into the batch, then fills
what room is left with prompt tokens of requests still reading their prompt; while others are
generating, a prompt is read in chunks (`prompt_chunk`), so a long prompt delays running
streams by one chunk per step instead of stalling them until it is read. The Python work per
token is a handful of numpy calls on llama.cpp's logits buffer (`engine.sampler`), a cached
token-bytes lookup and the stop-string check; events of a step are handed on together.
"""

from __future__ import annotations

import ctypes
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop.core.engine.answers import AnswerShape
from desktop.core.engine.sampler import GrammarGate, SamplingParams, TokenSampler
from desktop.core.engine.slots import Slot, SlotPool
from desktop.core.engine.textstream import TextStream
from desktop.core.errors import InvalidRequest

if TYPE_CHECKING:
    from desktop.core.engine.textmodel import TextModel

log = logging.getLogger("xindesk.engine")

# (request id, event kind, payload)
RequestEvent = tuple[str, str, dict[str, Any]]
Emit = Callable[[list[RequestEvent]], None]


@dataclass
class Job:
    """A generation request, prepared: prompt tokens and how to sample and shape the answer."""

    rid: str
    tokens: list[int]
    sampling: SamplingParams
    answer: AnswerShape
    stops: list[str] = field(default_factory=list)
    stop_ids: frozenset[int] = frozenset()
    max_tokens: int | None = None
    special: bool = False
    grammar: GrammarGate | None = None
    # Report the generated token ids in `done` (the correctness tests compare them).
    token_ids: bool = False


@dataclass
class _Running:
    job: Job
    slot: Slot
    sampler: TokenSampler
    text: TextStream
    limit: int
    reused: int
    prompt_done: int
    produced: int = 0
    next_token: int | None = None
    generated: list[int] = field(default_factory=list)


class _Batch:
    """A `llama_batch` whose arrays are numpy arrays, so prompt chunks are copied in with
    slice assignments instead of a ctypes call per field per token."""

    def __init__(self, capacity: int) -> None:
        import llama_cpp

        self.capacity = capacity
        self.token = np.zeros(capacity, dtype=np.int32)
        self.pos = np.zeros(capacity, dtype=np.int32)
        self.n_seq_id = np.ones(capacity, dtype=np.int32)
        self.seq = np.zeros(capacity, dtype=np.int32)
        self.logits = np.zeros(capacity, dtype=np.int8)
        int_p = ctypes.POINTER(ctypes.c_int32)
        base = self.seq.ctypes.data
        self._seq_ptrs = (int_p * capacity)(
            *(ctypes.cast(base + 4 * i, int_p) for i in range(capacity))
        )
        self.struct = llama_cpp.llama_batch(
            n_tokens=0,
            token=self.token.ctypes.data_as(int_p),
            embd=None,
            pos=self.pos.ctypes.data_as(int_p),
            n_seq_id=self.n_seq_id.ctypes.data_as(int_p),
            seq_id=ctypes.cast(self._seq_ptrs, ctypes.POINTER(int_p)),
            logits=self.logits.ctypes.data_as(ctypes.POINTER(ctypes.c_int8)),
        )
        self.n = 0

    def clear(self) -> None:
        self.n = 0

    def add(self, tokens: list[int], start_pos: int, seq_id: int, last_logits: bool) -> None:
        n, k = self.n, len(tokens)
        self.token[n : n + k] = tokens
        self.pos[n : n + k] = np.arange(start_pos, start_pos + k, dtype=np.int32)
        self.seq[n : n + k] = seq_id
        self.logits[n : n + k] = 0
        if last_logits:
            self.logits[n + k - 1] = 1
        self.n = n + k

    def add_one(self, token: int, pos: int, seq_id: int) -> None:
        n = self.n
        self.token[n] = token
        self.pos[n] = pos
        self.seq[n] = seq_id
        self.logits[n] = 1
        self.n = n + 1


class Batcher:
    """Runs the generation requests of one model, all at once."""

    def __init__(self, model: TextModel, emit: Emit, *, prompt_chunk: int | None = None) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.model = model
        self._emit = emit
        self.pool = SlotPool(model)
        self._batch = _Batch(model.n_batch)
        self.prompt_chunk = prompt_chunk or max(32, model.n_batch // 4)
        self._waiting: deque[Job] = deque()
        self._running: dict[str, _Running] = {}
        # Prompt tokens decoded since start (the tests read it to see a prefix reused).
        self.prompt_tokens_evaluated = 0

    @property
    def idle(self) -> bool:
        return not self._waiting and not self._running

    @property
    def active(self) -> int:
        return len(self._running)

    def submit(self, job: Job) -> None:
        if not job.tokens:
            raise InvalidRequest("The prompt is empty.")
        self._waiting.append(job)

    def cancel(self, rid: str) -> None:
        """Forget a request at once; its slot is free for the next step."""
        for job in list(self._waiting):
            if job.rid == rid:
                self._waiting.remove(job)
                _close(job)
        seq = self._running.pop(rid, None)
        if seq is not None:
            self.pool.release(seq.slot)
            _close(seq.job)

    # -- one step --------------------------------------------------------------------------------

    def step(self) -> None:
        """Admit waiting requests, decode one batch, sample, and hand on the events."""
        events: list[RequestEvent] = []
        self._admit(events)
        if self._running:
            self._decode_step(events)
        if events:
            self._emit(events)

    def _admit(self, events: list[RequestEvent]) -> None:
        while self._waiting and self.pool.free:
            job = self._waiting.popleft()
            limit = self.model.n_ctx() - len(job.tokens)
            if job.max_tokens is not None and job.max_tokens > 0:
                limit = min(limit, job.max_tokens)
            if limit <= 0:
                events.extend(self._finish_events(job, 0, 0, "length", []))
                _close(job)
                continue
            acquired = self.pool.acquire(job.tokens)
            assert acquired is not None
            slot, reused = acquired
            self._running[job.rid] = _Running(
                job=job,
                slot=slot,
                sampler=TokenSampler(job.sampling, job.grammar),
                text=TextStream(job.stops),
                limit=limit,
                reused=reused,
                prompt_done=reused,
            )

    def _decode_step(self, events: list[RequestEvent]) -> None:
        batch = self._batch
        batch.clear()
        # In sequence-id order: with one KV stream per sequence, llama.cpp splits a batch into
        # micro-batches of consecutive sequence ids, so out-of-order ids cost one graph
        # computation each (measured: a step of 4 tokens took 1.6x as long).
        running = sorted(self._running.values(), key=lambda seq: seq.slot.seq_id)
        generating = sum(seq.next_token is not None for seq in running)
        room = batch.capacity - generating
        if generating:
            room = min(room, self.prompt_chunk)
        outputs: list[_Running] = []
        chunks: list[tuple[_Running, list[int]]] = []
        for seq in running:
            if seq.next_token is not None:
                batch.add_one(seq.next_token, len(seq.slot.tokens), seq.slot.seq_id)
                outputs.append(seq)
                continue
            if room <= 0:
                continue
            todo = seq.job.tokens[seq.prompt_done :]
            chunk = todo[:room]
            last = len(chunk) == len(todo)
            batch.add(chunk, seq.prompt_done, seq.slot.seq_id, last)
            chunks.append((seq, chunk))
            room -= len(chunk)
            if last:
                outputs.append(seq)
        if batch.n == 0:
            return
        batch.struct.n_tokens = batch.n
        code = self._lib.llama_decode(self.model.ctx, batch.struct)
        if code != 0:
            self._fail_batch(code, outputs, [seq for seq, _ in chunks], events)
            return
        # What each sequence's cells now hold.
        for seq in outputs:
            if seq.next_token is not None:
                seq.slot.tokens.append(seq.next_token)
        for seq, chunk in chunks:
            seq.slot.tokens.extend(chunk)
            seq.prompt_done += len(chunk)
            self.prompt_tokens_evaluated += len(chunk)
        if not outputs:
            return
        logits = np.ctypeslib.as_array(
            self._lib.llama_get_logits(self.model.ctx), shape=(len(outputs), self.model.n_vocab)
        )
        for row, seq in enumerate(outputs):
            token = seq.sampler.sample(logits[row])
            self._take(seq, token, events)

    def _take(self, seq: _Running, token: int, events: list[RequestEvent]) -> None:
        job = seq.job
        model = self.model
        if model.is_eog(token) or token in job.stop_ids:
            self._finish(seq, "stop", events)
            return
        seq.sampler.accept(token)
        seq.produced += 1
        seq.generated.append(token)
        text = seq.text.feed(model.piece(token, job.special))
        if text:
            events.extend((job.rid, kind, payload) for kind, payload in job.answer.feed(text))
        if seq.text.stopped:
            self._finish(seq, "stop", events)
        elif seq.produced >= seq.limit:
            self._finish(seq, "length", events)
        else:
            seq.next_token = token

    def _finish(self, seq: _Running, reason: str, events: list[RequestEvent]) -> None:
        job = seq.job
        rest = seq.text.finish()
        if rest:
            events.extend((job.rid, kind, payload) for kind, payload in job.answer.feed(rest))
        events.extend(self._finish_events(job, seq.produced, seq.reused, reason, seq.generated))
        self._running.pop(job.rid, None)
        self.pool.release(seq.slot)
        _close(job)

    @staticmethod
    def _finish_events(
        job: Job, produced: int, reused: int, reason: str, generated: list[int]
    ) -> list[RequestEvent]:
        prompt = len(job.tokens)
        done: dict[str, Any] = {
            "finish_reason": reason,
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": produced,
                "total_tokens": prompt + produced,
                # OpenAI's field for prompt tokens served from cache instead of evaluated.
                "prompt_tokens_details": {"cached_tokens": reused},
            },
        }
        if job.token_ids:
            done["token_ids"] = list(generated)
        try:
            shaped = job.answer.finish(done)
        except InvalidRequest as exc:
            return [(job.rid, "error", {"message": str(exc), "invalid": True})]
        except ValueError as exc:
            return [(job.rid, "error", {"message": f"ValueError: {exc}", "invalid": False})]
        return [(job.rid, kind, payload) for kind, payload in shaped]

    def _fail_batch(
        self,
        code: int,
        outputs: list[_Running],
        prompting: list[_Running],
        events: list[RequestEvent],
    ) -> None:
        """llama_decode refused the batch: end the requests in it with an error and forget
        what their slots held (the cells' state is unknown)."""
        message = f"llama_decode failed (code {code}) on a batch of {self._batch.n} tokens."
        log.error(message)
        for seq in {id(s): s for s in [*outputs, *prompting]}.values():
            events.append((seq.job.rid, "error", {"message": message, "invalid": False}))
            self._lib.llama_memory_seq_rm(self.model.memory, seq.slot.seq_id, -1, -1)
            seq.slot.tokens = []
            self._running.pop(seq.job.rid, None)
            self.pool.release(seq.slot)
            _close(seq.job)

    def abort_all(self, message: str) -> None:
        """End every request with an error and forget the cells of their slots."""
        events: list[RequestEvent] = []
        for job in self._waiting:
            events.append((job.rid, "error", {"message": message, "invalid": False}))
        for seq in self._running.values():
            events.append((seq.job.rid, "error", {"message": message, "invalid": False}))
            self._lib.llama_memory_seq_rm(self.model.memory, seq.slot.seq_id, -1, -1)
            seq.slot.tokens = []
            self.pool.release(seq.slot)
        self.close()
        if events:
            self._emit(events)

    def close(self) -> None:
        for job in self._waiting:
            _close(job)
        for seq in self._running.values():
            _close(seq.job)
        self._waiting.clear()
        self._running.clear()


def _close(job: Job) -> None:
    if job.grammar is not None:
        job.grammar.close()
