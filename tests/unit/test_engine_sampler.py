"""The numpy sampler against llama.cpp's own sampler chain, on real Gemma logits.

For each setting, llama.cpp's chain (without its final random pick) gives the exact set of
tokens it keeps and their probabilities; the sampler must keep the same set with the same
probabilities, and many draws of ours and of llama.cpp's `dist` sampler must both fit those
probabilities (chi-square, fixed seeds, so the test is deterministic).
"""

from __future__ import annotations

import ctypes
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from desktop.core.engine.sampler import SamplingParams, TokenSampler

pytestmark = pytest.mark.slow

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)
PROMPT = "My favourite animals are cats, dogs and"


@pytest.fixture(scope="module")
def logits(gemma_gguf: Path) -> npt.NDArray[np.float32]:
    """The model's next-token logits after PROMPT (a fixed context)."""
    from llama_cpp import Llama

    llm = Llama(str(gemma_gguf), n_ctx=256, n_threads=2, logits_all=False, verbose=False)
    tokens = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)
    llm.eval(tokens)
    row = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()
    llm.close()
    return row


def _chain(params: SamplingParams, history: list[int], n_vocab: int, dist_seed: int | None) -> Any:
    """llama.cpp's chain as llama-cpp-python builds it, optionally ending in `dist`."""
    import llama_cpp

    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    add = llama_cpp.llama_sampler_chain_add
    add(
        chain,
        llama_cpp.llama_sampler_init_penalties(
            n_vocab,
            params.penalty_last_n,
            params.repeat_penalty,
            params.frequency_penalty,
            params.presence_penalty,
        ),
    )
    add(chain, llama_cpp.llama_sampler_init_top_k(params.top_k))
    add(chain, llama_cpp.llama_sampler_init_typical(params.typical_p, 1))
    add(chain, llama_cpp.llama_sampler_init_top_p(params.top_p, 1))
    add(chain, llama_cpp.llama_sampler_init_min_p(params.min_p, 1))
    add(chain, llama_cpp.llama_sampler_init_temp(params.temperature))
    if dist_seed is not None:
        add(chain, llama_cpp.llama_sampler_init_dist(dist_seed))
    for token in history:
        llama_cpp.llama_sampler_accept(chain, token)
    return chain


def _apply(chain: Any, row: npt.NDArray[np.float32]) -> tuple[npt.NDArray[Any], int]:
    import llama_cpp

    data = np.zeros(row.shape[0], dtype=_TOKEN_DATA)
    data["id"] = np.arange(row.shape[0], dtype=np.int32)
    data["logit"] = row
    array = llama_cpp.llama_token_data_array(
        data=data.ctypes.data_as(llama_cpp.llama_token_data_p),
        size=row.shape[0],
        selected=-1,
        sorted=False,
    )
    llama_cpp.llama_sampler_apply(chain, ctypes.byref(array))
    # The chain may point `data` at its own buffer; read what it points at.
    kept = np.ctypeslib.as_array(
        ctypes.cast(array.data, ctypes.POINTER(ctypes.c_byte)),
        shape=(array.size * _TOKEN_DATA.itemsize,),
    )
    return np.frombuffer(kept.tobytes(), dtype=_TOKEN_DATA), int(array.selected)


def _chi2_bound(df: int) -> float:
    """Chi-square critical value at p = 0.001 (Wilson-Hilferty; scipy is not a dependency)."""
    z = 3.09
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def _chi2(counts: Counter[int], probs: dict[int, float], n: int) -> tuple[float, int]:
    # Pool the rare tokens so every expected count is at least 5.
    stat, df, pooled_obs, pooled_exp = 0.0, -1, 0, 0.0
    for token, p in probs.items():
        expected = p * n
        if expected < 5:
            pooled_obs += counts.get(token, 0)
            pooled_exp += expected
            continue
        stat += (counts.get(token, 0) - expected) ** 2 / expected
        df += 1
    if pooled_exp > 0:
        stat += (pooled_obs - pooled_exp) ** 2 / max(pooled_exp, 1e-9)
        df += 1
    return stat, max(df, 1)


