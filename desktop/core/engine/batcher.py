"""The decode loop: every running request is one sequence of a shared context, and one
`llama_decode` per step advances all of them (continuous batching).

Each step puts the last sampled token of every generating sequence into the batch, with the
tokens drafted after it (speculative decoding, `engine.speculative`), and prompt tokens of
requests still reading their prompt; while others are generating, a prompt is read in chunks
(`prompt_chunk`), so a long prompt delays running streams by one chunk per step instead of
stalling them until it is read. The Python work per token is a handful of numpy calls on
llama.cpp's logits buffer (`engine.sampler`), a cached token-bytes lookup and the stop-string
check; events of a step are handed on together.

A sequence's drafted tokens are checked in order: the sampler picks a token from the logits at
each position exactly as it would without drafts (same filters, same random draw), and the
draft is kept while it agrees. The first disagreement is the sequence's next token, and the
cells of the drafted tokens after it are dropped. So greedy output is the argmax at every
position, and sampled output has the sampler's distribution: a drafted token is kept with the
probability the sampler gives it, and when it is not, the token drawn instead follows the
sampler's distribution without it (the standard rejection rule for a deterministic draft).
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop.core.engine.answers import AnswerShape
from desktop.core.engine.sampler import GrammarGate, SamplingParams, TokenSampler
from desktop.core.engine.slots import Slot, SlotPool
from desktop.core.engine.speculative import (
    OFF,
    Drafter,
    DrafterFactory,
    DraftStats,
    NgramIndex,
    SpeculationConfig,
    StepCost,
    plan_drafts,
)
from desktop.core.engine.textstream import TextStream
from desktop.core.errors import InvalidRequest

if TYPE_CHECKING:
    from desktop.core.engine.draftmodel import DraftModel
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
    # Speculation: the sequence's text for lookups, its drafting record, this step's draft.
    index: Drafter | None = None
    drafts: DraftStats = field(default_factory=DraftStats)
    draft: list[int] = field(default_factory=list)
    # Decode steps that gave this sequence tokens, and when its first and last came.
    steps: int = 0
    admitted_at: float = 0.0
    first_at: float | None = None


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

    def add_run(self, tokens: list[int], start_pos: int, seq_id: int) -> None:
        """Tokens of one sequence, with logits for every one of them (a token and its draft)."""
        n, k = self.n, len(tokens)
        self.token[n : n + k] = tokens
        self.pos[n : n + k] = np.arange(start_pos, start_pos + k, dtype=np.int32)
        self.seq[n : n + k] = seq_id
        self.logits[n : n + k] = 1
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

    def __init__(
        self,
        model: TextModel,
        emit: Emit,
        *,
        prompt_chunk: int | None = None,
        speculation: SpeculationConfig | None = None,
        drafter: DrafterFactory = NgramIndex,
        draft_model: DraftModel | None = None,
    ) -> None:
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
        spec = speculation if speculation is not None else SpeculationConfig()
        if spec.enabled and not model.can_rewind:
            log.info("speculative decoding off: this model's memory cannot drop a sequence's tail")
            spec = OFF
        self.speculation = spec
        self._drafter = drafter
        # With a draft model, it guesses instead of the lookup.
        self._draft_model = draft_model if spec.enabled else None
        self.step_cost = StepCost(spec.overhead)
        # Drafted and kept tokens since start, over all requests (the tests read them).
        self.drafted = 0
        self.accepted = 0

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
                index=(
                    self._drafter(job.tokens)
                    if self.speculation.enabled and self._draft_model is None
                    else None
                ),
                admitted_at=time.perf_counter(),
            )

    def _decode_step(self, events: list[RequestEvent]) -> None:
        batch = self._batch
        batch.clear()
        # In sequence-id order: with one KV stream per sequence, llama.cpp splits a batch into
        # micro-batches of consecutive sequence ids, so out-of-order ids cost one graph
        # computation each (measured: a step of 4 tokens took 1.6x as long).
        running = sorted(self._running.values(), key=lambda seq: seq.slot.seq_id)
        generating = [seq for seq in running if seq.next_token is not None]
        # The prompt chunks first: they bound the drafts (see _plan_drafts).
        room = batch.capacity - len(generating)
        if generating:
            room = min(room, self.prompt_chunk)
        chunks: list[tuple[_Running, list[int]]] = []
        for seq in running:
            if seq.next_token is not None or room <= 0:
                continue
            chunk = seq.job.tokens[seq.prompt_done : seq.prompt_done + room]
            chunks.append((seq, chunk))
            room -= len(chunk)
        if generating and self.speculation.enabled:
            self._plan_drafts(generating, [len(chunk) for _, chunk in chunks])
        outputs: list[_Running] = []
        chunk_of = {id(seq): chunk for seq, chunk in chunks}
        for seq in running:
            if seq.next_token is not None:
                position = len(seq.slot.tokens)
                if seq.draft:
                    batch.add_run([seq.next_token, *seq.draft], position, seq.slot.seq_id)
                else:
                    batch.add_one(seq.next_token, position, seq.slot.seq_id)
                outputs.append(seq)
                continue
            found = chunk_of.get(id(seq))
            if found is None:
                continue
            last = seq.prompt_done + len(found) == len(seq.job.tokens)
            batch.add(found, seq.prompt_done, seq.slot.seq_id, last)
            if last:
                outputs.append(seq)
        if batch.n == 0:
            return
        batch.struct.n_tokens = batch.n
        started = time.perf_counter()
        code = self._lib.llama_decode(self.model.ctx, batch.struct)
        if code != 0:
            self._fail_batch(code, outputs, [seq for seq, _ in chunks], events)
            return

        # What each sequence's cells now hold (a draft's cells are counted once checked).
        for seq in outputs:
            if seq.next_token is not None:
                seq.slot.tokens.append(seq.next_token)
        for seq, chunk in chunks:
            seq.slot.tokens.extend(chunk)
            seq.prompt_done += len(chunk)
            self.prompt_tokens_evaluated += len(chunk)
        if not outputs:
            return
        rows = sum(1 + len(seq.draft) for seq in outputs)
        logits = np.ctypeslib.as_array(
            self._lib.llama_get_logits(self.model.ctx), shape=(rows, self.model.n_vocab)
        )
        if not chunks and self.speculation.enabled:
            # A step of generating sequences only, every token with logits; llama_get_logits
            # waits for an asynchronous backend, so this is the step's whole time.
            self.step_cost.observe(batch.n, time.perf_counter() - started)
        row = 0
        for seq in outputs:
            seq.steps += 1
            if seq.next_token is None:
                # The prompt's last token: the answer's first.
                seq.first_at = time.perf_counter()
                self._take(seq, seq.sampler.sample(logits[row]), events)
                row += 1
            else:
                row = self._check_draft(seq, logits, row, events)

    def _plan_drafts(self, generating: list[_Running], chunks: list[int]) -> None:
        """Each generating sequence's draft for this step (`seq.draft`).

        Dropping a wrong guess's cells is safe only if none of a sequence's tokens went into
        a micro-batch after the one that held its drafts: a sliding-window cache reuses the
        cells that the sequence's newest position no longer sees, so a micro-batch placed
        after some drafted positions may overwrite cells that the position the sequence
        falls back to still needs. llama.cpp's split (one KV stream per sequence) takes
        equally many tokens of each sequence of a run of consecutive ids: with every
        drafting sequence at 1 + k tokens, every other generating one at 1, every prompt
        chunk of at least 1 + k tokens, and the whole step in one `n_ubatch`, a drafting
        sequence's tokens are all in the first micro-batch or in the first and the next
        one that holds any of its run.
        """
        spec = self.speculation
        for seq in generating:
            seq.draft = []
        limit = spec.draft_max
        if chunks:
            limit = min(limit, min(chunks) - 1)
        # The step fits one micro-batch even if every sequence drafts.
        room = min(self._batch.capacity, self.model.n_ubatch) - len(generating) - sum(chunks)
        limit = min(limit, room // len(generating))
        if limit <= 0:
            return
        guessing: list[tuple[_Running, list[int]]] = []
        for seq in generating:
            if not seq.drafts.ready():
                continue
            cap = min(limit, seq.limit - seq.produced - 1)
            if cap <= 0:
                continue
            if self._draft_model is not None:
                # The draft model guesses any length; what it guesses is known only after
                # the plan, so the cap stands in for the guess.
                guessing.append((seq, [0] * cap))
            elif seq.index is not None:
                guess = seq.index.propose(cap)
                if guess:
                    guessing.append((seq, guess))
        if not guessing:
            return
        overhead = self.step_cost.overhead
        k, chosen = plan_drafts(
            [seq.drafts.rate for seq, _ in guessing],
            [len(guess) for _, guess in guessing],
            base_tokens=len(generating) + sum(chunks),
            overhead=overhead,
            split_cost=spec.split_cost * overhead / max(spec.overhead, 1e-6),
            everyone=len(guessing) == len(generating) and not chunks,
            position_cost=spec.position_cost if self._draft_model is not None else 0.0,
        )
        drafting: list[tuple[_Running, list[int]]] = []
        for (seq, guess), drafts in zip(guessing, chosen, strict=True):
            if drafts:
                drafting.append((seq, guess))
            elif len(guess) >= max(k, 1) and seq.drafts.skipped():
                # A try of a sequence that stopped drafting, at this step's length.
                drafting.append((seq, guess))
                k = max(k, 1)
        if self._draft_model is not None and drafting:
            texts = {seq.slot.seq_id: seq.job.tokens + seq.generated for seq, _ in drafting}
            found = self._draft_model.draft(texts, k)
            n_vocab = self.model.n_vocab
            drafting = [
                # A padded draft vocabulary may name ids this model does not have.
                (seq, list(itertools.takewhile(lambda t: t < n_vocab, found.get(seq_id, []))))
                for seq, _ in drafting
                for seq_id in (seq.slot.seq_id,)
            ]
        for seq, guess in drafting:
            seq.draft = guess[:k] if len(guess) >= k else []

    def _check_draft(
        self, seq: _Running, logits: np.ndarray[Any, Any], row: int, events: list[RequestEvent]
    ) -> int:
        """Sample the sequence's positions in order, keeping its draft while it agrees;
        returns the next sequence's first row."""
        draft, seq.draft = seq.draft, []
        kept = 0
        for j in range(len(draft) + 1):
            token = seq.sampler.sample(logits[row + j])
            if not self._take(seq, token, events):
                break
            if j < len(draft) and token == draft[j]:
                # Its cell already holds it: the next position's logits are valid too.
                seq.slot.tokens.append(token)
                kept += 1
                continue
            break
        if draft:
            seq.drafts.record(len(draft), kept)
            self.drafted += len(draft)
            self.accepted += kept
            if kept < len(draft) and self._running.get(seq.job.rid) is seq:
                # The cells of the drafted tokens after the first wrong one.
                self._lib.llama_memory_seq_rm(
                    self.model.memory, seq.slot.seq_id, len(seq.slot.tokens), -1
                )
        return row + len(draft) + 1

    def _take(self, seq: _Running, token: int, events: list[RequestEvent]) -> bool:
        """The sequence's next token was chosen: hand on its text, end the sequence if it
        stops here (returns False), else make it the token to decode next."""
        job = seq.job
        model = self.model
        if model.is_eog(token) or token in job.stop_ids:
            self._finish(seq, "stop", events)
            return False
        seq.sampler.accept(token)
        seq.produced += 1
        seq.generated.append(token)
        if seq.index is not None:
            seq.index.append(token)
        text = seq.text.feed(model.piece(token, job.special))
        if text:
            events.extend((job.rid, kind, payload) for kind, payload in job.answer.feed(text))
        if seq.text.stopped:
            self._finish(seq, "stop", events)
            return False
        if seq.produced >= seq.limit:
            self._finish(seq, "length", events)
            return False
        seq.next_token = token
        return True

    def _finish(self, seq: _Running, reason: str, events: list[RequestEvent]) -> None:
        job = seq.job
        rest = seq.text.finish()
        if rest:
            events.extend((job.rid, kind, payload) for kind, payload in job.answer.feed(rest))
        timings = _timings(seq, time.perf_counter())
        if seq.drafts.drafted_total:
            log.info(
                "request %s: %d tokens in %d steps (%.2f a step), %d of %d drafted tokens "
                "kept (%.0f%%)",
                job.rid,
                seq.produced,
                seq.steps,
                timings["tokens_per_step"],
                seq.drafts.accepted_total,
                seq.drafts.drafted_total,
                100 * timings["draft_acceptance"],
            )
        events.extend(
            self._finish_events(job, seq.produced, seq.reused, reason, seq.generated, timings)
        )
        self._running.pop(job.rid, None)
        self.pool.release(seq.slot)
        _close(job)

    @staticmethod
    def _finish_events(
        job: Job,
        produced: int,
        reused: int,
        reason: str,
        generated: list[int],
        timings: dict[str, Any] | None = None,
    ) -> list[RequestEvent]:
        prompt = len(job.tokens)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": produced,
            "total_tokens": prompt + produced,
            # OpenAI's field for prompt tokens served from cache instead of evaluated.
            "prompt_tokens_details": {"cached_tokens": reused},
        }
        if timings is not None:
            usage["timings"] = timings
        done: dict[str, Any] = {"finish_reason": reason, "usage": usage}
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


def _timings(seq: _Running, now: float) -> dict[str, Any]:
    """What the request cost, in llama-server's `timings` names, with the speculation
    figures: decode steps, tokens a step, drafted and kept tokens."""
    first = seq.first_at if seq.first_at is not None else now
    prompt_ms = (first - seq.admitted_at) * 1000
    predicted_ms = (now - first) * 1000
    drafted = seq.drafts.drafted_total
    kept = seq.drafts.accepted_total
    return {
        "prompt_n": len(seq.job.tokens) - seq.reused,
        "prompt_ms": round(prompt_ms, 3),
        "predicted_n": seq.produced,
        "predicted_ms": round(predicted_ms, 3),
        "predicted_per_second": (
            round(seq.produced * 1000 / predicted_ms, 3) if predicted_ms > 0 else None
        ),
        "decode_steps": seq.steps,
        "tokens_per_step": round(seq.produced / seq.steps, 3) if seq.steps else 0.0,
        "draft_n": drafted,
        "draft_n_accepted": kept,
        "draft_acceptance": round(kept / drafted, 4) if drafted else 0.0,
    }


def _close(job: Job) -> None:
    if job.grammar is not None:
        job.grammar.close()
