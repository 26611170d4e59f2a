"""The decode loop (`engine.batcher`) in-process on the real Gemma model.

Greedy output is compared token for token with llama-cpp-python's own generation; concurrent
requests with each one decoded alone; grammar output is parsed; cancelling and prompt reuse are
read from the loop's own counters, never from timings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.engine.batcher import Batcher, RequestEvent
from desktop.core.engine.protocol import WorkerSpec
from desktop.core.engine.runtime import ModelRuntime
from desktop.core.engine.speculative import OFF

pytestmark = pytest.mark.slow

PROMPTS = [
    "The history of the Roman Empire, from its founding to its fall, is a long and "
    "complicated story. It begins",
    "Here is a recipe for a simple tomato soup. First,",
    "def fibonacci(n):",
    "Les trois plus grandes villes de France sont",
]


class Loop:
    """A runtime and its batcher, with the events collected per request."""

    def __init__(self, runtime: ModelRuntime, **kwargs: Any) -> None:
        assert runtime.text is not None
        self.runtime = runtime
        self.events: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.batcher = Batcher(runtime.text, self._collect, prompt_chunk=8, **kwargs)

    def _collect(self, events: list[RequestEvent]) -> None:
        for rid, kind, payload in events:
            self.events.setdefault(rid, []).append((kind, payload))

    def submit(self, rid: str, op: str, params: dict[str, Any]) -> None:
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


def _runtime(path: Path, parallel: int, **kwargs: Any) -> ModelRuntime:
    spec = WorkerSpec(
        uid="gemma",
        model_type="LLM",
        model_path=str(path),
        llama_kwargs={"n_ctx": 1024, "n_threads": 2, "n_threads_batch": 2, **kwargs},
        parallel=parallel,
    )
    return ModelRuntime(spec)


@pytest.fixture(scope="module")
def runtime(gemma_gguf: Path) -> Iterator[ModelRuntime]:
    """Default launch settings (repacked weights, as llama.cpp and llama-server run)."""
    rt = _runtime(gemma_gguf, parallel=2)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def four(gemma_gguf: Path) -> Iterator[ModelRuntime]:
    rt = _runtime(gemma_gguf, parallel=4)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def solo(gemma_gguf: Path) -> Iterator[Any]:
    """llama-cpp-python decoding one sequence alone, one token per llama_decode."""
    from llama_cpp import Llama

    llm = Llama(str(gemma_gguf), n_ctx=1024, n_threads=2, n_threads_batch=2, verbose=False)
    yield llm
    llm.close()


def assert_greedy_alone(llm: Any, prompt: list[int], answer: list[int]) -> None:
    """Every answer token is the best next token of the model decoding this sequence alone,
    up to the rounding of the CPU kernels.

    llama.cpp picks its matrix kernels by the number of rows in a micro-batch (and repacked
    weights have separate one-row and many-row kernels), so the same sequence decoded beside
    others gets logits that differ from its solo ones: measured up to 1.3 (of about 10-20) for
    Gemma 3 270M between a 7-token and a 14-token batch. Where two tokens are that close a
    batched sequence may take the other one and go on from there; it is still a greedy answer
    of its own prompt. A sequence that saw another's tokens or cells would pick tokens far from
    the best.
    """
    import numpy as np

    llm.reset()
    llm.eval(prompt)
    for position, token in enumerate(answer):
        row = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
        best = float(row.max())
        assert float(row[token]) >= best - 2.0, (position, token, int(row.argmax()))
        llm.eval([token])


def _llama_greedy(path: Path, prompt: str, n: int) -> list[int]:
    from llama_cpp import Llama

    llm = Llama(str(path), n_ctx=1024, n_threads=2, n_threads_batch=2, verbose=False)
    tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
    out: list[int] = []
    for token in llm.generate(tokens, temp=0.0, repeat_penalty=1.0):
        if llm._model.token_eos() == token or len(out) >= n:
            break
        out.append(int(token))
    llm.close()
    return out


@pytest.fixture(scope="module")
def like_llama(gemma_gguf: Path) -> Iterator[ModelRuntime]:
    """llama-cpp-python's settings: flash attention off (its default)."""
    rt = _runtime(gemma_gguf, parallel=2, flash_attn="off")
    yield rt
    rt.close()


