"""Slowing down an address that keeps sending wrong API keys.

The first `FREE_FAILURES` wrong keys from one address within `WINDOW_S` are answered 401 as
usual; each further one within the window is answered 429 with a `Retry-After` that doubles
(1, 2, 4 ... up to `MAX_WAIT_S` seconds), and the server log says so once. The right key always
passes, whatever the address's record: containers share one address (Docker's gateway), and a
FastGPT with the right key must keep working beside one configured with an old key. What makes
guessing futile is the key's length (LAN access needs `MIN_LAN_KEY_LENGTH` characters); this
turns a guessing client into visible 429s and a warning instead of a silent stream of 401s.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("xindesk.server.auth")

FREE_FAILURES = 5
WINDOW_S = 60.0
MAX_WAIT_S = 60
# Addresses remembered at most; past it, those without a failure in the window are forgotten.
MAX_ADDRESSES = 1024


class WrongKeyThrottle:
    """Wrong-key failures per client address (one per server, on its state).

    Args:
        clock: seconds (monotonic); tests pass their own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def failed(self, address: str) -> int | None:
        """Record a wrong key from `address`; the seconds it should wait before trying again,
        or None while it has not failed more than `FREE_FAILURES` times within the window."""
        now = self._clock()
        if len(self._failures) >= MAX_ADDRESSES:
            self._forget_old(now)
        times = self._failures.setdefault(address, deque())
        while times and now - times[0] > WINDOW_S:
            times.popleft()
        times.append(now)
        beyond = len(times) - FREE_FAILURES
        if beyond <= 0:
            return None
        if beyond == 1:
            log.warning(
                "%d wrong API keys from %s within %d s: answering 429 until it stops",
                len(times),
                address,
                int(WINDOW_S),
            )
        return int(min(2 ** (beyond - 1), MAX_WAIT_S))

    def failures(self, address: str) -> int:
        """Wrong keys from `address` within the window."""
        now = self._clock()
        return sum(1 for at in self._failures.get(address, ()) if now - at <= WINDOW_S)

    def _forget_old(self, now: float) -> None:
        for address in [a for a, times in self._failures.items() if now - times[-1] > WINDOW_S]:
            del self._failures[address]
        if len(self._failures) >= MAX_ADDRESSES:
            # Every one failed within the window: the oldest records go first.
            by_age = sorted(self._failures, key=lambda a: self._failures[a][-1])
            for address in by_age[: len(by_age) // 2]:
                del self._failures[address]
