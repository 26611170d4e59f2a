"""Speculative decoding: the prompt lookup, the drafting plan, and the decode loop checking
drafts on real models.

Exactness is tested on the tiny F32 model (tests/fixtures/tiny_llama.py), whose logits do not
depend on how a batch is shaped: there the same requests with and without drafts must give the
same tokens, one by one. Drafts come from an oracle that knows the undrafted answer and lies at
chosen positions, so kept drafts, wrong drafts and dropped cells are all exercised whatever the
model writes. On Gemma (quantized kernels round a many-row batch differently from a one-row
one, see tests/unit/test_engine_loop.py) the prompt lookup itself is tested on a quoting
answer: several tokens a step, every one of them a greedy choice of the model.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from desktop.core.engine.batcher import Batcher, RequestEvent
from desktop.core.engine.protocol import WorkerSpec
from desktop.core.engine.runtime import ModelRuntime
from desktop.core.engine.sampler import SamplingParams, TokenSampler
from desktop.core.engine.speculative import (
    OFF,
    DraftStats,
    NgramIndex,
    SpeculationConfig,
    StepCost,
    plan_drafts,
)

# -- the lookup and the plan -------------------------------------------------------------------


def test_lookup_proposes_what_followed_the_longest_match() -> None:
    # "5 6" occurs twice before the end; only the second occurrence also matches the "4"
    # before it, so its continuation is the guess.
    index = NgramIndex([1, 5, 6, 7, 8, 9, 4, 5, 6, 30, 31, 32, 2, 4, 5, 6])
    assert index.propose(3) == [30, 31, 32]
    assert index.propose(1) == [30]
    index.append(30)
    # The text now ends "5 6 30": the occurrence before it continues with 31 32 2 4 ...
    assert index.propose(4) == [31, 32, 2, 4]


def test_lookup_takes_the_most_recent_of_equal_matches() -> None:
    index = NgramIndex([7, 8, 1, 7, 8, 2, 7, 8])
    assert index.propose(1) == [2]


def test_lookup_has_no_guess_for_a_new_pair() -> None:
    index = NgramIndex([1, 2, 3, 4])
    assert index.propose(4) == []
    index.append(3)
    assert index.propose(4) == []
    index.append(4)
    # "3 4" occurred once before, at the end of the text: nothing followed it yet but "3".
    assert index.propose(4) == [3, 4]


def test_a_lone_sequence_drafts_long_only_when_guesses_are_right() -> None:
    common = {"base_tokens": 1, "overhead": 12.0, "split_cost": 6.0, "everyone": True}
    k, chosen = plan_drafts([0.95], [16], **common)
    assert k >= 12
    assert chosen == [True]
    k_mid, _ = plan_drafts([0.6], [16], **common)
    assert 1 <= k_mid < k
    k_low, chosen_low = plan_drafts([0.03], [16], **common)
    assert k_low == 0
    assert chosen_low == [False]


def test_a_busy_batch_drafts_only_the_likely_guesses() -> None:
    common = {"overhead": 12.0, "split_cost": 6.0}
    alone, _ = plan_drafts([0.7], [16], base_tokens=1, everyone=True, **common)
    busy, _ = plan_drafts([0.7], [16], base_tokens=64, everyone=False, **common)
    assert busy < alone
    # Of four sequences, the ones with good guesses draft, all the same length.
    k, chosen = plan_drafts(
        [0.95, 0.05, 0.9, 0.05], [16, 16, 16, 16], base_tokens=4, everyone=True, **common
    )
    assert k > 1
    assert chosen == [True, False, True, False]


def test_the_step_cost_is_learnt_from_the_steps() -> None:
    cost = StepCost(12.0)
    for _ in range(50):
        cost.observe(4, 0.010 * (3 + 4))
    # Steps of one size tell nothing about the overhead: the configured value holds.
    assert cost.overhead == 12.0
    for n in [4, 9, 4, 14, 4, 24, 9, 4] * 10:
        cost.observe(n, 0.010 * (3 + n))
    assert abs(cost.overhead - 3.0) < 0.1


def test_failing_drafts_pause_longer_each_time_and_are_tried_again() -> None:
    stats = DraftStats()
    pauses = []
    for _ in range(4):
        stats.record(4, 0)
        pauses.append(stats.pause)
        while not stats.ready():
            pass
    assert pauses == sorted(pauses)
    assert pauses[-1] > pauses[0]
    assert stats.rate < 0.2
    # With a guess but a rate too low to pay, one token is still tried after each pause.
    tries = 0
    for _ in range(400):
        if stats.ready() and stats.skipped():
            tries += 1
    assert 1 <= tries <= 400 // pauses[0]
    stats.record(1, 1)
    assert stats.rate > 0.2


# -- exactness on the tiny model ---------------------------------------------------------------


class Oracle:
    """Drafts the known undrafted answer, with a wrong token at every `lie_every`-th position
    of the answer (never, with 0)."""

    def __init__(self, prompt: list[int], answer: list[int], lie_every: int) -> None:
        self.n_prompt = len(prompt)
        self.answer = answer
        self.lie_every = lie_every
        self.text = list(prompt)

    def append(self, token: int) -> None:
        self.text.append(token)

    def propose(self, limit: int) -> list[int]:
        at = len(self.text) - self.n_prompt
        guess = list(self.answer[at : at + limit])
        for i in range(len(guess)):
            if self.lie_every and (at + i) % self.lie_every == self.lie_every - 1:
                guess[i] = 3 + (guess[i] + 1) % 200
        return guess


class FixedStepCost(StepCost):
    """The configured step overhead, never refitted from the steps' times: what the tests
    assert then follows from the tokens alone, however busy the machine is."""

    def observe(self, tokens: int, seconds: float) -> None:
        return


class Loop:
    def __init__(self, runtime: ModelRuntime, **kwargs: Any) -> None:
        assert runtime.text is not None
        self.runtime = runtime
        self.events: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.batcher = Batcher(runtime.text, self._collect, **kwargs)
        self.batcher.step_cost = FixedStepCost(self.batcher.step_cost.prior)

    def _collect(self, events: list[RequestEvent]) -> None:
        for rid, kind, payload in events:
            self.events.setdefault(rid, []).append((kind, payload))

    def submit(self, rid: str, params: dict[str, Any], op: str = "complete") -> None:
        self.batcher.submit(self.runtime.prepare(rid, op, {"_token_ids": True, **params}))

    def run(self) -> None:
        while not self.batcher.idle:
            self.batcher.step()

    def done(self, rid: str) -> dict[str, Any]:
        kind, payload = self.events[rid][-1]
        assert kind == "done", self.events[rid][-1]
        return payload

    def text(self, rid: str) -> str:
        return "".join(p["text"] for k, p in self.events[rid] if k == "delta")


def _runtime(path: Path, parallel: int, n_ctx: int = 1024, **kwargs: Any) -> ModelRuntime:
    return ModelRuntime(
        WorkerSpec(
            uid="m",
            model_type="LLM",
            model_path=str(path),
            llama_kwargs={"n_ctx": n_ctx, "n_threads": 2, "n_threads_batch": 2, **kwargs},
            parallel=parallel,
        )
    )


@pytest.fixture(scope="module")
def tiny(tiny_llama_gguf: Path) -> Iterator[ModelRuntime]:
    # Flash attention off: llama.cpp's CPU flash attention takes another path for a batch of
    # several rows of one sequence, which rounds differently (tests/fixtures/tiny_llama.py).
    rt = _runtime(tiny_llama_gguf, parallel=4, flash_attn="off")
    yield rt
    rt.close()


TINY_PROMPTS = [
    "the cat sat on the mat",
    "paris is the capital of france and berlin is the capital of germany",
    "the weather today is sunny",
    "a python program reads a document and finds the words",
]
GREEDY = {"temperature": 0, "max_tokens": 48}


def _answers(
    runtime: ModelRuntime, prompts: list[str], params: dict[str, Any], **kwargs: Any
) -> tuple[list[list[int]], Loop]:
    """Each prompt's token ids, the requests started a few steps apart (so prompt chunks,
    single tokens and drafts of different sequences share steps)."""
    loop = Loop(runtime, prompt_chunk=8, **kwargs)
    for i, prompt in enumerate(prompts):
        loop.submit(f"r{i}", {"prompt": prompt, **params})
        for _ in range(2):
            loop.batcher.step()
    loop.run()
    return [loop.done(f"r{i}")["token_ids"] for i in range(len(prompts))], loop


def _oracle(runtime: ModelRuntime, prompts: list[str], answers: list[list[int]], lie: int) -> Any:
    assert runtime.text is not None
    known = {
        tuple(runtime.text.tokenize(p.encode(), add_bos=True, special=True)): a
        for p, a in zip(prompts, answers, strict=True)
    }
    return lambda tokens: Oracle(tokens, known[tuple(tokens)], lie)


ALWAYS = SpeculationConfig(overhead=1000.0, split_cost=0.0)


@pytest.mark.parametrize("lie_every", [0, 3, 1])
def test_drafted_answers_are_token_for_token_the_undrafted_ones(
    tiny: ModelRuntime, lie_every: int
) -> None:
    plain, _ = _answers(tiny, TINY_PROMPTS, GREEDY, speculation=OFF)
    assert all(len(a) == 48 for a in plain)
    drafted, loop = _answers(
        tiny,
        TINY_PROMPTS,
        GREEDY,
        speculation=ALWAYS,
        drafter=_oracle(tiny, TINY_PROMPTS, plain, lie_every),
    )
    assert drafted == plain
    batcher = loop.batcher
    assert batcher.drafted > 0
    if lie_every == 0:
        assert batcher.accepted == batcher.drafted
    elif lie_every == 1:
        assert batcher.accepted == 0
    else:
        assert 0 < batcher.accepted < batcher.drafted
    timings = loop.done("r0")["usage"]["timings"]
    assert timings["draft_n"] > 0
    assert timings["predicted_n"] == 48
    if lie_every == 0:
        assert timings["tokens_per_step"] > 2


def test_length_limit_and_stop_strings_cut_a_kept_draft(tiny: ModelRuntime) -> None:
    params = {"prompt": TINY_PROMPTS[0], "temperature": 0, "max_tokens": 40}
    plain = Loop(tiny, speculation=OFF)
    plain.submit("p", params)
    plain.run()
    answer = plain.done("p")["token_ids"]
    full = plain.text("p")
    oracle = _oracle(tiny, TINY_PROMPTS[:1], [answer + [5] * 16], 0)

    # The draft runs past max_tokens: exactly max_tokens come out.
    loop = Loop(tiny, speculation=ALWAYS, drafter=oracle)
    loop.submit("n", {**params, "max_tokens": 13})
    loop.run()
    assert loop.done("n")["token_ids"] == answer[:13]
    assert loop.done("n")["finish_reason"] == "length"

    # A stop string inside a kept draft ends the answer before it.
    words = full.split()
    stop = " ".join(words[len(words) // 2 : len(words) // 2 + 2])
    loop = Loop(tiny, speculation=ALWAYS, drafter=oracle)
    loop.submit("s", {**params, "stop": [stop]})
    loop.run()
    assert loop.done("s")["finish_reason"] == "stop"
    assert loop.text("s") == full[: full.index(stop)]
    assert loop.batcher.accepted > 0


def test_drafting_stops_when_guesses_fail_and_resumes_when_they_are_right(
    tiny: ModelRuntime,
) -> None:
    params = {"prompt": TINY_PROMPTS[1], "temperature": 0, "max_tokens": 400}
    plain, _ = _answers(tiny, TINY_PROMPTS[1:2], params, speculation=OFF)
    answer = plain[0]

    wrong, loop = _answers(
        tiny,
        TINY_PROMPTS[1:2],
        params,
        speculation=SpeculationConfig(),
        drafter=_oracle(tiny, TINY_PROMPTS[1:2], [answer], 1),
    )
    assert wrong[0] == answer
    # Every guess is wrong: after a few tries the sequence drafts only now and then.
    assert 0 < loop.batcher.drafted <= 40
    timings = loop.done("r0")["usage"]["timings"]
    assert timings["decode_steps"] == 400

    class TurnsRight(Oracle):
        def propose(self, limit: int) -> list[int]:
            self.lie_every = 1 if len(self.text) - self.n_prompt < 200 else 0
            return super().propose(limit)

    assert tiny.text is not None
    prompt = tiny.text.tokenize(TINY_PROMPTS[1].encode(), add_bos=True, special=True)
    resumed, loop = _answers(
        tiny,
        TINY_PROMPTS[1:2],
        params,
        speculation=SpeculationConfig(),
        drafter=lambda tokens: TurnsRight(prompt, answer, 1),
    )
    assert resumed[0] == answer
    # Once the guesses are right the sequence drafts again: far fewer steps than tokens.
    steps = loop.done("r0")["usage"]["timings"]["decode_steps"]
    assert loop.batcher.accepted > 100
    assert steps < 400 - 100


def _chi2_bound(df: int) -> float:
    """Chi-square critical value at p = 0.001 (Wilson-Hilferty)."""
    z = 3.09
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def _chi2(counts: Counter[Any], probs: dict[Any, float], n: int) -> tuple[float, int]:
    stat, df, pooled_obs, pooled_exp = 0.0, -1, 0, 0.0
    for key, p in probs.items():
        expected = p * n
        if expected < 5:
            pooled_obs += counts.get(key, 0)
            pooled_exp += expected
            continue
        stat += (counts.get(key, 0) - expected) ** 2 / expected
        df += 1
    if pooled_exp > 0:
        stat += (pooled_obs - pooled_exp) ** 2 / max(pooled_exp, 1e-9)
        df += 1
    return stat, max(df, 1)


def _next_probs(tiny_llama_gguf: Path, context: list[int], params: SamplingParams) -> Any:
    """The sampler's probabilities for the token after `context` (undrafted logits)."""
    from llama_cpp import Llama

    llm = Llama(str(tiny_llama_gguf), n_ctx=256, n_threads=2, verbose=False)
    llm.eval(context)
    row = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()
    llm.close()
    ids, logits = TokenSampler(params)._filter(row)
    weights = np.exp((logits - logits.max()) / params.temperature)
    return dict(zip((int(t) for t in ids), (weights / weights.sum()).tolist(), strict=True))


