"""Token sampling on the logits with numpy, matching llama.cpp's sampler chain.

llama.cpp's chain (what `llama_cpp.Llama` builds: penalties, grammar, top-k, typical, top-p,
min-p, temperature, dist) copies all of the vocabulary's entries into a candidate array on every
call; for a 262k-entry vocabulary that costs as much as a GPU decode step. Here the same steps
run on llama.cpp's logits buffer in place: penalties touch only the recently seen tokens, and
top-k is found among the few tokens near the maximum (a threshold pass), falling back to a full
partition only when fewer than k tokens are near it. The kept tokens and their probabilities
are the chain's; only the random number stream differs (numpy's generator, seeded the same way
for a given seed, so a seeded request repeats itself).

Grammar-constrained requests use llama.cpp's grammar sampler for the grammar step itself, the
way llama-server does: the token sampled without the grammar is kept when the grammar accepts
it, otherwise the grammar masks the vocabulary and the token is sampled again. For greedy
decoding that is exactly the grammar-first chain; for sampling it is llama-server's behaviour.
"""

from __future__ import annotations

import ctypes
import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from desktop.core.errors import InvalidRequest

if TYPE_CHECKING:
    from desktop.core.engine.textmodel import TextModel

Logits = npt.NDArray[np.float32]

# Top-k without sorting or partitioning the whole vocabulary: the tokens within a margin of the
# best logit are found with one comparison pass; if there are at least k of them they contain
# the k best (whatever the margin), so only they are partitioned. Small margins first, since
# most of a vocabulary sits far below the best token; the full partition is the last resort.
_TOP_K_MARGINS = (4.0, 12.0)
# For top-p without top-k: margins tried, smallest first, for a set of tokens holding the
# top-p mass (which then contains every token top-p keeps).
_TOP_P_MARGINS = (2.0, 4.0, 8.0, 16.0, 32.0)
# llama-cpp-python's Llama(last_n_tokens_size=64): how many recent tokens the penalties see.
PENALTY_LAST_N = 64

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


@dataclass(frozen=True)
class SamplingParams:
    """One request's sampling settings, with the defaults XinDesk has always used."""

    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    typical_p: float = 1.0
    repeat_penalty: float = 1.0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    penalty_last_n: int = PENALTY_LAST_N
    seed: int | None = None

    @classmethod
    def from_request(cls, params: dict[str, Any]) -> SamplingParams:
        def num(key: str, default: float, alias: str | None = None) -> float:
            value = params.get(key)
            if value is None and alias is not None:
                value = params.get(alias)
            if value is None:
                return default
            try:
                return float(value)
            except (TypeError, ValueError) as exc:
                raise InvalidRequest(f"`{key}` must be a number.") from exc

        seed = params.get("seed")
        return cls(
            temperature=num("temperature", 0.8),
            top_k=int(num("top_k", 40)),
            top_p=num("top_p", 0.95),
            min_p=num("min_p", 0.05),
            typical_p=num("typical_p", 1.0),
            repeat_penalty=num("repeat_penalty", 1.0, alias="repetition_penalty"),
            frequency_penalty=num("frequency_penalty", 0.0),
            presence_penalty=num("presence_penalty", 0.0),
            seed=int(seed) if isinstance(seed, int) and 0 <= seed < 0xFFFFFFFF else None,
        )

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    @property
    def penalised(self) -> bool:
        return self.penalty_last_n != 0 and (
            self.repeat_penalty != 1.0
            or self.frequency_penalty != 0.0
            or self.presence_penalty != 0.0
        )


