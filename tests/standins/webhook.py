"""A generic JSON webhook receiver on 127.0.0.1, answering the way `type: webhook` documents.

- a secret path and a required `Authorization` header (401 otherwise);
- 413 when a body exceeds `max_body_bytes`; 400 for the whole batch when it holds a record
  whose key is in `bad_keys` (the receiver does not say which: the client must bisect);
- 200 with the documented per-item error shape for keys in `reject_keys`
  (`{"errors": [{"key": ..., "message": ..., "code": ...}]}`), or by `index` when
  `errors_by_index` is set; `unattributed` adds an error entry that names no record;
- `echo_credentials`: every 400/413 quotes the request's headers and body, as a debugging
  proxy would (for the canary test).

State a test can read: `received` (records by key, last write wins), `batches` (bodies),
`body_sizes` (bytes on the wire), `idempotency_keys`.
"""

from __future__ import annotations

import json
from typing import Any

from tests.standins.base import Request, Response, StandIn


class WebhookStandIn(StandIn):
    name = "webhook-standin"

    def __init__(
        self, secret_path: str = "/hooks/in/secret", token: str = "token", **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.secret_path = secret_path
        self.token = token
        self.max_body_bytes = 1_000_000
        self.bad_keys: set[str] = set()
        self.reject_keys: set[str] = set()
        self.retryable_keys: set[str] = set()
        self.errors_by_index = False
        self.unattributed = False
        self.echo_credentials = False
        self.received: dict[str, dict[str, Any]] = {}
        self.batches: list[dict[str, Any]] = []
        self.idempotency_keys: list[str] = []
        self.body_sizes: list[int] = []

    @property
    def hook_url(self) -> str:
        return self.url + self.secret_path

    def _echo(self, status: int, request: Request, why: str) -> Response:
        if not self.echo_credentials:
            return Response(status, {"error": why})
        headers = "; ".join(f"{k}: {v}" for k, v in request.headers.items())
        return Response(
            status, {"error": why, "request_headers": headers, "body": request.body[:300].decode()}
        )

    def handle(self, request: Request) -> Response:
        if request.path != self.secret_path:
            return Response(404, {"error": "no such hook"})
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(401, {"error": "bad credentials"})
        if len(request.body) > self.max_body_bytes:
            return self._echo(413, request, "payload too large")
        try:
            body = json.loads(request.body)
        except ValueError:
            return Response(400, {"error": "invalid json"})
        records = body.get("records") if isinstance(body, dict) else None
        if (
            not isinstance(records, list)
            or request.headers.get("content-type") != "application/json"
        ):
            return Response(400, {"error": "expected {records: [...]} as application/json"})
        if any(r.get("key") in self.bad_keys for r in records):
            return self._echo(400, request, "invalid record in batch")
        errors = []
        with self.lock:
            self.batches.append(body)
            self.body_sizes.append(len(request.body))
            self.idempotency_keys.append(request.headers.get("idempotency-key", ""))
            for i, record in enumerate(records):
                key = record["key"]
                if key in self.reject_keys or key in self.retryable_keys:
                    where = {"index": i} if self.errors_by_index else {"key": key}
                    errors.append(
                        {
                            **where,
                            "code": "invalid_email",
                            "message": f"email of {key} is not deliverable",
                            "retryable": key in self.retryable_keys,
                        }
                    )
                    continue
                self.received[key] = record
            if self.unattributed:
                errors.append({"message": "one record failed downstream"})
        return Response(200, {"errors": errors} if errors else {"accepted": len(records)})
