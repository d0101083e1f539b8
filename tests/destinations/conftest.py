"""Fixtures: one running stand-in per API and destination factories with fast test pacing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sync.http import reset_gates
from tests.standins.customerio import CustomerIoStandIn

# Short timeouts and backoff so fault tests finish in milliseconds, not minutes.
FAST = {
    "requests_per_second": 2000,
    "burst": 200,
    "timeout_seconds": 0.5,
    "backoff_initial_seconds": 0.005,
    "backoff_max_seconds": 0.05,
    "max_retry_after_seconds": 0.2,
}

CANARY = "CANARY-s3cr3t-9f8e7d"


@pytest.fixture(autouse=True)
def _fresh_rate_limiters() -> Iterator[None]:
    reset_gates()
    yield
    reset_gates()


@pytest.fixture
def cio_standin() -> Iterator[CustomerIoStandIn]:
    with CustomerIoStandIn(site_id="site-42", api_key=CANARY) as standin:
        yield standin