SETTINGS = {
    "defaults": SamplingParams(seed=11),
    "hot-top-p": SamplingParams(temperature=1.5, top_k=0, top_p=0.9, min_p=0.0, seed=12),
    "top-k-min-p": SamplingParams(temperature=0.7, top_k=8, top_p=1.0, min_p=0.1, seed=13),
    "typical": SamplingParams(temperature=1.0, top_k=50, top_p=0.98, typical_p=0.7, seed=14),
    "penalties": SamplingParams(
        temperature=1.0,
        top_k=40,
        top_p=0.95,
        min_p=0.02,
        repeat_penalty=1.3,
        frequency_penalty=0.4,
        presence_penalty=0.3,
        seed=15,
    ),
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_sampled_distribution_matches_llama_cpp_chain(
    name: str, logits: npt.NDArray[np.float32]
) -> None:
    params = SETTINGS[name]
    n_vocab = logits.shape[0]
    # A history for the penalties: the three most likely tokens, one of them twice.
    top = [int(t) for t in np.argsort(-logits)[:3]]
    history = [top[0], top[1], top[0], top[2]] if params.penalised else []

    chain = _chain(params, history, n_vocab, dist_seed=None)
    kept, _ = _apply(chain, logits.copy())
    import llama_cpp

    llama_cpp.llama_sampler_free(chain)
    finite = kept[np.isfinite(kept["logit"])]
    shifted = finite["logit"].astype(np.float64) - finite["logit"].max()
    expected = np.exp(shifted) / np.exp(shifted).sum()
    probs = dict(zip((int(t) for t in finite["id"]), expected.tolist(), strict=True))
    assert len(probs) >= 2, f"{name}: the setting should leave a real choice"

    ours = TokenSampler(params)
    for token in history:
        ours.accept(token)
    ids, _logits = ours._filter(_penalised(ours, logits))
    assert set(int(t) for t in ids) == set(probs), f"{name}: kept tokens differ from llama.cpp's"

    draws = 5000
    ours = TokenSampler(params)
    for token in history:
        ours.accept(token)
    counts: Counter[int] = Counter()
    for _ in range(draws):
        counts[ours.sample(logits.copy())] += 1
        # Without accept(): every draw is from the same context, as for llama.cpp below.
    assert set(counts) <= set(probs), f"{name}: sampled a token llama.cpp's chain excludes"
    stat, df = _chi2(counts, probs, draws)
    assert stat < _chi2_bound(df), f"{name}: chi2 {stat:.1f} over df {df}"

    # llama.cpp's own draws fit the same probabilities (checks the expectation itself).
    theirs: Counter[int] = Counter()
    chain = _chain(params, history, n_vocab, dist_seed=1234)
    their_draws = 1500
    for _ in range(their_draws):
        data, selected = _apply(chain, logits.copy())
        theirs[int(data["id"][selected])] += 1
    llama_cpp.llama_sampler_free(chain)
    stat, df = _chi2(theirs, probs, their_draws)
    assert stat < _chi2_bound(df), f"{name}: llama.cpp's draws chi2 {stat:.1f} over df {df}"


def _penalised(sampler: TokenSampler, row: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    out = row.copy()
    if sampler.params.penalised:
        sampler._penalise(out)
    return out


def test_greedy_is_argmax_after_penalties(logits: npt.NDArray[np.float32]) -> None:
    best = int(np.argmax(logits))
    assert TokenSampler(SamplingParams(temperature=0.0)).sample(logits.copy()) == best
    penalised = TokenSampler(SamplingParams(temperature=0.0, repeat_penalty=100.0))
    penalised.accept(best)
    assert penalised.sample(logits.copy()) != best


def test_a_seed_repeats_its_draws(logits: npt.NDArray[np.float32]) -> None:
    params = SamplingParams(temperature=1.2, top_k=0, top_p=1.0, min_p=0.0, seed=99)
    first = [TokenSampler(params).sample(logits.copy()) for _ in range(1)]
    a, b = TokenSampler(params), TokenSampler(params)
    run_a = [a.sample(logits.copy()) for _ in range(50)]
    run_b = [b.sample(logits.copy()) for _ in range(50)]
    assert run_a == run_b
    assert run_a[0] == first[0]
    assert len(set(run_a)) > 1
