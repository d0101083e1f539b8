"""The one HTTP layer every destination uses: pacing, bounded concurrency, retries, redaction.

A destination module builds payloads and parses responses; everything about *how* a request
travels lives here, once:

- **Pacing.** One token bucket per destination account (`limit_key`), shared by every worker
  thread of a run and by every sync in the process that talks to the same account, so two
  syncs to one HubSpot portal split its burst limit instead of each assuming it owns it.
  The bucket is pyrate-limiter's GCRA/token bucket (rate + burst), not hand-written code.
- **Bounded in-flight requests.** A semaphore per account caps concurrent requests, and
  `HttpClient.map` runs batches on a small thread pool of that size.
  *Why threads, not asyncio:* `Destination.send()` is a synchronous call from a synchronous
  engine, the work is I/O bound and capped by the vendor's rate limit at a few dozen requests
  per second, and httpx's sync `Client` is thread-safe with pooled keep-alive connections. A
  handful of threads saturates any published limit, and we avoid running an event loop inside
  `send()` (which breaks if a caller already runs one) and colouring every destination async.
- **Timeouts** on every call (httpx timeout from the options; no call can hang a run).
- **Retries** with exponential backoff and jitter (tenacity) on 429, 5xx, timeouts and dropped
  connections. `Retry-After` is honoured and pauses *all* workers of that account, since the
  limit it reports is shared.
- **Bisection** of a batch the API rejected as a whole (400/413) until the bad record is alone
  and gets its own permanent outcome, so one bad row never blocks a batch.
- **Redaction.** Secrets registered here (tokens, passwords, webhook URLs, their basic-auth
  and URL-encoded forms) are replaced by `***` in every message we build and in httpx's own
  log lines. TLS verification is always on; plain http is refused except for loopback hosts,
  which is what the test stand-ins use.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, SecretStr
from pyrate_limiter import Limiter, Rate, StateBucket, TokenBucket
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from sync import interrupt
from sync.breaker import DEFAULT_FAILURES, DEFAULT_SECONDS, CircuitBreaker
from sync.errors import ConfigError
from sync.records import Outcome

if TYPE_CHECKING:  # sync.destinations imports this module; keep the import one-way at runtime
    from sync.destinations.base import DestinationStats

log = logging.getLogger("sync.http")

T = TypeVar("T")
R = TypeVar("R")

# --------------------------------------------------------------------------------------------
# Secrets and redaction
# --------------------------------------------------------------------------------------------

_MASK = "***"
_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_MIN_SECRET_LEN = 6  # shorter values would mask ordinary text; nobody's token is that short
_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|basic)?\s*[^\s'\",}]+"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(https?://)[^/\s:@]+:[^/\s@]+@"),  # user:password@host
    re.compile(r"(?i)(hooks\.slack\.com/services/)[^\s'\"]+"),
]


def reveal(value: Any) -> str:
    """The plain value of a secret, whatever wrapper it arrived in.

    Accepts a str, the engine's `sync.secrets.Secret` (`.reveal()` / `.get()`), or pydantic's
    `SecretStr` (`.get_secret_value()`), so destinations do not depend on which one config
    produced.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    for attr in ("reveal", "get_secret_value", "get"):
        method = getattr(value, attr, None)
        if callable(method):
            return str(method())
    raise TypeError(f"cannot read a secret from a {type(value).__name__}")


def _as_secret(value: Any) -> Any:
    # Plain strings become SecretStr so an Options repr never shows them; the engine's own
    # Secret type (anything with reveal/get) is kept as it is.
    if isinstance(value, str):
        return SecretStr(value)
    if value is None or any(
        callable(getattr(value, a, None)) for a in ("reveal", "get_secret_value", "get")
    ):
        return value
    raise ValueError("expected a secret (a string or a Secret)")


SecretValue = Annotated[
    Any,
    BeforeValidator(_as_secret),
    PlainSerializer(lambda v: _MASK, return_type=str),
]
"""Type for secret fields of destination options: masked in repr and in dumps."""