@pytest.mark.slow
def test_sampled_tokens_keep_the_samplers_distribution_with_drafts(
    tiny: ModelRuntime, tiny_llama_gguf: Path
) -> None:
    """Each request drafts two tokens after its first: the likeliest first answer token and
    the likeliest token after that. The first answer token is sampled without a draft; the
    second is a drafted position (kept with the sampler's probability for it, else drawn
    from the rest), and so is the third when the second draft was kept. Their frequencies
    over many seeded requests fit the sampler's own probabilities at those positions."""
    params = SamplingParams(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)
    assert tiny.text is not None
    prompt = tiny.text.tokenize(TINY_PROMPTS[2].encode(), add_bos=True, special=True)
    first = _next_probs(tiny_llama_gguf, prompt, params)
    t1 = max(first, key=first.__getitem__)
    second = _next_probs(tiny_llama_gguf, [*prompt, t1], params)
    d1 = max(second, key=second.__getitem__)
    third = _next_probs(tiny_llama_gguf, [*prompt, t1, d1], params)
    d2 = max(third, key=third.__getitem__)
    assert 0.05 < second[d1] < 0.95, "the draft should be kept only some of the time"

    class Fixed:
        def __init__(self, tokens: list[int]) -> None:
            self.n = len(tokens)
            self.seen: list[int] = []

        def append(self, token: int) -> None:
            self.seen.append(token)

        def propose(self, limit: int) -> list[int]:
            return [d1, d2][:limit] if self.seen == [t1] else []

    draws = 3000
    loop = Loop(tiny, speculation=ALWAYS, drafter=Fixed)
    body = {"prompt": TINY_PROMPTS[2], "max_tokens": 3, "temperature": 1.0, "top_k": 0}
    body |= {"top_p": 1.0, "min_p": 0.0}
    for i in range(draws):
        loop.submit(f"d{i}", {**body, "seed": i})
        if i % 4 == 3:
            loop.run()
    loop.run()
    answers = [loop.done(f"d{i}")["token_ids"] for i in range(draws)]
    after_t1 = [a for a in answers if len(a) >= 2 and a[0] == t1]
    seconds: Counter[int] = Counter(a[1] for a in after_t1)
    thirds: Counter[int] = Counter(a[2] for a in after_t1 if a[1] == d1 and len(a) >= 3)
    assert loop.batcher.accepted > 0
    assert loop.batcher.accepted < loop.batcher.drafted
    assert len(after_t1) > 200
    for counts, probs in ((seconds, second), (thirds, third)):
        n = sum(counts.values())
        assert n > 100
        assert set(counts) <= set(probs)
        stat, df = _chi2(counts, probs, n)
        assert stat < _chi2_bound(df), f"chi2 {stat:.1f} over df {df} ({n} draws)"