class GrammarGate:
    """llama.cpp's grammar sampler for one request: which tokens the grammar allows next."""

    def __init__(
        self, model: TextModel, grammar: str, root: str = "root", *, field: str = "grammar"
    ) -> None:
        """`field` names the request field the grammar came from, for the error."""
        import llama_cpp

        self._lib = llama_cpp
        sampler = llama_cpp.llama_sampler_init_grammar(
            model.vocab, grammar.encode("utf-8", errors="replace"), root.encode("utf-8")
        )
        if not sampler:
            raise InvalidRequest(
                f"{field} cannot be enforced: llama.cpp could not parse its grammar (a syntax "
                f"error, an undefined or left-recursive rule, or a repetition over 2000)."
            )
        self._sampler = sampler
        self._n_vocab = model.n_vocab
        self._all: npt.NDArray[np.void] | None = None
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_array = llama_cpp.llama_token_data_array(
            data=ctypes.cast(self._one, llama_cpp.llama_token_data_p),
            size=1,
            selected=-1,
            sorted=False,
        )

    def allows(self, token: int) -> bool:
        """One token against the grammar: the cheap check for greedy decoding."""
        self._one[0].id = token  # type: ignore[assignment]
        self._one[0].logit = 0.0
        self._one_array.size = 1
        self._lib.llama_sampler_apply(self._sampler, ctypes.byref(self._one_array))
        return math.isfinite(self._one[0].logit)

    def mask(self, row: Logits) -> None:
        """Set the logits of every token the grammar forbids to -inf, in place."""
        lib = self._lib
        if self._all is None:
            self._all = np.zeros(self._n_vocab, dtype=_TOKEN_DATA)
        data = self._all
        data["id"] = np.arange(self._n_vocab, dtype=np.int32)
        data["logit"] = row
        array = lib.llama_token_data_array(
            data=data.ctypes.data_as(lib.llama_token_data_p),
            size=self._n_vocab,
            selected=-1,
            sorted=False,
        )
        lib.llama_sampler_apply(self._sampler, ctypes.byref(array))
        # The sampler may have reordered or shrunk the array; map what is left back by id.
        kept = data[: array.size]
        allowed = kept["id"][np.isfinite(kept["logit"])]
        keep = np.zeros(self._n_vocab, dtype=bool)
        keep[allowed] = True
        row[~keep] = -np.inf

    def accept(self, token: int) -> None:
        self._lib.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        if self._sampler:
            self._lib.llama_sampler_free(self._sampler)
            self._sampler = None


