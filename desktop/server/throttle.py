"""Slowing down an address that keeps trying wrong API keys.

Guessing means trying many different keys, so the throttle counts the *different* wrong keys
each client address sent within `WINDOW_S`. Up to `FREE_FAILURES` of them are answered 401 as
usual; past that, every wrong key from the address is answered 429 with a `Retry-After` that
doubles with each further different key (1, 2, 4 ... up to `MAX_WAIT_S` seconds), and the
server log says so once. A client that keeps sending the same stale key (FastGPT after the key
was replaced, the FastGPT check) keeps getting the plain 401 that says what is wrong.

The right key always passes, whatever the address's record: containers share one address
(Docker's gateway), and a FastGPT with the right key must keep working beside one with an old
key. What makes guessing futile is the key's length (LAN access needs `MIN_LAN_KEY_LENGTH`
characters); the throttle turns a guessing client into 429s and a warning in the log.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

log = logging.getLogger("xindesk.server.auth")

FREE_FAILURES = 5
WINDOW_S = 60.0
MAX_WAIT_S = 60
# Different wrong keys remembered per address: past these the wait is at its longest anyway.
MAX_KEYS_PER_ADDRESS = FREE_FAILURES + 8
# Addresses remembered at most; past it, those without a failure in the window are forgotten.
MAX_ADDRESSES = 1024


class WrongKeyThrottle:
    """Different wrong keys per client address (one per server, on its state). Only a short
    digest of each wrong key is kept, never the key.

    Args:
        clock: seconds (monotonic); tests pass their own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # address -> digest of a wrong key -> when it was last sent (oldest first)
        self._failures: dict[str, dict[bytes, float]] = {}

    def failed(self, address: str, key: str) -> int | None:
        """Record the wrong `key` from `address`; the seconds the address should wait before
        trying again, or None while it has sent at most `FREE_FAILURES` different wrong keys
        within the window."""
        now = self._clock()
        if address not in self._failures and len(self._failures) >= MAX_ADDRESSES:
            self._forget_old(now)
        keys = self._failures.setdefault(address, {})
        for digest in [d for d, at in keys.items() if now - at > WINDOW_S]:
            del keys[digest]
        digest = hashlib.sha256(key.encode()).digest()[:16]
        keys.pop(digest, None)
        keys[digest] = now
        while len(keys) > MAX_KEYS_PER_ADDRESS:
            del keys[next(iter(keys))]
        beyond = len(keys) - FREE_FAILURES
        if beyond <= 0:
            return None
        if beyond == 1:
            log.warning(
                "%d different wrong API keys from %s within %d s: answering 429",
                len(keys),
                address,
                int(WINDOW_S),
            )
        return int(min(2 ** (beyond - 1), MAX_WAIT_S))

    def failures(self, address: str) -> int:
        """Different wrong keys from `address` within the window."""
        now = self._clock()
        return sum(1 for at in self._failures.get(address, {}).values() if now - at <= WINDOW_S)

    def _forget_old(self, now: float) -> None:
        def last(address: str) -> float:
            return max(self._failures[address].values(), default=0.0)

        for address in [a for a in self._failures if now - last(a) > WINDOW_S]:
            del self._failures[address]
        if len(self._failures) >= MAX_ADDRESSES:
            # Every one failed within the window: the longest quiet go first.
            by_age = sorted(self._failures, key=last)
            for address in by_age[: len(by_age) // 2]:
                del self._failures[address]
