"""Speculative decoding: guess a sequence's next tokens cheaply, check them all in one step.

A decode step of a small batch costs little more than a step of one token (the weights are
read once either way), so a sequence whose next tokens can be guessed gets several tokens out
of one step: its last token and the guesses go into the batch together, each guess is checked
against the model's own choice at its position, and every guess up to the first wrong one is
kept, plus the model's token after it. The answer is the one the model gives without guesses:
a guess is kept only when it is the token the sampler picks from the logits at its position
(`engine.batcher` samples each position exactly as it would without drafts).

Guesses come from the text itself (prompt lookup): the last tokens of a sequence usually
occurred before, in the prompt or the answer so far, and what followed them then is the guess.
A RAG answer quotes its passages, code repeats its names, so there the guesses are mostly
right; elsewhere they are mostly wrong and cost batch room, so how many tokens each sequence
drafts follows its acceptance rate, weighed against what a drafted token costs in the step
(`plan_drafts`). A sequence whose guesses keep failing stops drafting, and tries one token
again only after a pause that doubles with every failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

# Only the last this-many earlier occurrences of a token pair are compared with the text
# before the current end: enough to find the passage being quoted, and a bounded cost on
# text that repeats a common pair hundreds of times.
_CANDIDATES = 24
# Matched context is compared up to this many tokens back.
_MATCH_CAP = 16
# The acceptance estimate forgets old drafts at this rate per checked draft, so a sequence
# that stops quoting stops drafting within a few steps.
_DECAY = 0.8
# Before any draft was checked: a first guess is about as likely right as wrong.
_PRIOR_ACCEPTED = 1.0
_PRIOR_TRIED = 2.0
# A sequence whose draft was all wrong, or whose guess did not pay, waits this many steps
# before it tries one token again; the wait doubles after every failed try, up to the cap.
_PAUSE_FIRST = 4
_PAUSE_CAP = 128


@dataclass(frozen=True)
class SpeculationConfig:
    """How a batcher drafts.

    Attributes:
        ngram: Draft from the sequence's own text (prompt lookup).
        draft_max: Most tokens drafted for one sequence in one step.
        overhead: The cost of a decode step beyond its tokens, in tokens: a step of n tokens
            costs about (overhead + n). Large on a GPU (a step is a read of all weights),
            smaller on a CPU, where every token adds compute.
        split_cost: The cost of one more micro-batch in a step, in tokens.
        position_cost: With a draft model, the cost of its step (one drafted position for
            every drafting sequence), in the launched model's tokens.
    """

    ngram: bool = True
    draft_max: int = 16
    overhead: float = 12.0
    split_cost: float = 6.0
    position_cost: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.ngram and self.draft_max > 0


OFF = SpeculationConfig(ngram=False, draft_max=0)


class Drafter(Protocol):
    """Guesses one sequence's next tokens from its text (the prompt, then every token taken)."""

    def append(self, token: int) -> None:
        """The sequence took this token."""

    def propose(self, limit: int) -> list[int]:
        """Up to `limit` tokens that may follow the text; none when there is no guess."""


# Makes a sequence's drafter from its prompt tokens.
DrafterFactory = Callable[[list[int]], Drafter]


class StepCost:
    """What a decode step costs beyond its tokens, learnt from the steps themselves.

    A step of n tokens (each with logits) takes about b * (overhead + n) seconds. How big
    the overhead is depends on the model and the device (on a GPU a small step costs what
    reading the weights costs; on a CPU each token adds real work, and for a small model with
    a large vocabulary every row of logits is a large share of it), so it is fitted: a
    least-squares line through (tokens, seconds) of recent generating steps, old steps
    weighing less. Until the steps have varied enough to tell, the configured value holds.
    """

    _DECAY = 0.98
    # Weighted variance of the steps' token counts needed before the fit is trusted.
    _SPREAD = 4.0
    _RANGE = (0.5, 500.0)

    def __init__(self, prior: float) -> None:
        self.prior = prior
        self._w = self._n = self._nn = self._t = self._nt = 0.0

    def observe(self, tokens: int, seconds: float) -> None:
        d = self._DECAY
        self._w = self._w * d + 1.0
        self._n = self._n * d + tokens
        self._nn = self._nn * d + tokens * tokens
        self._t = self._t * d + seconds
        self._nt = self._nt * d + tokens * seconds

    @property
    def overhead(self) -> float:
        if self._w <= 0:
            return self.prior
        mean_n = self._n / self._w
        spread = self._nn - self._w * mean_n * mean_n
        if spread < self._SPREAD:
            return self.prior
        slope = (self._nt - mean_n * self._t) / spread
        if slope <= 0:
            return self._RANGE[1]
        intercept = self._t / self._w - slope * mean_n
        low, high = self._RANGE
        return min(max(intercept / slope, low), high)


