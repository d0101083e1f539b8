"""Pacing: the knobs every HTTP destination accepts, and one shared gate per account.

One token bucket per destination account (`limit_key`), shared by every worker thread of a
run and by every sync in the process that talks to the same account, so two syncs to one
HubSpot portal split its burst limit instead of each assuming it owns it. The bucket is
pyrate-limiter's GCRA/token bucket (rate + burst), not hand-written code. A semaphore per
account caps requests in flight, and `pause_until` (set from `Retry-After`) pauses *all*
workers of that account, since the limit it reports is shared.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field
from pyrate_limiter import Limiter, Rate, StateBucket, TokenBucket


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


@dataclass
class Gate:
    """One account's limiter, in-flight bound and shared Retry-After pause."""

    limiter: Limiter
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
            # Rate(limit, interval_ms, burst): express r/s with ms resolution so fractional
            # rates (0.5/s) work; GCRA only uses interval/limit and the burst.
            rate = Rate(max(1, round(pacing.requests_per_second * 1000)), 1_000_000, pacing.burst)
            limiter = Limiter(StateBucket([rate], algorithm=TokenBucket()), buffer_ms=5)
            gate = Gate(limiter, threading.BoundedSemaphore(pacing.max_in_flight))
            _GATES[key] = gate
        return gate


def reset_gates() -> None:
    """Forget all limiters (tests and benchmarks that reconfigure pacing call this)."""
    with _GATES_LOCK:
        _GATES.clear()
