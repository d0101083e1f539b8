"""The HTTP client every destination uses: timeouts, retries with backoff, pacing.

- **Timeouts** on every call (httpx timeout from the options; no call can hang a run).
- **Retries** with exponential backoff and jitter (tenacity) on 429, 5xx, timeouts and dropped
  connections. `Retry-After` is honoured and pauses every worker of the account (`pacing`).
- **Bounded concurrency.** `HttpClient.map` runs batches on a thread pool no larger than the
  account's in-flight bound.
  *Why threads, not asyncio:* `Destination.send()` is a synchronous call from a synchronous
  engine, the work is I/O bound and capped by the vendor's rate limit at a few dozen requests
  per second, and httpx's sync `Client` is thread-safe with pooled keep-alive connections. A
  handful of threads saturates any published limit, and we avoid running an event loop inside
  `send()` (which breaks if a caller already runs one) and colouring every destination async.
- **TLS verification** is always on; `urls.check_url` refuses plain http except to loopback.
- **Redaction.** Text read from a response (`body_excerpt`) or a transport error is redacted
  here, where it enters the program.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from sync import interrupt
from sync.http.breaker import CircuitBreaker
from sync.http.errors import RetrySignal, TransientHttpError
from sync.http.pacing import PacingOptions, gate_for
from sync.http.urls import check_url, describe_url
from sync.secrets import LIBRARY_LOGGERS, install_redaction, redact
from sync.types import DestinationStats

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO; a webhook URL is a credential.
install_redaction(*(logging.getLogger(name) for name in LIBRARY_LOGGERS))

T = TypeVar("T")
R = TypeVar("R")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date); None if absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def body_excerpt(response: httpx.Response, limit: int = 300) -> str:
    """A short, redacted, single-line excerpt of a response body for error messages."""
    text = response.text if response.content else ""
    if "<html" in text[:200].lower():
        title = re.search(r"(?is)<title>(.*?)</title>", text)
        text = f"HTML error page{': ' + title.group(1).strip() if title else ''}"
    text = " ".join(text.split())
    return redact(text[:limit])


def response_json(response: httpx.Response) -> Any:
    """Parsed JSON body, or raise TransientHttpError: a garbled answer proves nothing."""
    try:
        return response.json()
    except ValueError:
        raise TransientHttpError(
            f"http_{response.status_code}_unparseable",
            f"response was not valid JSON ({body_excerpt(response, 120)!r})",
        ) from None


def dumps(payload: Any) -> bytes:
    """Compact JSON as sent on the wire; NaN/Infinity are refused (JSON has no such values)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class HttpClient:
    """A paced, retrying httpx client for one destination account."""

    def __init__(
        self,
        base_url: str,
        *,
        pacing: PacingOptions,
        stats: DestinationStats,
        limit_key: str,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
        sleep: Callable[[float], None] = interrupt.sleep,
    ) -> None:
        check_url(base_url)
        self.base_url = base_url.rstrip("/")
        self.pacing = pacing
        self.stats = stats
        self.limit_key = limit_key
        self.retry_statuses = retry_statuses
        self._sleep = sleep
        self._stats_lock = threading.Lock()
        self._gate = gate_for(limit_key, pacing)
        self.breaker = CircuitBreaker(
            describe_url(self.base_url),
            pacing.unreachable_after_failures,
            pacing.unreachable_after_seconds,
        )
        self._client = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            headers=headers,
            timeout=httpx.Timeout(pacing.timeout_seconds),
            verify=True,  # never configurable: TLS verification is always on
            follow_redirects=False,
            limits=httpx.Limits(max_connections=pacing.max_in_flight + 2),
        )

    # -- single requests -----------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """Send one request, retrying transient failures; returns the final response.

        Returns any non-retryable response (2xx, 4xx) for the caller to interpret. Raises
        `TransientHttpError` when retries ran out on 429/5xx/timeouts/dropped connections.
        """
        if url.startswith(("http://", "https://")):
            check_url(url)
        if json_body is not None:
            content = dumps(json_body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        attempts = (self.pacing.max_retries + 1) if retry else 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception_type(RetrySignal),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, content, data, headers)
        except RetrySignal as exc:
            raise TransientHttpError(exc.code, exc.message) from None

    def _attempt(
        self,
        method: str,
        url: str,
        content: bytes | None,
        data: dict[str, str] | None,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        gate = self._gate
        pause = gate.pause_until - time.monotonic()
        if pause > 0:
            self._sleep(pause)
        interrupt.check()  # SIGTERM/SIGINT: start no new attempt
        gate.pacer.acquire(self._sleep)
        with gate.in_flight:
            started = self.breaker.before_attempt()  # open: DestinationUnreachable (exit 6)
            with self._stats_lock:
                self.stats.requests += 1
                self.stats.bytes_sent += len(content or b"")
            try:
                response = self._client.request(
                    method, url, content=content, data=data, headers=headers
                )
            except httpx.TimeoutException:
                message = f"no answer within {self.pacing.timeout_seconds:g}s"
                self.breaker.failure(started, f"timeout: {message}")
                raise RetrySignal("timeout", message) from None
            except httpx.TransportError as exc:
                message = redact(f"{type(exc).__name__}: {exc}")
                self.breaker.failure(started, message)
                raise RetrySignal("connection_error", message) from None
            self.breaker.success()
        status = response.status_code
        if status in self.retry_statuses:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429:
                with self._stats_lock:
                    self.stats.throttled += 1
                if retry_after is not None:
                    wait_s = min(retry_after, self.pacing.max_retry_after_seconds)
                    with gate.lock:
                        gate.pause_until = max(gate.pause_until, time.monotonic() + wait_s)
            raise RetrySignal(
                f"http_{status}", body_excerpt(response) or f"HTTP {status}", retry_after
            )
        return response

    def _wait(self, state: RetryCallState) -> float:
        p = self.pacing
        backoff = min(
            p.backoff_max_seconds, p.backoff_initial_seconds * 2 ** (state.attempt_number - 1)
        )
        backoff = random.uniform(backoff / 2, backoff)  # jitter: workers don't retry in step
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetrySignal) and exc.retry_after is not None:
            return max(backoff, min(exc.retry_after, p.max_retry_after_seconds))
        return backoff

    def _before_sleep(self, state: RetryCallState) -> None:
        with self._stats_lock:
            self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.debug(
            "retrying %s after %s (attempt %d)",
            describe_url(self.base_url),
            redact(exc),
            state.attempt_number,
        )

    # -- many batches --------------------------------------------------------------------

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """`fn` over `items` on at most `max_in_flight` threads; results in input order.

        The first exception (e.g. a DestinationError for revoked credentials) cancels the
        batches not yet started and is re-raised.
        """
        if len(items) <= 1 or self.pacing.max_in_flight == 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(
            max_workers=min(self.pacing.max_in_flight, len(items)),
            thread_name_prefix="plg-sync-http",
        ) as pool:
            futures = [pool.submit(fn, item) for item in items]
            wait(futures, return_when="FIRST_EXCEPTION")
            for future in futures:
                if future.done() and future.exception() is not None:
                    pool.shutdown(cancel_futures=True)
                    raise future.exception()  # type: ignore[misc]
            return [future.result() for future in futures]

    def close(self) -> None:
        self._client.close()