def test_greedy_is_token_for_token_llama_cpps(like_llama: ModelRuntime, gemma_gguf: Path) -> None:
    # Without drafts: a drafted token's logits come from a many-row batch, which the CPU's
    # quantized kernels round differently (see assert_greedy_alone); test_engine_speculative
    # checks drafted answers.
    loop = Loop(like_llama, speculation=OFF)
    for i, prompt in enumerate(PROMPTS[:3]):
        loop.submit(f"g{i}", "complete", {"prompt": prompt, "max_tokens": 48, "temperature": 0})
        loop.run()
        ours = loop.done(f"g{i}")["token_ids"]
        assert len(ours) == 48
        assert ours == _llama_greedy(gemma_gguf, prompt, 48), prompt


def test_concurrent_requests_are_each_their_own_greedy_answer(
    four: ModelRuntime, solo: Any
) -> None:
    loop = Loop(four)
    # Started together; with prompt_chunk=8 the longer prompts are read over several steps
    # while the shorter ones already generate.
    for i, prompt in enumerate(PROMPTS):
        loop.submit(f"a{i}", "complete", {"prompt": prompt, "max_tokens": 40, "temperature": 0})
    loop.batcher.step()
    assert loop.batcher.active == 4
    loop.run()
    assert four.text is not None
    for i, prompt in enumerate(PROMPTS):
        done = loop.done(f"a{i}")
        assert done["finish_reason"] in ("length", "stop")
        answer = done["token_ids"]
        assert answer, prompt
        if done["finish_reason"] == "length":
            assert len(answer) == 40
        tokens = four.text.tokenize(prompt.encode(), add_bos=True, special=True)
        assert_greedy_alone(solo, tokens, answer)
    assert loop.batcher.pool.busy == 0


def test_identical_requests_together_give_identical_answers(four: ModelRuntime) -> None:
    loop = Loop(four)
    for i in range(4):
        loop.submit(f"s{i}", "complete", {"prompt": PROMPTS[0], "max_tokens": 32, "temperature": 0})
    loop.run()
    answers = [loop.done(f"s{i}")["token_ids"] for i in range(4)]
    assert all(answer == answers[0] for answer in answers)


def test_a_step_is_built_in_sequence_id_order(four: ModelRuntime, solo: Any) -> None:
    """llama.cpp splits a batch into micro-batches of consecutive sequence ids (one KV stream
    per sequence), so a step that lists its sequences in another order costs one graph
    computation per sequence. Here the first request holds slot 2 and the second slot 0 or 1."""
    loop = Loop(four)
    pool = loop.batcher.pool
    pool.slots[0].busy = pool.slots[1].busy = True
    greedy = {"max_tokens": 12, "temperature": 0}
    loop.submit("late-slot", "complete", {"prompt": PROMPTS[2], **greedy})
    loop.batcher.step()
    pool.slots[0].busy = pool.slots[1].busy = False
    loop.submit("early-slot", "complete", {"prompt": PROMPTS[3], **greedy})
    loop.batcher.step()
    batch = loop.batcher._batch
    seq_ids = [int(s) for s in batch.seq[: batch.n]]
    assert len(set(seq_ids)) == 2, seq_ids
    assert seq_ids == sorted(seq_ids), seq_ids
    loop.run()
    # The logits rows still reach the right requests.
    assert four.text is not None
    for rid, prompt in (("late-slot", PROMPTS[2]), ("early-slot", PROMPTS[3])):
        tokens = four.text.tokenize(prompt.encode(), add_bos=True, special=True)
        assert_greedy_alone(solo, tokens, loop.done(rid)["token_ids"])


def test_more_requests_than_slots_wait_and_all_finish(runtime: ModelRuntime) -> None:
    loop = Loop(runtime)
    for i in range(5):
        loop.submit(f"q{i}", "complete", {"prompt": f"{i}. {PROMPTS[1]}", "max_tokens": 12})
    loop.batcher.step()
    assert loop.batcher.active == 2
    loop.run()
    for i in range(5):
        assert loop.done(f"q{i}")["usage"]["completion_tokens"] > 0


