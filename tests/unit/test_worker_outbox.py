"""The worker's event writer (`engine.worker_side.Outbox`) over a real pipe, and what the server
process imports (numpy is the model worker's alone)."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import pytest

from desktop.core.engine.worker_side import Outbox, merge_deltas

# Long enough that no test here ever reaches it: what goes out early must be sent because it
# is urgent, not because the interval passed.
NEVER_S = 600.0


@pytest.fixture
def pipe() -> Iterator[tuple[Connection, Outbox]]:
    reader, writer = multiprocessing.Pipe(duplex=False)
    outbox = Outbox(writer, interval=NEVER_S)
    yield reader, outbox
    outbox.close()
    reader.close()
    writer.close()


def receive(reader: Connection) -> list[tuple[str, str, dict[str, Any]]]:
    assert reader.poll(30), "the outbox sent nothing"
    tag, events = reader.recv()
    assert tag == "events"
    return list(events)


def test_first_text_goes_out_at_once(pipe: tuple[Connection, Outbox]) -> None:
    reader, outbox = pipe
    outbox.put([("r1", "delta", {"text": "Hel"})])
    assert receive(reader) == [("r1", "delta", {"text": "Hel"})]


def test_later_text_waits_and_the_end_takes_it_along(pipe: tuple[Connection, Outbox]) -> None:
    reader, outbox = pipe
    outbox.put([("r1", "delta", {"text": "Hel"})])
    receive(reader)
    outbox.put([("r1", "delta", {"text": "lo"})])
    outbox.put([("r1", "delta", {"text": " there"})])
    # Nothing urgent yet: the text is held (the interval is ten minutes away).
    assert not reader.poll(0.3)
    done = {"finish_reason": "stop"}
    outbox.put([("r1", "done", done)])
    assert receive(reader) == [("r1", "delta", {"text": "lo there"}), ("r1", "done", done)]


def test_another_requests_first_text_is_not_held(pipe: tuple[Connection, Outbox]) -> None:
    reader, outbox = pipe
    outbox.put([("r1", "delta", {"text": "a"})])
    receive(reader)
    outbox.put([("r1", "delta", {"text": "b"})])
    outbox.put([("r2", "delta", {"text": "x"})])
    # r2's first text is urgent and takes r1's waiting text with it, in order.
    assert receive(reader) == [("r1", "delta", {"text": "b"}), ("r2", "delta", {"text": "x"})]


def test_close_sends_what_is_left(pipe: tuple[Connection, Outbox]) -> None:
    reader, outbox = pipe
    outbox.put([("r1", "delta", {"text": "a"})])
    receive(reader)
    outbox.put([("r1", "delta", {"text": "b"})])
    outbox.close()
    assert receive(reader) == [("r1", "delta", {"text": "b"})]


def test_a_forgotten_request_starts_afresh(pipe: tuple[Connection, Outbox]) -> None:
    reader, outbox = pipe
    outbox.put([("r1", "delta", {"text": "a"})])
    receive(reader)
    outbox.forget("r1")
    # As if new: its text is not held.
    outbox.put([("r1", "delta", {"text": "b"})])
    assert receive(reader) == [("r1", "delta", {"text": "b"})]


def test_merge_keeps_other_events_in_place() -> None:
    events = [
        ("a", "delta", {"text": "1"}),
        ("b", "delta", {"text": "x"}),
        ("a", "delta", {"text": "2"}),
        ("a", "done", {"finish_reason": "stop"}),
        ("a", "delta", {"text": "3"}),
    ]
    assert merge_deltas(events) == [
        ("a", "delta", {"text": "12"}),
        ("b", "delta", {"text": "x"}),
        ("a", "done", {"finish_reason": "stop"}),
        ("a", "delta", {"text": "3"}),
    ]


def test_the_server_process_does_not_import_numpy_or_httpx() -> None:
    # numpy is ~14 MiB of the server's memory; only the model worker needs it. httpx (with
    # the rich/click/pygments it loads when installed) was 5 MiB of the idle server, which
    # needs it only to download or to check the hubs.
    code = (
        "import sys, desktop.cli, desktop.server.app, desktop.core.running.supervisor; "
        "print('numpy' in sys.modules, 'llama_cpp' in sys.modules, 'httpx' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["False", "False", "False"]
