"""A neutral sink for push benchmarks: reads each request body, counts operations, answers 200.

The validating stand-ins (`tests/standins/`) JSON-decode and check every operation against
the vendor's contract in pure Python; on a shared 2-core machine that work competes with
the process being measured, so a slow stand-in can cap (or hide) the sender's throughput.
This sink does the least a real API must: read the whole body, find the operations (orjson,
to count them and their ids for duplicates/lost), and answer `200 {}`. It still enforces the
published request rate (sliding window, 429 + Retry-After past it), so a run can never look
faster than the limit allows, and it records what the share of the ceiling needs: requests,
operations, body bytes, and the time of the first and last accepted request.
"""

from __future__ import annotations

import collections
import time
from typing import Any

import orjson

from tests.standins.base import Request, Response, StandIn


class NeutralSink(StandIn):
    """`POST <any path>` with `{"<list_key>": [operations]}`; 200 `{}` for every admitted body."""

    name = "neutral-sink"

    def __init__(
        self,
        *,
        list_key: str = "batch",
        id_of: Any = None,
        rate_limit: int | None = 100,
        rate_window: float = 1.0,
    ) -> None:
        super().__init__(rate_limit=rate_limit, rate_window=rate_window)
        self.request_log = collections.deque(maxlen=0)  # type: ignore[assignment]
        self.list_key = list_key
        self.id_of = id_of or (lambda op: op["identifiers"]["id"])
        self.writes: collections.Counter[str] = collections.Counter()
        self.accepted = 0  # requests answered 200
        self.operations = 0
        self.body_bytes = 0
        self.first_at: float | None = None
        self.last_at = 0.0

    def handle(self, request: Request) -> Response:
        now = time.monotonic()
        ops = orjson.loads(request.body)[self.list_key]
        ids = [str(self.id_of(op)) for op in ops]
        with self.lock:
            self.accepted += 1
            self.operations += len(ops)
            self.body_bytes += len(request.body)
            self.writes.update(ids)
            self.first_at = self.first_at or now
            self.last_at = now
        return Response(200, b"{}", {"Content-Type": "application/json"})

    def tally(self, expected: int) -> dict[str, Any]:
        """What the report needs: per-request shape, the send window and record accounting."""
        window = (self.last_at - self.first_at) if self.first_at else 0.0
        per_request = self.operations / self.accepted if self.accepted else 0.0
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "accepted_requests": self.accepted,
            "operations": self.operations,
            "ops_per_request": per_request,
            "bytes_per_op": self.body_bytes / self.operations if self.operations else 0.0,
            "send_s": window,
            "delivered": len(self.writes),
            "duplicates": sum(n - 1 for n in self.writes.values() if n > 1),
            "lost": expected - len(self.writes),
        }
