"""Generation requests as the inference routes run them: `n` independent choices side by side,
merged into one sequence of events, ended early when the server shuts down.

Each choice is its own request to the model's worker, which decodes them together (continuous
batching), so `n` answers cost about what `n` parallel requests cost. A stream the server
cannot finish (its worker crashed or was stopped, the server is shutting down) ends with an
error event in OpenAI's shape and `[DONE]` (see `routers.openai`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio

from desktop.core.errors import InvalidRequest, ModelStopped
from desktop.core.running.supervisor import Supervisor

Event = tuple[str, dict[str, Any]]
Events = AsyncGenerator[Event, None]
ChoiceEvent = tuple[int, str, dict[str, Any]]

# The most choices (`n`) one request may ask for.
MAX_CHOICES = 16
# Seconds a stream gets, once the server starts shutting down, to send its last events.
SHUTDOWN_GRACE_S = 2.0
SHUTTING_DOWN = "The server is shutting down; send the request again once it is back."

# Queue items that are not a worker's events (its kinds are delta, tool_calls, done, result).
_ENDED, _FAILED, _SHUTDOWN = "ended", "failed", "shutdown"


async def started(events: Events) -> Events:
    """Pull the first event before answering, so errors found up front (a prompt too long, an
    unknown tool) get a real HTTP status; return all the events, that one included."""
    try:
        first: Event | None = await events.__anext__()
    except StopAsyncIteration:
        first = None

    async def replay() -> Events:
        try:
            if first is not None:
                yield first
            async for item in events:
                yield item
        finally:
            # A client that goes away closes this; close the request too, which cancels it in
            # the worker at once.
            await events.aclose()

    return replay()


def choices_asked(extra: dict[str, Any] | None) -> int:
    """The request's `n` (1 when it does not say): 1 to MAX_CHOICES, or `InvalidRequest`."""
    raw = (extra or {}).get("n")
    if raw is None:
        return 1
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_CHOICES:
        shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:37] + "..."
        raise InvalidRequest(f"n={shown}: ask for 1 to {MAX_CHOICES} choices.")
    return raw


async def open_choices(
    supervisor: Supervisor,
    model: str,
    op: str,
    params: dict[str, Any],
    n: int,
    *,
    keep_alive: object = None,
) -> list[Events]:
    """Start `n` independent generations of one request, side by side; each has sent its first
    event (so an error found up front is raised here). A seeded request gives each choice its
    own seed (seed, seed + 1, ...), so the choices differ and the answer still repeats."""
    requests = []
    for index in range(n):
        choice = dict(params)
        seed = params.get("seed")
        if index and isinstance(seed, int):
            choice["seed"] = seed + index
        requests.append(supervisor.stream(model, op, choice, keep_alive=keep_alive))
    opened = await asyncio.gather(*(started(r) for r in requests), return_exceptions=True)
    failed = [result for result in opened if isinstance(result, BaseException)]
    if failed:
        for result in opened:
            if not isinstance(result, BaseException):
                await result.aclose()
        raise failed[0]
    return [result for result in opened if not isinstance(result, BaseException)]


async def merged(
    choices: list[Events], shutdown: anyio.Event | None = None
) -> AsyncIterator[ChoiceEvent]:
    """The events of every choice as they come, each with its choice's index.

    Raises the first choice's error (the others are cancelled), or `ModelStopped` with code
    "server_shutdown" once `shutdown` is set.
    """
    queue: asyncio.Queue[tuple[int, str, Any]] = asyncio.Queue()

    async def pump(index: int, events: Events) -> None:
        try:
            async for kind, payload in events:
                queue.put_nowait((index, kind, payload))
        except Exception as exc:  # noqa: BLE001 - raised again by the consumer
            queue.put_nowait((index, _FAILED, exc))
        else:
            queue.put_nowait((index, _ENDED, None))

    async def watch(event: anyio.Event) -> None:
        await event.wait()
        queue.put_nowait((-1, _SHUTDOWN, None))

    tasks = [asyncio.create_task(pump(i, events)) for i, events in enumerate(choices)]
    if shutdown is not None:
        tasks.append(asyncio.create_task(watch(shutdown)))
    ended = 0
    try:
        while ended < len(choices):
            index, kind, payload = await queue.get()
            if kind == _ENDED:
                ended += 1
            elif kind == _FAILED:
                raise payload
            elif kind == _SHUTDOWN:
                raise ModelStopped(SHUTTING_DOWN, code="server_shutdown")
            else:
                yield index, kind, payload
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for events in choices:
            with contextlib.suppress(Exception):
                await events.aclose()


def merged_usage(dones: list[dict[str, Any]]) -> dict[str, Any]:
    """The usage of all choices: the prompt once, the completions added up."""
    usages = [done.get("usage") or {} for done in dones]
    if len(usages) == 1:
        return usages[0]
    first = usages[0]
    completion = sum(int(usage.get("completion_tokens") or 0) for usage in usages)
    prompt = int(first.get("prompt_tokens") or 0)
    # Timings describe one generation; the choices ran side by side.
    usage = {key: value for key, value in first.items() if key != "timings"}
    usage.update(completion_tokens=completion, total_tokens=prompt + completion)
    return usage


@dataclass
class Collected:
    """A whole answer: its text, a thinking model's reasoning, the tool calls, and the
    closing `done`."""

    text: str = ""
    reasoning: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    done: dict[str, Any] = field(default_factory=dict)


async def collected(events: Events) -> Collected:
    """A whole answer from its events."""
    answer = Collected()
    async for kind, payload in events:
        if kind == "delta":
            answer.text += payload["text"]
        elif kind == "reasoning":
            answer.reasoning += payload["text"]
        elif kind == "tool_calls":
            answer.calls.extend(payload["calls"])
        elif kind == "done":
            answer.done = payload
    return answer