def _unwrap_plain(value: Any) -> Any:
    # sync.yml may fill non-secret fields from env too (`${CIO_SITE_ID}`), which config turns
    # into a Secret; such fields are identifiers, not credentials, so read them as text.
    if not isinstance(value, str) and callable(getattr(value, "reveal", None)):
        return value.reveal()
    return value


PlainStr = Annotated[str, BeforeValidator(_unwrap_plain)]
"""Type for non-secret text options that may still arrive wrapped in a Secret."""


def register_secret(value: Any, *derived: str) -> str:
    """Remember a secret (and derived forms) so `redact` masks it; returns the plain value."""
    plain = reveal(value)
    forms = {plain, quote(plain, safe=""), *derived}
    with _SECRETS_LOCK:
        _SECRETS.update(f for f in forms if f and len(f) >= _MIN_SECRET_LEN)
    return plain


def basic_auth_secret(user: str, password: str) -> None:
    """Register a basic-auth password and the base64 header value built from it."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    register_secret(password, token)


def redact(text: object) -> str:
    """`text` with every registered secret and credential-shaped substring masked."""
    out = str(text)
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in out:
            out = out.replace(secret, _MASK)
    out = _PATTERNS[0].sub(lambda m: m.group(1) + _MASK, out)
    out = _PATTERNS[1].sub(lambda m: m.group(1) + " " + _MASK, out)
    out = _PATTERNS[2].sub(lambda m: m.group(1) + _MASK + "@", out)
    out = _PATTERNS[3].sub(lambda m: m.group(1) + _MASK, out)
    return out


class _RedactingFilter(logging.Filter):
    """Masks secrets in httpx/httpcore log lines (httpx logs every request URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken log call is not ours to fix
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


for _name in ("httpx", "httpcore", "sync"):
    logging.getLogger(_name).addFilter(_RedactingFilter())


def describe_url(url: str | httpx.URL) -> str:
    """scheme://host[:port] only: safe to print even when the path is a secret (webhooks)."""
    u = httpx.URL(str(url))
    port = f":{u.port}" if u.port else ""
    return f"{u.scheme}://{u.host}{port}"


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def check_url(url: str | httpx.URL, what: str = "destination URL") -> None:
    """Refuse anything but https, except plain http to loopback (test stand-ins)."""
    u = httpx.URL(str(url))
    if u.scheme == "https" and u.host:
        return
    if u.scheme == "http" and u.host in _LOOPBACK:
        return
    raise ConfigError(
        f"{what} {describe_url(u)} must use https "
        "(plain http is accepted only for 127.0.0.1/localhost test stand-ins)"
    )


# --------------------------------------------------------------------------------------------
# Options shared by every HTTP destination
# --------------------------------------------------------------------------------------------


class PacingOptions(BaseModel):
    """Pacing and retry knobs every HTTP destination accepts; defaults are set per vendor.

    Mixed into a destination's Options next to `DestinationOptions` (not derived from it, so
    this module does not import the destinations package that imports it).
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
    # circuit breaker (sync.breaker): stop the sync with exit 6 when the host is unreachable
    unreachable_after_failures: int = Field(DEFAULT_FAILURES, ge=1)
    unreachable_after_seconds: float = Field(DEFAULT_SECONDS, gt=0)


# --------------------------------------------------------------------------------------------
# Shared gates: one limiter and one in-flight bound per destination account
# --------------------------------------------------------------------------------------------


@dataclass
class _Gate:
    limiter: Limiter
    in_flight: threading.BoundedSemaphore
    pause_until: float = 0.0  # monotonic time; set from Retry-After, honoured by all workers
    lock: threading.Lock = field(default_factory=threading.Lock)


_GATES: dict[str, _Gate] = {}
_GATES_LOCK = threading.Lock()


def _gate(key: str, pacing: PacingOptions) -> _Gate:
    """The account's gate; the first client for an account fixes its pacing for the process."""
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            # Rate(limit, interval_ms, burst): express r/s with ms resolution so fractional
            # rates (0.5/s) work; GCRA only uses interval/limit and the burst.
            rate = Rate(max(1, round(pacing.requests_per_second * 1000)), 1_000_000, pacing.burst)
            limiter = Limiter(StateBucket([rate], algorithm=TokenBucket()), buffer_ms=5)
            gate = _Gate(limiter, threading.BoundedSemaphore(pacing.max_in_flight))
            _GATES[key] = gate
        return gate


def reset_gates() -> None:
    """Forget all limiters (tests and benchmarks that reconfigure pacing call this)."""
    with _GATES_LOCK:
        _GATES.clear()


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class TransientHttpError(Exception):
    """Retries were exhausted on a retryable failure; the records stay for the next run."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class BatchRejected(Exception):
    """The API refused a whole batch (400/413) without naming the record: bisect it."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class _Retry(Exception):
    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


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


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------

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
        self._gate = _gate(limit_key, pacing)
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
            retry=retry_if_exception_type(_Retry),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, content, data, headers)
        except _Retry as exc:
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
        gate.limiter.try_acquire(self.limit_key)
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
                raise _Retry("timeout", message) from None
            except httpx.TransportError as exc:
                message = redact(f"{type(exc).__name__}: {exc}")
                self.breaker.failure(started, message)
                raise _Retry("connection_error", message) from None
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
            raise _Retry(f"http_{status}", body_excerpt(response) or f"HTTP {status}", retry_after)
        return response

    def _wait(self, state: RetryCallState) -> float:
        p = self.pacing
        backoff = min(
            p.backoff_max_seconds, p.backoff_initial_seconds * 2 ** (state.attempt_number - 1)
        )
        backoff = random.uniform(backoff / 2, backoff)  # jitter: workers don't retry in step
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.retry_after is not None:
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


