"""A circuit breaker for a destination that cannot be reached at all (sync.http layer).

Retries are per request: they ride out a blip. A destination that is down (DNS gone,
connection refused, a firewall dropping packets, a host that accepts and never answers)
turns every batch into `max_retries` timeouts; before this breaker a run against a dead
destination was still going after 300 s and ended with exit 7 ("failed records"), which
says "look at your data" when the problem is the network.

The breaker counts connection failures and timeouts of one destination client *in a row*,
across batches and worker threads; any HTTP answer (even a 500 or a 429) proves the host is
reachable and resets it. It opens after `unreachable_after_failures` such failures, or once
a streak has lasted `unreachable_after_seconds`, whichever comes first. Once open, every
attempt fails at once with `DestinationUnreachable` (a `DestinationError`: exit 6, naming
the host); the engine checkpoints what was acknowledged and stops the sync, so state stays
as it is and the next run resends the rest.

Worst case with the defaults (5 failures, 60 s, `timeout_seconds` 30): an attempt may start
just before the 60 s mark and time out 30 s later, so the breaker opens within about 90 s of
the first failing attempt, well under two minutes; a refused connection opens it within the
backoff of five attempts (a few seconds). docs/reliability.md has the measured times.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sync.errors import DestinationError

DEFAULT_FAILURES = 5
DEFAULT_SECONDS = 60.0


class DestinationUnreachable(DestinationError):
    """The destination's host did not answer: connection failures/timeouts in a row."""


class CircuitBreaker:
    """Consecutive connection failures and timeouts of one destination client."""

    def __init__(
        self,
        host: str,
        max_failures: int = DEFAULT_FAILURES,
        max_seconds: float = DEFAULT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host  # scheme://host[:port]: never a path, which may be a secret
        self.max_failures = max_failures
        self.max_seconds = max_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._streak_started: float | None = None
        self._last_failure: float | None = None
        self._last_error = ""
        self._open: DestinationUnreachable | None = None

    @property
    def is_open(self) -> bool:
        return self._open is not None

    def before_attempt(self) -> float:
        """Raise if the breaker is open; else the start time to pass to `failure`."""
        now = self._clock()
        with self._lock:
            if self._open is not None:
                raise self._open
        return now

    def success(self) -> None:
        """Any HTTP answer: the host is reachable."""
        with self._lock:
            if self._open is None:
                self._failures = 0
                self._streak_started = None

    def failure(self, started: float, error: str) -> None:
        """A connection failure or timeout of an attempt that began at `started`; raises
        `DestinationUnreachable` if this one opens the breaker."""
        now = self._clock()
        with self._lock:
            if self._open is not None:
                raise self._open
            if self._last_failure is not None and started - self._last_failure > self.max_seconds:
                # nobody tried for a while (another sync ran): an old streak proves nothing
                self._failures, self._streak_started = 0, None
            self._failures += 1
            self._last_failure = now
            self._last_error = error
            if self._streak_started is None:
                self._streak_started = started
            if (
                self._failures >= self.max_failures
                or now - self._streak_started >= self.max_seconds
            ):
                self._open = self._error(now)
                raise self._open

    def _error(self, now: float) -> DestinationUnreachable:
        assert self._streak_started is not None
        return DestinationUnreachable(
            f"destination {self.host} is unreachable: {self._failures} connection "
            f"failure(s) or timeout(s) in a row over {now - self._streak_started:.0f} s "
            f"(last: {self._last_error}); this sync stopped, its state is kept and the "
            "records not yet acknowledged are sent again next run. Check the destination's "
            "status page, the network and the configured URL (limits: "
            f"unreachable_after_failures={self.max_failures}, "
            f"unreachable_after_seconds={self.max_seconds:g})"
        )
