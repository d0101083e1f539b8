"""`type: webhook`: POST changed records as JSON batches to any HTTPS endpoint you run.

For tools plg-sync has no module for (an internal service, a queue's HTTP ingest, a
Zapier/Make/n8n catch hook). Each request carries one batch:

    POST <url>
    Content-Type: application/json
    Idempotency-Key: <sha256 of the sync name and each record's key and hash>
    <headers from the destination's `headers:`, values read from env>

    {"sync": "cio_people", "object": "person", "event_type": null, "batch_id": "<same key>",
     "records": [{"key": "u1", "op": "add", "hash": "9c1...", "fields": {"email": "..."}}]}

Outcomes: a 2xx answer acknowledges every record in the batch, unless its JSON body lists
per-item errors in the documented shape `{"errors": [{"key" | "index": ..., "message": ...,
"code": ..., "retryable": false}]}`; then exactly the named records fail (permanently, or
retryable when `retryable: true`). An error entry that names no record proves nothing about
any record, so the whole batch is resent next run. 400/413/422 reject the batch as a whole
and the shared HTTP layer bisects it down to the bad record; 429/5xx/timeouts are retried
there with backoff and `Retry-After`; 401/403/404/410 stop the run (exit 6). The receiver
should treat `Idempotency-Key` as a dedupe key: delivery is at least once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from sync.destinations._values import check_finite
from sync.destinations.base import Destination, DestinationOptions, SyncSpec, register
from sync.errors import DestinationError
from sync.http import (
    BatchRejected,
    HttpClient,
    Item,
    PacingOptions,
    body_excerpt,
    deliver,
    describe_url,
    dumps,
    make_item,
    pack,
    permanent,
    retryable,
)
from sync.records import Change, Outcome
from sync.secrets import Secret, redact, register_secret
from sync.values import jsonable

BATCH_REJECTED = frozenset({400, 413, 422})
ENDPOINT_GONE = frozenset({401, 403, 404, 410})
_ENVELOPE = len(b'{"sync":"","object":"","event_type":null,"batch_id":"","records":[]}') + 200


class WebhookOptions(DestinationOptions, PacingOptions):
    """The `destinations:` entry: where to POST, which headers, batch limits, pacing."""

    url: Secret  # may carry a token in its path or query: treated as a credential
    headers: dict[str, Secret] = Field(default_factory=dict)  # values from {env: VAR}
    method: str = Field("POST", pattern="^(POST|PUT)$")
    max_batch_records: int = Field(100, ge=1, le=10_000)
    max_batch_bytes: int = Field(1_000_000, ge=1_000, le=100_000_000)
    requests_per_second: float = Field(10.0, gt=0)
    burst: int = Field(10, ge=1)
    max_in_flight: int = Field(4, ge=1, le=64)


class WebhookSyncOptions(BaseModel):
    """Per-sync `options:`."""

    model_config = ConfigDict(extra="forbid")

    event_type: str | None = None  # copied into every batch, for receivers that route on it


@register
class Webhook(Destination):
    type_name: ClassVar[str] = "webhook"
    Options: ClassVar[type[DestinationOptions]] = WebhookOptions
    SyncOptions: ClassVar[type[BaseModel]] = WebhookSyncOptions
    objects: ClassVar[frozenset[str]] = frozenset({"*"})  # any name: copied into the body
    modes: ClassVar[frozenset[str]] = frozenset({"upsert", "update", "insert", "event"})

    options: WebhookOptions

    def __init__(self, name: str, options: DestinationOptions) -> None:
        super().__init__(name, options)
        opts = self.options
        url = httpx.URL(register_secret(opts.url))
        register_secret(url.raw_path.decode())  # the path (and query) alone can be the token
        self._path = url.raw_path.decode() or "/"
        headers = {}
        for header, value in opts.headers.items():
            headers[header] = register_secret(value)
        self._http = HttpClient(
            describe_url(url),
            pacing=opts,
            stats=self.stats,
            limit_key=f"webhook:{hashlib.sha256(str(url).encode()).hexdigest()[:12]}",
            headers=headers,
        )

    def validate_sync(self, sync: SyncSpec, columns: Mapping[str, str]) -> list[str]:
        problems = []
        if sync.mode not in self.modes:
            problems.append(
                f"mode {sync.mode!r} is not supported by webhook; use one of {sorted(self.modes)}"
            )
        try:
            self.sync_options(sync)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            problems.append(f"options: {exc}")
        return problems

    # -- sending -------------------------------------------------------------------------

    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        opts: WebhookSyncOptions = self.sync_options(sync)
        limit = self.options.max_batch_bytes - _ENVELOPE
        outcomes: list[Outcome] = []
        items: list[Item] = []
        for change in changes:
            try:
                item = make_item(change.key, _record(change))
            except ValueError as exc:  # BadValue, or a nested NaN json refuses to encode
                outcomes.append(permanent(change.key, "invalid_value", str(exc)))
                continue
            if item.size > limit:
                outcomes.append(
                    permanent(
                        change.key,
                        "record_too_large",
                        f"record is {item.size} bytes; the webhook's max_batch_bytes "
                        f"({self.options.max_batch_bytes}) leaves room for {limit}",
                    )
                )
                continue
            items.append(item)
        batches = pack(
            items,
            max_count=min(
                sync.batch_size or self.options.max_batch_records, self.options.max_batch_records
            ),
            max_bytes=self.options.max_batch_bytes,
            overhead=_ENVELOPE,
        )

        def send_batch(batch: Sequence[Item]) -> list[Outcome]:
            return self._post(sync, opts, batch)

        return outcomes + deliver(self._http, batches, send_batch)

    def _post(
        self, sync: SyncSpec, opts: WebhookSyncOptions, batch: Sequence[Item]
    ) -> list[Outcome]:
        batch_id = _batch_id(sync.name, batch)
        body = {
            "sync": sync.name,
            "object": sync.object,
            "event_type": opts.event_type,
            "batch_id": batch_id,
            "records": [item.payload for item in batch],
        }
        response = self._http.request(
            self.options.method, self._path, json_body=body, headers={"Idempotency-Key": batch_id}
        )
        status = response.status_code
        if status in ENDPOINT_GONE:
            raise DestinationError(
                f"webhook {describe_url(self._http.base_url)} refused the request (HTTP {status}: "
                f"{body_excerpt(response, 200)}); check the url and the headers' credentials"
            )
        if status in BATCH_REJECTED:
            raise BatchRejected(
                f"http_{status}", f"webhook rejected the batch: {body_excerpt(response)}"
            )
        if 300 <= status < 400:
            raise DestinationError(
                f"webhook {describe_url(self._http.base_url)} answered HTTP {status} (a redirect); "
                "redirects are not followed: set url to the final address"
            )
        if status >= 400:
            reason = f"webhook answered HTTP {status}: {body_excerpt(response)}"
            return [permanent(item.key, f"http_{status}", reason) for item in batch]
        return _item_outcomes(response, batch)

    def close(self) -> None:
        self._http.close()


def _record(change: Change) -> dict[str, Any]:
    for name, value in change.fields.items():
        check_finite(name, value)
    return {
        "key": change.key,
        "op": change.op,
        "hash": change.hash,
        "fields": jsonable(change.fields),
    }


def _batch_id(sync_name: str, batch: Sequence[Item]) -> str:
    """The same batch (same records, same hashes) always gets the same id: a dedupe key."""
    digest = hashlib.sha256(sync_name.encode())
    for item in batch:
        digest.update(b"\x00" + dumps([item.key, item.payload.get("hash")]))
    return digest.hexdigest()[:32]


def _item_outcomes(response: httpx.Response, batch: Sequence[Item]) -> list[Outcome]:
    """Per-record outcomes of a 2xx answer: all ok unless documented per-item errors say not."""
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None  # a 2xx with a non-JSON body ("ok") acknowledges the batch
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return [Outcome.success(item.key) for item in batch]
    by_key = {item.key: item for item in batch}
    failed: dict[str, Outcome] = {}
    unattributed: list[str] = []
    for error in errors:
        entry = error if isinstance(error, dict) else {"message": error}
        message = redact(str(entry.get("message") or "rejected by the webhook"))[:500]
        code = str(entry.get("code") or "rejected")
        key = entry.get("key")
        index = entry.get("index")
        if key is not None and str(key) in by_key:
            item = by_key[str(key)]
        elif isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(batch):
            item = batch[index]
        else:
            unattributed.append(message)
            continue
        make = retryable if entry.get("retryable") is True else permanent
        failed[item.key] = make(item.key, code, message)
    outcomes = []
    for item in batch:
        if item.key in failed:
            outcomes.append(failed[item.key])
        elif unattributed:  # an error we cannot pin on a record: resend, never assume ok
            outcomes.append(retryable(item.key, "unattributed_error", "; ".join(unattributed)))
        else:
            outcomes.append(Outcome.success(item.key))
    return outcomes
