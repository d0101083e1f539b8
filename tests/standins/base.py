"""A tiny real HTTP server on 127.0.0.1 that each API stand-in builds on.

Stdlib only (ThreadingHTTPServer, one thread per connection, HTTP/1.1 keep-alive): simple,
no event loop to share with the code under test, and fast enough for benchmarks at the
vendors' published limits. Each request passes, in order: request counter, injected faults,
the rate limiter (429 + Retry-After), then the API-specific `handle`.
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON; str/bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain")
        if self.body is None:
            return b"", "application/json"
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Fault:
    """One kind of misbehaviour, applied to the next `times` matching requests."""

    kind: str  # status | slow | drop | malformed_json | html
    times: int = 1
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    path_contains: str = ""


class SlidingWindow:
    """At most `limit` requests in any `window` seconds, as the vendors describe their limits."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        """None if admitted, else seconds until a slot frees up."""
        now = time.monotonic()
        with self._lock:
            while self._hits and self._hits[0] <= now - self.window:
                self._hits.popleft()
            if len(self._hits) >= self.limit:
                return self._hits[0] + self.window - now
            self._hits.append(now)
            return None


class StandIn:
    """Base class: subclasses implement `handle(request) -> Response` and hold state."""

    name = "standin"

    def __init__(
        self,
        *,
        rate_limit: int | None = None,
        rate_window: float = 1.0,
        retry_after: float | None = None,
        fail_rate: float = 0.0,
        seed: int = 7,
    ) -> None:
        self.limiter = SlidingWindow(rate_limit, rate_window) if rate_limit else None
        self.retry_after = retry_after  # fixed Retry-After; None = time until a slot frees
        self.fail_rate = fail_rate  # share of records failed on purpose (partial failures)
        self.random = random.Random(seed)
        self.faults: list[Fault] = []
        self.requests = 0
        self.throttled = 0
        self.request_log: list[Request] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.request_queue_size = 128
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- fault injection -----------------------------------------------------------------

    def inject(self, kind: str, times: int = 1, **params: Any) -> None:
        """Misbehave on the next `times` requests: status | slow | drop | malformed_json | html."""
        with self.lock:
            self.faults.append(Fault(kind=kind, times=times, **params))

    def _next_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.path_contains in request.path:
                    fault.times -= 1
                    return fault
        return None

    def should_fail(self) -> bool:
        return self.fail_rate > 0 and self.random.random() < self.fail_rate

    # -- request pipeline ----------------------------------------------------------------

    def dispatch(self, request: Request) -> Response | None:
        """The response to send, or None to drop the connection without answering."""
        with self.lock:
            self.requests += 1
            self.request_log.append(request)
        fault = self._next_fault(request)
        if fault is not None:
            if fault.kind == "drop":
                return None
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "status":
                return Response(fault.status, fault.body, dict(fault.headers))
            elif fault.kind == "malformed_json":
                return Response(
                    fault.status if fault.status != 500 else 200,
                    b'{"results": [',
                    {"Content-Type": "application/json"},
                )
            elif fault.kind == "html":
                page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
                return Response(
                    fault.status if fault.status != 500 else 502,
                    page,
                    {"Content-Type": "text/html"},
                )
        if self.limiter is not None:
            wait_s = self.limiter.admit()
            if wait_s is not None:
                with self.lock:
                    self.throttled += 1
                retry = self.retry_after if self.retry_after is not None else math.ceil(wait_s)
                return self.rate_limited(retry)
        return self.handle(request)

    def rate_limited(self, retry_after: float) -> Response:
        return Response(429, {"message": "rate limited"}, {"Retry-After": f"{retry_after:g}"})

    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    owner: StandIn
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        response = self.owner.dispatch(request)
        if response is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload, content_type = response.encode()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                if name.lower() != "content-type":
                    self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout test)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
