"""Test an endpoint as FastGPT would: its request shapes, headers, key and time limits.

Each check sends one request FastGPT sends (reference/fastgpt.md §4) to the full URLs the export
writes as `requestUrl`, with the key the export writes as `requestAuth`, and reports pass or fail
with a reason a person can act on. Results come one by one through `on_result`, so a GUI can show
them as they arrive; `should_stop` cancels between requests and while a stream is being read.

The checks themselves (what is sent, what passes) are in `check_cases`; sending them as FastGPT
does is `check_http`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from desktop.core.export.check_cases import CHECKS, CheckModels, Probe
from desktop.core.export.check_http import CheckFailed, CheckStopped
from desktop.core.export.endpoint import Connection

__all__ = ["CheckModels", "CheckResult", "check_names", "run_fastgpt_check"]

log = logging.getLogger("xindesk.export")


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome.

    Attributes:
        name: What was sent (one of `check_names()`).
        passed: Whether FastGPT would accept the answer.
        reason: Why, in words a person can act on.
        seconds: How long the request took.
    """

    name: str
    passed: bool
    reason: str
    seconds: float


def check_names() -> list[str]:
    """The checks `run_fastgpt_check` runs, in order (for a GUI to list before they run)."""
    return [name for name, _check in CHECKS]


def run_fastgpt_check(
    endpoint: str,
    api_key: str | None,
    models: CheckModels,
    *,
    on_result: Callable[[CheckResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[CheckResult]:
    """Send FastGPT's requests to an endpoint and report each as pass or fail.

    Blocking; run it off the GUI thread.

    Args:
        endpoint: XinDesk's address as reachable from here (`http://127.0.0.1:9997`, with or
            without `/v1`); the paths are the ones the export writes.
        api_key: The key the export writes (None: the export's placeholder is sent).
        models: The uids to test (`CheckModels.from_selection`).
        on_result: Called with each result as soon as it is known.
        should_stop: Polled between checks and while a stream is read; True ends the run, and
            the check in progress is not reported.
        transport: An httpx transport (tests pass a mock).

    Returns:
        The results of the checks that ran, in order.
    """
    stop = should_stop or (lambda: False)
    probe = Probe(Connection.from_endpoint(endpoint, api_key), models, stop, transport)
    results: list[CheckResult] = []
    try:
        for name, check in CHECKS:
            if stop():
                log.info("FastGPT check stopped after %d of %d checks", len(results), len(CHECKS))
                break
            started = time.monotonic()
            try:
                reason, passed = check(probe), True
            except CheckFailed as failure:
                reason, passed = str(failure), False
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                # An answer shaped unlike OpenAI's: FastGPT would fail on it too, so it is a
                # failed check, not a crash of the whole run.
                reason, passed = f"The answer has an unexpected shape ({exc!r}).", False
            except CheckStopped:
                log.info("FastGPT check stopped during %r", name)
                break
            result = CheckResult(name, passed, reason, round(time.monotonic() - started, 3))
            log.debug("FastGPT check %s: %s (%s)", name, "pass" if passed else "fail", reason)
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        probe.close()
    return results
