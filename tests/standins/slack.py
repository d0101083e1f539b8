"""Slack incoming-webhook stand-in: one secret path, 1 message/s, Slack's plain-text errors;
messages are checked against tests/contracts/slack/incoming_webhook.json (Block Kit limits).

State a test can read: `messages` (the JSON bodies accepted, in order).
"""

from __future__ import annotations

import json
from typing import Any

from tests.contracts.schemas import SLACK_WEBHOOK, problems
from tests.standins.base import Request, Response, StandIn


class SlackStandIn(StandIn):
    name = "slack-standin"

    def __init__(self, secret_path: str = "/services/T000/B000/xxxx", **kw: Any) -> None:
        kw.setdefault("rate_limit", 1)
        kw.setdefault("rate_window", 1.0)
        super().__init__(**kw)
        self.secret_path = secret_path
        self.messages: list[dict[str, Any]] = []

    @property
    def webhook_url(self) -> str:
        return self.url + self.secret_path

    def rate_limited(self, retry_after: float) -> Response:
        return Response(429, "rate_limited", {"Retry-After": f"{retry_after:g}"})

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != self.secret_path:
            return Response(404, "no_service")
        try:
            body = json.loads(request.body)
        except ValueError:
            return Response(400, "invalid_payload")
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return Response(400, "no_text")
        if problems(SLACK_WEBHOOK, body):  # Block Kit shapes and limits
            return Response(400, "invalid_blocks")
        blocks = body.get("blocks", [])
        if not isinstance(blocks, list) or len(blocks) > 50:
            return Response(400, "invalid_blocks")
        if any(not isinstance(b, dict) or "type" not in b for b in blocks):
            return Response(400, "invalid_blocks")
        with self.lock:
            self.messages.append(body)
        return Response(200, "ok")
