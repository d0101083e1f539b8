"""Fixtures for the contract tests: fresh rate limiters and fast retry pacing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sync.http import reset_gates

# Milliseconds, not seconds: a replayed 429 or 5xx is retried once, quickly.
FAST = {
    "requests_per_second": 2000,
    "burst": 200,
    "timeout_seconds": 2.0,
    "max_retries": 1,
    "backoff_initial_seconds": 0.001,
    "backoff_max_seconds": 0.005,
    "max_retry_after_seconds": 0.01,
}


@pytest.fixture(autouse=True)
def _fresh_rate_limiters() -> Iterator[None]:
    reset_gates()
    yield
    reset_gates()


def statuses(outcomes) -> dict[str, str]:
    """key -> ok | retryable | permanent, and exactly one outcome per key."""
    keys = [o.key for o in outcomes]
    assert len(keys) == len(set(keys)), f"more than one outcome for a record: {keys}"
    return {o.key: o.status for o in outcomes}