def test_cancel_frees_the_slot_at_once(runtime: ModelRuntime) -> None:
    loop = Loop(runtime)
    loop.submit("long1", "complete", {"prompt": PROMPTS[0], "max_tokens": 900})
    loop.submit("long2", "complete", {"prompt": PROMPTS[1], "max_tokens": 900})
    loop.submit("next", "complete", {"prompt": PROMPTS[2], "max_tokens": 5})
    for _ in range(4):
        loop.batcher.step()
    assert loop.batcher.pool.busy == 2
    assert "next" not in loop.events
    loop.batcher.cancel("long1")
    assert loop.batcher.pool.busy == 1
    loop.batcher.step()
    # The waiting request took the freed slot on the very next step.
    assert loop.batcher.active == 2
    loop.batcher.cancel("long2")
    loop.run()
    assert loop.done("next")["usage"]["completion_tokens"] == 5
    assert loop.events["long1"][-1][0] == "delta"
    assert loop.batcher.pool.busy == 0


def test_next_turn_reuses_the_cached_prefix(runtime: ModelRuntime) -> None:
    loop = Loop(runtime)
    messages: list[dict[str, str]] = [
        {"role": "system", "content": "You are a helpful assistant who answers briefly."},
    ]
    questions = ["Name a colour.", "Name an animal.", "Name a city.", "Name a fruit."]
    evaluated: list[int] = []
    for turn, question in enumerate(questions):
        messages.append({"role": "user", "content": question})
        before = loop.batcher.prompt_tokens_evaluated
        rid = f"turn{turn}"
        loop.submit(rid, "chat", {"messages": messages, "max_tokens": 16, "temperature": 0})
        loop.run()
        usage = loop.done(rid)["usage"]
        read = loop.batcher.prompt_tokens_evaluated - before
        cached = usage["prompt_tokens_details"]["cached_tokens"]
        assert read == usage["prompt_tokens"] - cached
        evaluated.append(read)
        if turn > 0:
            # Everything up to this turn's new message came from the cache.
            assert cached > usage["prompt_tokens"] // 2, usage
        messages.append({"role": "assistant", "content": loop.text(rid)})
    assert max(evaluated[1:]) < evaluated[0] + 20


def test_grammar_output_is_always_valid(runtime: ModelRuntime) -> None:
    loop = Loop(runtime)
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "maxLength": 16},
            "population": {"type": "integer"},
            "rivers": {
                "type": "array",
                "items": {"type": "string", "maxLength": 10},
                "maxItems": 2,
            },
        },
        "required": ["city", "population", "rivers"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "city", "schema": schema}}
    settings = [{"temperature": 0}] + [{"temperature": 1.0, "seed": s} for s in range(5)]
    for i, extra in enumerate(settings):
        messages = [{"role": "user", "content": "Describe a city as JSON."}]
        loop.submit(
            f"j{i}",
            "chat",
            {"messages": messages, "response_format": fmt, "max_tokens": 160, **extra},
        )
    loop.run()
    for i in range(len(settings)):
        assert loop.done(f"j{i}")["finish_reason"] == "stop"
        data = json.loads(loop.text(f"j{i}"))
        assert set(data) == {"city", "population", "rivers"}
        assert isinstance(data["population"], int)
        assert isinstance(data["rivers"], list)
        assert len(data["rivers"]) <= 2
        assert len(data["city"]) <= 16


def test_stop_strings_and_eos_end_the_answer(runtime: ModelRuntime) -> None:
    loop = Loop(runtime)
    loop.submit("s", "complete", {"prompt": PROMPTS[0], "max_tokens": 60, "temperature": 0})
    loop.run()
    full = loop.text("s")
    stop = full.split()[3]
    loop.submit(
        "t", "complete", {"prompt": PROMPTS[0], "max_tokens": 60, "temperature": 0, "stop": stop}
    )
    loop.run()
    assert loop.done("t")["finish_reason"] == "stop"
    assert loop.text("t") == full[: full.index(stop)]
