"""The circuit breaker's rules, on a fake clock (issue 15, item 3): what opens it, what resets
it, and the message a user sees. The end-to-end trials are in test_circuit_breaker.py."""

from __future__ import annotations

import pytest

from sync.http.breaker import CircuitBreaker, DestinationUnreachable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(breaker: CircuitBreaker, clock: Clock, seconds: float = 0.0) -> None:
    started = breaker.before_attempt()
    clock.now += seconds
    breaker.failure(started, "ConnectError: [Errno 111] Connection refused")


def test_it_opens_after_n_failures_in_a_row_and_names_the_host() -> None:
    clock = Clock()
    breaker = CircuitBreaker("https://track.customer.io", max_failures=3, clock=clock)
    _fail(breaker, clock)
    _fail(breaker, clock)
    with pytest.raises(DestinationUnreachable) as caught:
        _fail(breaker, clock)
    message = str(caught.value)
    assert "https://track.customer.io is unreachable" in message
    assert "3 connection failure(s)" in message and "Connection refused" in message
    assert caught.value.exit_code == 6
    with pytest.raises(DestinationUnreachable):  # open: every later attempt fails at once
        breaker.before_attempt()


def test_any_http_answer_resets_the_count() -> None:
    clock = Clock()
    breaker = CircuitBreaker("https://api.hubapi.com", max_failures=3, clock=clock)
    for _ in range(5):
        _fail(breaker, clock)
        _fail(breaker, clock)
        breaker.before_attempt()
        breaker.success()  # e.g. a 500 or a 429: the host answered
    assert not breaker.is_open


def test_slow_timeouts_open_it_by_time_before_the_count() -> None:
    clock = Clock()
    breaker = CircuitBreaker("https://x.example", max_failures=5, max_seconds=60, clock=clock)
    _fail(breaker, clock, 30)  # a 30 s timeout
    clock.now += 0.5  # backoff
    with pytest.raises(DestinationUnreachable, match="2 connection failure"):
        _fail(breaker, clock, 30)  # the streak has lasted 60.5 s


def test_an_old_streak_after_a_pause_proves_nothing() -> None:
    clock = Clock()
    breaker = CircuitBreaker("https://x.example", max_failures=3, max_seconds=60, clock=clock)
    _fail(breaker, clock)
    _fail(breaker, clock)
    clock.now += 600  # other syncs ran; nobody called this destination
    _fail(breaker, clock)  # one failure of a new streak, not the third of the old one
    assert not breaker.is_open