def test_a_seeded_request_draws_the_same_tokens_with_and_without_drafts(
    tiny: ModelRuntime,
) -> None:
    """A drafted position is sampled as it would be without the draft (one draw of the
    sequence's generator per position), so a seed gives the same answer either way."""
    body = {"temperature": 0.9, "max_tokens": 40, "seed": 1234}
    plain, _ = _answers(tiny, TINY_PROMPTS, body, speculation=OFF)
    drafted, loop = _answers(
        tiny,
        TINY_PROMPTS,
        body,
        speculation=ALWAYS,
        drafter=_oracle(tiny, TINY_PROMPTS, plain, 5),
    )
    assert drafted == plain
    assert 0 < loop.batcher.accepted < loop.batcher.drafted


# -- a draft model ----------------------------------------------------------------------------


@pytest.mark.parametrize("same_weights", [True, False])
def test_a_draft_model_leaves_the_answers_unchanged(
    tiny: ModelRuntime, tiny_llama_gguf: Path, tmp_path: Path, same_weights: bool
) -> None:
    """The tiny model drafting for itself guesses every token right; another tiny model of
    the same vocabulary (other weights) mostly wrong. Either way the answers are the
    undrafted ones, the draft model's cells following each sequence's kept tokens."""
    from desktop.core.engine.draftmodel import DraftModel
    from tests.fixtures.tiny_llama import write_tiny_llama_gguf

    path = tiny_llama_gguf if same_weights else write_tiny_llama_gguf(tmp_path / "d.gguf", seed=8)
    options = {"n_ctx": 1024, "n_threads": 2, "n_threads_batch": 2, "flash_attn": "off"}
    draft = DraftModel(str(path), options, 4)
    try:
        plain, _ = _answers(tiny, TINY_PROMPTS, GREEDY, speculation=OFF)
        # Two rounds: the second reuses the draft model's cells of the first where they fit.
        for _ in range(2):
            drafted, loop = _answers(
                tiny,
                TINY_PROMPTS,
                GREEDY,
                speculation=SpeculationConfig(position_cost=0.5),
                draft_model=draft,
            )
            assert drafted == plain
            assert loop.batcher.drafted > 0
            if same_weights:
                assert loop.batcher.accepted == loop.batcher.drafted
                assert loop.done("r0")["usage"]["timings"]["tokens_per_step"] > 2
            else:
                assert loop.batcher.accepted < loop.batcher.drafted
    finally:
        draft.close()