class NgramIndex:
    """Where each pair of consecutive tokens of a sequence's text occurred, to find what
    followed the text's current ending the last time it occurred."""

    def __init__(self, tokens: Sequence[int]) -> None:
        self.tokens: list[int] = []
        self._pairs: dict[tuple[int, int], list[int]] = {}
        self.extend(tokens)

    def extend(self, tokens: Sequence[int]) -> None:
        text = self.tokens
        pairs = self._pairs
        for token in tokens:
            if text:
                # Keyed by the pair ending at this position.
                pairs.setdefault((text[-1], token), []).append(len(text))
            text.append(token)

    def append(self, token: int) -> None:
        text = self.tokens
        if text:
            self._pairs.setdefault((text[-1], token), []).append(len(text))
        text.append(token)

    def propose(self, limit: int) -> list[int]:
        """Up to `limit` tokens that followed the longest earlier match of the text's end
        (at least its last two tokens; the most recent among equally long ones)."""
        text = self.tokens
        end = len(text) - 1
        if limit <= 0 or end < 2:
            return []
        found = self._pairs.get((text[-2], text[-1]))
        if not found:
            return []
        # The last entry is the text's own end; the ones before it are the candidates.
        earlier = found[:-1] if found[-1] == end else found
        best_at, best_len = -1, 0
        for at in reversed(earlier[-_CANDIDATES:]):
            length = 2
            while (
                length < _MATCH_CAP and at - length >= 0 and text[at - length] == text[end - length]
            ):
                length += 1
            if length > best_len:
                best_at, best_len = at, length
                if length >= _MATCH_CAP:
                    break
        if best_at < 0:
            return []
        return text[best_at + 1 : best_at + 1 + limit]


class DraftStats:
    """One sequence's drafting: how often its guesses were right, and its pauses."""

    def __init__(self) -> None:
        self.accepted = _PRIOR_ACCEPTED
        self.tried = _PRIOR_TRIED
        # Steps left without drafting, after a draft that was wrong from its first token or a
        # guess not worth drafting; when it runs out, one token is tried whatever the rate.
        self.pause = 0
        self._pause_next = _PAUSE_FIRST
        self._try_due = False
        # Totals for the request's report.
        self.drafted_total = 0
        self.accepted_total = 0

    @property
    def rate(self) -> float:
        """The chance that a drafted token is right, given the ones before it were."""
        return self.accepted / self.tried

    def ready(self) -> bool:
        """Whether to look for a guess this step (counts down a pause)."""
        if self.pause > 0:
            self.pause -= 1
            self._try_due = self.pause == 0
            return False
        return True

    def skipped(self) -> bool:
        """There was a guess but the plan drafted none of it. True when a try is due: the
        rate changes only when drafts are checked, so without these tries a sequence that
        stopped drafting would never start again. Otherwise it pauses before the next."""
        if self._try_due:
            self._try_due = False
            return True
        self.pause = self._pause_next
        return False

    def record(self, drafted: int, accepted: int) -> None:
        """A draft of `drafted` tokens was checked; the first `accepted` were right."""
        if drafted <= 0:
            return
        self._try_due = False
        self.drafted_total += drafted
        self.accepted_total += accepted
        # Each kept token is a success; the first wrong one (if any) is the one failure: the
        # tokens after it were never really tried.
        tries = accepted + (1 if accepted < drafted else 0)
        self.accepted = self.accepted * _DECAY + accepted
        self.tried = self.tried * _DECAY + tries
        if accepted > 0:
            self._pause_next = _PAUSE_FIRST
        else:
            self.pause = self._pause_next
            self._pause_next = min(self._pause_next * 2, _PAUSE_CAP)


def plan_drafts(
    rates: Sequence[float],
    caps: Sequence[int],
    *,
    base_tokens: int,
    overhead: float,
    split_cost: float,
    everyone: bool,
    position_cost: float = 0.0,
) -> tuple[int, list[bool]]:
    """How many tokens the sequences of a step draft, and which of them do.

    Args:
        rates: Each sequence's chance that a drafted token is right (given the ones before
            it were).
        caps: Each sequence's most tokens (what the lookup found, draft_max, its limits).
        base_tokens: Tokens the step holds anyway (one per generating sequence, plus prompt).
        overhead: The step's cost beyond its tokens, in tokens (`SpeculationConfig.overhead`).
        split_cost: The cost of one more micro-batch, in tokens.
        everyone: Whether these sequences are all that the step holds (then equal drafts keep
            it one micro-batch).
        position_cost: The cost of drafting one position for all sequences, in tokens (a
            draft model's decode step; the lookup costs nothing).

    Returns:
        The draft length k and, per sequence, whether it drafts k tokens (others draft none).

    Every drafting sequence of a step drafts the same number of tokens: with one KV stream
    per sequence llama.cpp splits a batch into micro-batches that take equally many tokens of
    each sequence, so equal drafts keep a sequence's tokens in at most two micro-batches
    (which `engine.batcher` relies on when it drops the cells of a wrong guess; see there).

    A drafted token at depth j of a sequence with rate r yields r**j tokens on average. The
    plan maximises the step's expected tokens per cost, (tokens expected) / (overhead +
    tokens in the batch + micro-batch splits), over k and, for each k, the sequences that
    profit most: a lone sequence drafts freely, a busy batch only where guesses are very
    likely right.
    """
    chosen = [False] * len(rates)
    best_k = 0
    best_ratio = base_tokens / (overhead + base_tokens)
    longest = max(caps, default=0)
    for k in range(1, longest + 1):
        values = sorted(
            (
                (sum(rate**j for j in range(1, k + 1)), i)
                for i, (rate, cap) in enumerate(zip(rates, caps, strict=True))
                if cap >= k
            ),
            reverse=True,
        )
        gain = 0.0
        for m, (value, _) in enumerate(values, start=1):
            gain += value
            split = 0.0 if everyone and m == len(rates) else split_cost
            cost = overhead + base_tokens + m * k + split + k * position_cost
            ratio = (base_tokens + gain) / cost
            if ratio > best_ratio:
                best_ratio, best_k = ratio, k
                chosen = [False] * len(rates)
                for _, i in values[:m]:
                    chosen[i] = True
    return best_k, chosen