class TokenSampler:
    """Picks one sequence's next tokens; keeps its penalty window and random generator."""

    def __init__(self, params: SamplingParams, grammar: GrammarGate | None = None) -> None:
        self.params = params
        self.grammar = grammar
        self.rng = np.random.default_rng(params.seed)
        last_n = params.penalty_last_n
        self._recent: deque[int] = deque(maxlen=last_n if last_n > 0 else None)

    def accept(self, token: int) -> None:
        """The token was chosen: remember it for the penalties and advance the grammar."""
        if self.params.penalised:
            self._recent.append(token)
        if self.grammar is not None:
            self.grammar.accept(token)

    def sample(self, row: Logits) -> int:
        """The next token from one row of logits (llama.cpp's buffer; modified in place)."""
        params = self.params
        if params.penalised and self._recent:
            self._penalise(row)
        if params.greedy:
            token = int(row.argmax())
            if self.grammar is None or self.grammar.allows(token):
                return token
            self.grammar.mask(row)
            return int(row.argmax())
        token = self._draw(*self._filter(row))
        if self.grammar is None or self.grammar.allows(token):
            return token
        # llama-server's order: check the sampled token alone, and only when the grammar
        # rejects it, mask the whole vocabulary (tens of ms for 262k tokens) and sample again.
        self.grammar.mask(row)
        return self._draw(*self._filter(row))

    def _penalise(self, row: Logits) -> None:
        # llama.cpp's penalties: repeat divides positive logits and multiplies negative ones,
        # then frequency (per occurrence) and presence (once) are subtracted.
        params = self.params
        ids, counts = np.unique(np.fromiter(self._recent, dtype=np.int64), return_counts=True)
        values = row[ids]
        values = np.where(
            values <= 0, values * params.repeat_penalty, values / params.repeat_penalty
        )
        values -= counts * params.frequency_penalty + params.presence_penalty
        row[ids] = values.astype(np.float32)

    def _filter(self, row: Logits) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Top-k, typical, top-p and min-p, in the chain's order. Returns the kept token ids
        and their (untempered) logits."""
        params = self.params
        n_vocab = row.shape[0]
        if params.temperature < 0:
            # The chain samples from the whole distribution for a negative temperature.
            ids = np.flatnonzero(np.isfinite(row))
            return ids, row[ids].astype(np.float64)
        best = float(row.max())
        k = params.top_k if 0 < params.top_k < n_vocab else n_vocab
        total_mass: float | None = None
        if k < n_vocab:
            ids = _top_k(row, best, k)
        elif params.top_p < 1.0 or params.typical_p < 1.0:
            # No top-k: top-p and typical normalise over the whole vocabulary.
            weights = np.exp(row.astype(np.float64) - best)
            total_mass = float(weights.sum())
            ids = np.flatnonzero(weights > 0)
            if params.typical_p >= 1.0:
                # Top-p keeps the best tokens up to its mass: once the tokens within a margin
                # of the best hold that mass, the rest of the vocabulary cannot be kept.
                for margin in _TOP_P_MARGINS:
                    near = np.flatnonzero(row >= best - margin)
                    if float(weights[near].sum()) >= params.top_p * total_mass:
                        ids = near
                        break
        elif params.min_p > 0.0:
            ids = np.flatnonzero(row >= best + math.log(params.min_p))
        else:
            ids = np.flatnonzero(np.isfinite(row))
        logits = row[ids].astype(np.float64)
        order = np.argsort(-logits, kind="stable")
        ids, logits = ids[order], logits[order]
        finite = np.isfinite(logits)
        if not finite.all():
            # Grammar-forbidden tokens can fill a top-k; they have no probability.
            ids, logits = ids[finite], logits[finite]
        if params.typical_p < 1.0 and ids.size > 1:
            ids, logits = _typical(ids, logits, params.typical_p)
        if params.top_p < 1.0 and ids.size > 1:
            probs = np.exp(logits - logits.max())
            denominator = probs.sum() if total_mass is None else total_mass
            cumulative = np.cumsum(probs / denominator)
            reached = np.flatnonzero(cumulative >= params.top_p)
            if reached.size:
                keep = int(reached[0]) + 1
                ids, logits = ids[:keep], logits[:keep]
        if params.min_p > 0.0 and ids.size > 1:
            floor = logits.max() + math.log(params.min_p)
            kept = logits >= floor
            ids, logits = ids[kept], logits[kept]
        return ids, logits

    def _draw(self, ids: npt.NDArray[np.int64], logits: npt.NDArray[np.float64]) -> int:
        if ids.size == 1:
            return int(ids[0])
        temperature = self.params.temperature
        scaled = logits / temperature if temperature > 0 else logits
        probs = np.exp(scaled - scaled.max())
        cumulative = np.cumsum(probs)
        index = int(np.searchsorted(cumulative, self.rng.random() * cumulative[-1], side="right"))
        return int(ids[min(index, ids.size - 1)])


def _top_k(row: Logits, best: float, k: int) -> npt.NDArray[np.int64]:
    for margin in _TOP_K_MARGINS:
        ids = np.flatnonzero(row >= best - margin)
        if ids.size >= k:
            return ids if ids.size == k else ids[np.argpartition(row[ids], -k)[-k:]]
    return np.argpartition(row, -k)[-k:]


def _typical(
    ids: npt.NDArray[np.int64], logits: npt.NDArray[np.float64], p: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Locally typical sampling as llama.cpp does it: keep the tokens whose surprise is closest
    to the entropy until their mass passes p."""
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    logp = np.log(probs, where=probs > 0, out=np.full_like(probs, -np.inf))
    entropy = -float(np.sum(probs[probs > 0] * logp[probs > 0]))
    shifted = np.abs(-logp - entropy)
    order = np.argsort(shifted, kind="stable")
    cumulative = np.cumsum(probs[order])
    over = np.flatnonzero(cumulative > p)
    keep = int(over[0]) + 1 if over.size else order.size
    chosen = order[:keep]
    # The chain's next step (top-p) sorts by logit again.
    chosen = chosen[np.argsort(-logits[chosen], kind="stable")]
    return ids[chosen], logits[chosen]