# -- the prompt lookup on Gemma ----------------------------------------------------------------

PASSAGE = (
    "The Marrow Bridge weir was finished in the spring of 1873. It is a low wall of dressed "
    "granite, ninety feet long, that holds back the river Alder just below the old corn "
    "mill, so that the mill wheel keeps turning through the dry weeks of late summer. The "
    "town council paid for it with a loan of four hundred pounds, which it repaid over "
    "twenty years from the rent of the mill."
)


@pytest.fixture(scope="module")
def gemma(gemma_gguf: Path) -> Iterator[ModelRuntime]:
    rt = _runtime(gemma_gguf, parallel=2, n_ctx=2048)
    yield rt
    rt.close()


@pytest.mark.slow
def test_a_quoting_answer_takes_several_tokens_a_step(gemma: ModelRuntime) -> None:
    from tests.unit.test_engine_loop import assert_greedy_alone

    prompt = (
        f"Passage: {PASSAGE}\n\nCopy the passage above word for word.\n\nCopy: The Marrow "
        "Bridge weir"
    )
    loop = Loop(gemma)
    loop.submit("q", {"prompt": prompt, "max_tokens": 60, "temperature": 0})
    loop.run()
    done = loop.done("q")
    timings = done["usage"]["timings"]
    assert timings["tokens_per_step"] > 2.0, timings
    assert timings["draft_n_accepted"] > timings["draft_n"] // 2, timings
    assert PASSAGE[len("The Marrow Bridge weir") : 120] in loop.text("q")
    # Every token is the model's greedy choice (up to the CPU kernels' rounding by batch
    # shape; see assert_greedy_alone).
    from llama_cpp import Llama

    assert gemma.text is not None
    solo = Llama(gemma.spec.model_path, n_ctx=1024, n_threads=2, verbose=False)
    try:
        tokens = gemma.text.tokenize(prompt.encode(), add_bos=True, special=True)
        assert_greedy_alone(solo, tokens, done["token_ids"])
    finally:
        solo.close()