# --------------------------------------------------------------------------------------------
# Batching and per-record outcomes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """One record ready to send: its sync key, wire payload and the payload's JSON size."""

    key: str
    payload: Any
    size: int


def make_item(key: str, payload: Any) -> Item:
    return Item(key, payload, len(dumps(payload)))


def pack(
    items: Iterable[Item], *, max_count: int, max_bytes: int, overhead: int = 64
) -> list[list[Item]]:
    """Group items into batches under both a record count and a request size in bytes."""
    batches: list[list[Item]] = []
    current: list[Item] = []
    size = overhead
    for item in items:
        if current and (len(current) >= max_count or size + item.size + 1 > max_bytes):
            batches.append(current)
            current, size = [], overhead
        current.append(item)
        size += item.size + 1
    if current:
        batches.append(current)
    return batches


def deliver(
    client: HttpClient,
    batches: Sequence[Sequence[Item]],
    send_batch: Callable[[Sequence[Item]], list[Outcome]],
) -> list[Outcome]:
    """Send batches concurrently; bisect rejected ones; one outcome per item.

    `send_batch` returns outcomes for its items, raises `BatchRejected` when the API refused
    the batch as a whole, or lets `TransientHttpError` escape after retries ran out (all its
    items become retryable). Anything else (DestinationError) stops the run.
    """

    def run(batch: Sequence[Item]) -> list[Outcome]:
        return _bisect(batch, send_batch)

    results = client.map(run, list(batches))
    return [outcome for outcomes in results for outcome in outcomes]


def _bisect(
    batch: Sequence[Item], send_batch: Callable[[Sequence[Item]], list[Outcome]]
) -> list[Outcome]:
    try:
        return send_batch(batch)
    except BatchRejected as exc:
        if len(batch) == 1:
            return [Outcome(batch[0].key, "permanent", exc.code, exc.reason)]
        mid = math.ceil(len(batch) / 2)
        return _bisect(batch[:mid], send_batch) + _bisect(batch[mid:], send_batch)
    except TransientHttpError as exc:
        return [Outcome(item.key, "retryable", exc.code, exc.message) for item in batch]


def permanent(key: str, code: str, message: str) -> Outcome:
    return Outcome(key, "permanent", code, redact(message))


def retryable(key: str, code: str, message: str) -> Outcome:
    return Outcome(key, "retryable", code, redact(message))
