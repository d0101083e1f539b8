"""Slack incoming webhook: one formatted message per new signal event on a valuable account.

Only `add` changes post (a signal that changed or left the model is not news); events whose
account MRR is below the sync's `mrr_threshold` are acknowledged without posting. The webhook
URL is a secret: it is registered for redaction and never appears in a message we build.
Pacing is 1 message per second per webhook, as Slack documents; 429 Retry-After is honoured.

Routing (issue 18): the destination's `routes` map a route value (a segment, plan, MRR band
or owner: whatever the sync's `route_column` holds) to its own webhook, each a secret from
an env var; a value without a route goes to `webhook_url`. Each webhook is paced on its own.
With `format: handoff` the message is the handoff layout of `slack_handoff.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sync.destinations._values import BadValue, as_utc, check_finite
from sync.destinations.base import Destination, DestinationOptions, SyncSpec, register
from sync.destinations.slack_handoff import build_handoff_message
from sync.errors import DestinationError
from sync.http import (
    HttpClient,
    Item,
    PacingOptions,
    body_excerpt,
    deliver,
    describe_url,
    make_item,
    permanent,
)
from sync.records import Change, Outcome
from sync.secrets import Secret, register_secret

MAX_TEXT = 3000  # a section block's text limit


class SlackOptions(DestinationOptions, PacingOptions):
    """The `destinations:` entry: the webhook URL (a secret) and pacing."""

    webhook_url: Secret
    # route value -> webhook of that channel, e.g. {smb: {env: SLACK_WEBHOOK_SMB}}
    routes: dict[str, Secret] = Field(default_factory=dict)
    requests_per_second: float = Field(1.0, gt=0)
    burst: int = Field(1, ge=1)
    max_in_flight: int = Field(1, ge=1, le=4)


class SlackSyncOptions(BaseModel):
    """Per-sync `options:`: which columns say who, what, why, and the MRR threshold."""

    model_config = ConfigDict(extra="forbid")

    mrr_threshold: float = 0.0
    mrr_column: str = "mrr"
    account_column: str = "account_name"
    signal_column: str = "signal_name"
    reason_column: str = "reason"
    plan_column: str = "plan"
    user_column: str | None = "user_email"
    link_columns: list[str] = Field(default_factory=list)
    title: str = "New product signal"
    route_column: str | None = None  # the column whose value picks a `routes` webhook
    format: Literal["signal", "handoff"] = "signal"
    # handoff: link to the CRM record, `{column}` filled from the row, e.g.
    # https://app.hubspot.com/contacts/12345/company/{crm_company_id}
    crm_url_template: str | None = None


@register
class Slack(Destination):
    type_name: ClassVar[str] = "slack"
    Options: ClassVar[type[DestinationOptions]] = SlackOptions
    SyncOptions: ClassVar[type[BaseModel]] = SlackSyncOptions
    objects: ClassVar[frozenset[str]] = frozenset({"message"})
    modes: ClassVar[frozenset[str]] = frozenset({"event", "insert"})

    options: SlackOptions

    def __init__(self, name: str, options: DestinationOptions) -> None:
        super().__init__(name, options)
        self._http, self._path = self._webhook(self.options.webhook_url)
        self._routes = {
            route: self._webhook(secret) for route, secret in self.options.routes.items()
        }

    def _webhook(self, secret: Secret) -> tuple[HttpClient, str]:
        """A client and path for one webhook URL (its own pacing gate: 1 message/s each)."""
        url = register_secret(secret)
        parsed = httpx.URL(url)
        register_secret(parsed.path)  # the path alone is the credential
        client = HttpClient(
            describe_url(parsed),
            pacing=self.options,
            stats=self.stats,
            limit_key=f"slack:{hashlib.sha256(url.encode()).hexdigest()[:12]}",
        )
        return client, parsed.raw_path.decode()

    def validate_sync(self, sync: SyncSpec, columns: Mapping[str, str]) -> list[str]:
        problems = super().validate_sync(sync, columns)
        try:
            opts = self.sync_options(sync)
        except ValidationError as exc:
            return [*problems, f"options: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"]
        needed = [opts.mrr_column, *opts.link_columns]
        if opts.format == "signal":
            needed += [opts.account_column, opts.signal_column]
        if opts.route_column:
            needed.append(opts.route_column)
        for column in needed:
            if columns and column not in columns:
                problems.append(f"column {column!r} (see options) is not in model {sync.model}")
        return problems

    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        opts = self.sync_options(sync)
        outcomes: list[Outcome] = []
        items: dict[str | None, list[Item]] = {}
        skipped = 0
        for change in changes:
            if change.op != "add":
                outcomes.append(Outcome.success(change.key))
                continue
            try:
                mrr = _number(opts.mrr_column, change.fields.get(opts.mrr_column))
                if mrr < opts.mrr_threshold:
                    skipped += 1
                    outcomes.append(Outcome.success(change.key))
                    continue
                if opts.format == "handoff":
                    message = build_handoff_message(change.fields, mrr, opts.crm_url_template)
                else:
                    message = build_message(opts, change.fields, mrr)
            except BadValue as exc:
                outcomes.append(permanent(change.key, "invalid_value", str(exc)))
                continue
            route = str(change.fields.get(opts.route_column)) if opts.route_column else None
            items.setdefault(route if route in self._routes else None, []).append(
                make_item(change.key, message)
            )
        self.stats.extra["skipped_below_threshold"] = (
            self.stats.extra.get("skipped_below_threshold", 0) + skipped
        )
        for route, routed in items.items():
            http, path = self._routes[route] if route is not None else (self._http, self._path)

            def post(
                batch: Sequence[Item], http: HttpClient = http, path: str = path
            ) -> list[Outcome]:
                return self._post(http, path, batch)

            outcomes += deliver(http, [[item] for item in routed], post)
        return outcomes

    def _post(self, http: HttpClient, path: str, batch: Sequence[Item]) -> list[Outcome]:
        (item,) = batch
        response = http.request("POST", path, json_body=item.payload)
        status = response.status_code
        if status == 200:
            return [Outcome.success(item.key)]
        reason = body_excerpt(response, 100) or f"HTTP {status}"
        if status in (403, 404, 410):  # invalid_token, no_service, channel_is_archived
            raise DestinationError(
                f"Slack webhook refused the message (HTTP {status}: {reason}); the webhook was "
                "revoked or its channel archived: create a new one and update webhook_url"
            )
        return [permanent(item.key, f"http_{status}", f"Slack rejected the message: {reason}")]

    def close(self) -> None:
        self._http.close()
        for http, _ in self._routes.values():
            http.close()


def _number(column: str, value: Any) -> float:
    check_finite(column, value)
    if value is None:
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadValue(f"column {column!r} is not a number: {str(value)[:40]!r}") from None


def _escape(value: Any) -> str:
    if isinstance(value, datetime):
        value = as_utc(value).strftime("%Y-%m-%d %H:%M UTC")
    elif isinstance(value, date):
        value = value.isoformat()
    elif isinstance(value, Decimal | float):
        value = f"{float(value):,.2f}"
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_message(opts: SlackSyncOptions, fields: Mapping[str, Any], mrr: float) -> dict[str, Any]:
    """Blocks (header, what/why, facts, links) plus a plain-text fallback."""
    account = _escape(fields.get(opts.account_column)) or "unknown account"
    signal = _escape(fields.get(opts.signal_column)) or "signal"
    reason = _escape(fields.get(opts.reason_column))
    plan = _escape(fields.get(opts.plan_column)) or "-"
    who = _escape(fields.get(opts.user_column)) if opts.user_column else ""
    mrr_text = f"${mrr:,.0f}"
    text = f"{account} crossed {signal} (plan {plan}, MRR {mrr_text})"
    if who:
        text += f" — {who}"
    what = f"*{account}* crossed *{signal}*" + (f"\n{reason}" if reason else "")
    facts = [f"*Plan*\n{plan}", f"*MRR*\n{mrr_text}"]
    if who:
        facts.append(f"*Who*\n{who}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": opts.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": what[:MAX_TEXT]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in facts]},
    ]
    links = [
        f"<{fields[c]}|{c.removesuffix('_url').replace('_', ' ')}>"
        for c in opts.link_columns
        if isinstance(fields.get(c), str) and fields[c].startswith("https://")
    ]
    if links:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(links)}]}
        )
    return {"text": text[:MAX_TEXT], "blocks": blocks}