@pytest.mark.slow
def test_quoting_answers_past_the_sliding_window_side_by_side(gemma: ModelRuntime) -> None:
    """Two quoting requests at once, with prompts longer than Gemma 3's 512-token sliding
    window: dropping wrong guesses' cells must leave each sequence the window it needs
    (see Batcher._plan_drafts), so every token stays a greedy choice of its own prompt."""
    from llama_cpp import Llama

    from tests.unit.test_engine_loop import assert_greedy_alone

    notes = " ".join(f"Note {i}: {PASSAGE}" for i in range(1, 9))
    prompts = [
        f"{notes}\n\nCopy note 3 word for word.\n\nNote 3: The Marrow Bridge",
        f"{notes}\n\nCopy note 5 word for word.\n\nNote 5: The Marrow Bridge weir was",
    ]
    loop = Loop(gemma)
    for i, prompt in enumerate(prompts):
        loop.submit(f"w{i}", {"prompt": prompt, "max_tokens": 48, "temperature": 0})
    loop.run()
    assert gemma.text is not None
    assert len(gemma.text.tokenize(prompts[0].encode(), add_bos=True, special=True)) > 600
    assert loop.batcher.accepted > 0
    solo = Llama(gemma.spec.model_path, n_ctx=2048, n_threads=2, verbose=False)
    try:
        for i, prompt in enumerate(prompts):
            tokens = gemma.text.tokenize(prompt.encode(), add_bos=True, special=True)
            assert_greedy_alone(solo, tokens, loop.done(f"w{i}")["token_ids"])
    finally:
        solo.close()


