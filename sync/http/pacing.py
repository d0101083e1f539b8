"""Pacing: the knobs every HTTP destination accepts, and one shared gate per account.

One rate gate per destination account (`limit_key`), shared by every worker thread of a
run and by every sync in the process that talks to the same account, so two syncs to one
HubSpot portal split its burst limit instead of each assuming it owns it. A semaphore per
account caps requests in flight, and `pause_until` (set from `Retry-After`) pauses *all*
workers of that account, since the limit it reports is shared.

The gate is GCRA (the generic cell rate algorithm: rate + burst) with reservations: a caller
takes the next free send time under a lock and sleeps until it. This replaced
pyrate-limiter (issue 19): its blocking wait sleeps, wakes and competes for the bucket again,
so eight waiting senders lost slots to oversleeping and a 94/s limiter delivered 86-93
requests/s on a loaded machine, which alone held a Customer.io run under 90% of its
ceiling. A reservation is never lost: a late wake-up delays that one request only.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from sync.http.breaker import DEFAULT_FAILURES, DEFAULT_SECONDS


class PacingOptions(BaseModel):
    """Pacing and retry knobs every HTTP destination accepts; defaults are set per vendor.

    Mixed into a destination's Options next to `DestinationOptions` (not derived from it, so
    the HTTP layer does not import the destinations package that imports it).
    """

    model_config = ConfigDict(extra="forbid")

    requests_per_second: float = Field(10.0, gt=0)
    burst: int = Field(10, ge=1)
    max_in_flight: int = Field(4, ge=1, le=64)
    timeout_seconds: float = Field(30.0, gt=0)
    max_retries: int = Field(6, ge=0)
    backoff_initial_seconds: float = Field(0.5, ge=0)
    backoff_max_seconds: float = Field(30.0, ge=0)
    max_retry_after_seconds: float = Field(120.0, ge=0)
    # circuit breaker (sync.http.breaker): stop the sync with exit 6 when the host is unreachable
    unreachable_after_failures: int = Field(DEFAULT_FAILURES, ge=1)
    unreachable_after_seconds: float = Field(DEFAULT_SECONDS, gt=0)


class Pacer:
    """At most `rate` requests per second on average, `burst` at once, and never more than
    `rate + burst - 1` in any one-second window of actual sends.

    GCRA (the generic cell rate algorithm) with reservations spaces the requests; the
    window is the vendors' own definition ("100 requests per second"), checked against the
    times requests really left: senders that woke late from a reserved slot (a loaded
    machine can stall every thread for 100 ms) would otherwise go out together, and a
    window could hold a few more requests than the limit (a 429 that pauses everyone).
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval  # how far ahead of schedule one may be
        # What GCRA itself lets through in one second (a burst, then one per interval), so
        # the window only ever holds back senders that woke late and would bunch up.
        self.per_window = math.ceil(rate) + burst - 1
        self._clock = clock
        self._tat = 0.0  # theoretical arrival time of the next request
        self._sent: deque[float] = deque()  # send times within the last window
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next send slot; returns the seconds to wait before sending (0 = now)."""
        with self._lock:
            now = self._clock()
            at = max(now, self._tat - self.tolerance)
            self._tat = max(self._tat, at) + self.interval
            return at - now

    def admit(self) -> float:
        """Record a send now and return 0, or return the seconds until the window has room."""
        with self._lock:
            now = self._clock()
            sent = self._sent
            while sent and sent[0] <= now - 1.0:
                sent.popleft()
            if len(sent) >= self.per_window:
                return sent[0] + 1.0 - now
            sent.append(now)
            return 0.0

    def acquire(self, sleep: Callable[[float], None]) -> None:
        """Wait (with `sleep`) for a slot and room in the window; the request may go."""
        wait = self.reserve()
        if wait > 0:
            sleep(wait)
        while (wait := self.admit()) > 0:
            sleep(wait)


@dataclass
class Gate:
    """One account's pacer, in-flight bound and shared Retry-After pause."""

    pacer: Pacer
    in_flight: threading.BoundedSemaphore
    pause_until: float = 0.0  # monotonic time; set from Retry-After, honoured by all workers
    lock: threading.Lock = field(default_factory=threading.Lock)


_GATES: dict[str, Gate] = {}
_GATES_LOCK = threading.Lock()


def gate_for(key: str, pacing: PacingOptions) -> Gate:
    """The account's gate; the first client for an account fixes its pacing for the process."""
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            pacer = Pacer(pacing.requests_per_second, pacing.burst)
            gate = Gate(pacer, threading.BoundedSemaphore(pacing.max_in_flight))
            _GATES[key] = gate
        return gate


def reset_gates() -> None:
    """Forget all limiters (tests and benchmarks that reconfigure pacing call this)."""
    with _GATES_LOCK:
        _GATES.clear()