@pytest.mark.slow
def test_grammar_output_stays_valid_with_drafts(gemma: ModelRuntime) -> None:
    """The prompt holds the very JSON the schema asks for, so the lookup drafts it; the
    grammar still decides every token."""
    schema = {
        "type": "object",
        "properties": {
            "place": {"type": "string", "maxLength": 20},
            "year": {"type": "integer"},
            "length_feet": {"type": "integer"},
        },
        "required": ["place", "year", "length_feet"],
        "additionalProperties": False,
    }
    example = json.dumps({"place": "Marrow Bridge", "year": 1873, "length_feet": 90})
    messages = [
        {
            "role": "user",
            "content": f"{PASSAGE}\n\nAnswer as JSON like this: {example}\nJSON: {example}\n"
            "Now write it again.",
        }
    ]
    fmt = {"type": "json_schema", "json_schema": {"name": "weir", "schema": schema}}
    loop = Loop(gemma)
    settings = [{"temperature": 0}, {"temperature": 0.8, "seed": 3}]
    for i, extra in enumerate(settings):
        loop.submit(
            f"j{i}",
            {"messages": messages, "response_format": fmt, "max_tokens": 80, **extra},
            op="chat",
        )
    loop.run()
    for i in range(len(settings)):
        assert loop.done(f"j{i}")["finish_reason"] == "stop"
        data = json.loads(loop.text(f"j{i}"))
        assert set(data) == {"place", "year", "length_feet"}
        assert isinstance(data["year"], int)
        assert isinstance(data["length_feet"], int)
    assert loop.batcher.drafted > 0
