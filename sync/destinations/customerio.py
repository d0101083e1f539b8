"""Customer.io Journeys Track API v2 (`POST /api/v2/batch`).

Objects: `person` (identify; remove = delete or unset), `object` (account objects), `relationship`
(person <-> object) and `event` (signal events with a stable ULID `id`, so a resend after a
crash is deduplicated by Customer.io instead of firing a campaign twice).

Documented limits are checked before sending, so one oversized value costs its own record a
permanent outcome naming the field, not the whole batch a 400. Attributes that became null
are sent as `""`, which is how the Track API removes an attribute from a person or object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sync.destinations._values import (
    BadValue,
    byte_len,
    check_finite,
    epoch_ms,
    plain_number,
    split_fields,
    unix_seconds,
)
from sync.destinations.base import Destination, DestinationOptions, SyncSpec, register
from sync.errors import DestinationError
from sync.http import (
    BatchRejected,
    HttpClient,
    Item,
    PacingOptions,
    body_excerpt,
    deliver,
    dumps,
    make_item,
    pack,
    permanent,
)
from sync.records import Change, Outcome
from sync.secrets import PlainStr, Secret, redact, register_basic_auth, reveal

REGIONS = {"us": "https://track.customer.io", "eu": "https://track-eu.customer.io"}

# Documented Track API limits (see shared/reference/destinations.md).
MAX_ID_BYTES = 150
MAX_ATTRIBUTE_NAME_BYTES = 150
MAX_ATTRIBUTE_VALUE_BYTES = 1000
MAX_ATTRIBUTES = 300
MAX_OBJECT_ATTRIBUTES_BYTES = 100_000
MAX_EVENT_NAME_BYTES = 100
MAX_EVENT_DATA_BYTES = 100_000
MAX_OPERATION_BYTES = 32_000  # "32 KB"; decimal kilobytes to stay on the safe side
MAX_BATCH_BYTES = 500_000

PERSON_IDS = ("id", "email", "cio_id")


class CustomerIoOptions(DestinationOptions, PacingOptions):
    """The `destinations:` entry: credentials, region and pacing."""

    site_id: PlainStr
    api_key: Secret
    region: Literal["us", "eu"] = "us"
    base_url: PlainStr | None = None  # overrides the region host (tests, proxies)
    # Fair use is 100 requests/s: 90/s + a burst of 5 never exceeds 95 in any second.
    requests_per_second: float = Field(90.0, gt=0)
    burst: int = Field(5, ge=1)
    max_in_flight: int = Field(8, ge=1, le=64)
    max_batch_bytes: int = Field(490_000, gt=1000, le=MAX_BATCH_BYTES)
    max_batch_operations: int = Field(1000, ge=1)


class CustomerIoSyncOptions(BaseModel):
    """Per-sync `options:`."""

    model_config = ConfigDict(extra="forbid")

    object_type_id: str = "1"  # object type of `object` / `relationship` syncs
    event_name_column: str = "event_name"
    timestamp_column: str = "occurred_at"


@register
class CustomerIo(Destination):
    type_name: ClassVar[str] = "customerio"
    Options: ClassVar[type[DestinationOptions]] = CustomerIoOptions
    SyncOptions: ClassVar[type[BaseModel]] = CustomerIoSyncOptions
    objects: ClassVar[frozenset[str]] = frozenset({"person", "object", "relationship", "event"})
    modes: ClassVar[frozenset[str]] = frozenset({"upsert", "event", "insert"})

    options: CustomerIoOptions

    def __init__(self, name: str, options: DestinationOptions) -> None:
        super().__init__(name, options)
        opts = self.options
        api_key = reveal(opts.api_key)
        register_basic_auth(opts.site_id, api_key)  # the base64 pair travels in headers
        base_url = opts.base_url or REGIONS[opts.region]
        self._http = HttpClient(
            base_url,
            pacing=opts,
            stats=self.stats,
            limit_key=f"customerio:{httpx.URL(base_url).host}:{opts.site_id}",
            auth=(opts.site_id, api_key),
        )

    # -- validation ----------------------------------------------------------------------

    def validate_sync(self, sync: SyncSpec, columns: Mapping[str, str]) -> list[str]:
        problems = super().validate_sync(sync, columns)
        try:
            opts = self.sync_options(sync)
        except ValidationError as exc:
            return [*problems, f"options: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"]
        keys = set(sync.identifier)
        person_keys = keys & set(PERSON_IDS)
        if sync.object in ("person", "event", "relationship") and len(person_keys) != 1:
            problems.append(f"identifier must map exactly one of {list(PERSON_IDS)} to a column")
        if sync.object in ("object", "relationship") and "object_id" not in keys:
            problems.append("identifier must map `object_id` to the account id column")
        if sync.object == "event":
            for column in (opts.event_name_column, opts.timestamp_column):
                if columns and column not in columns:
                    problems.append(f"event syncs need a column {column!r} (see options)")
        for column in sync.identifier.values():
            if columns and column not in columns:
                problems.append(f"identifier column {column!r} is not in model {sync.model}")
        return problems

    # -- sending -------------------------------------------------------------------------

    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        opts = self.sync_options(sync)
        outcomes: list[Outcome] = []
        items: list[Item] = []
        for change in changes:
            try:
                op = self._operation(sync, opts, change)
            except BadValue as exc:
                outcomes.append(permanent(change.key, "invalid_value", str(exc)))
                continue
            if op is None:  # nothing to do (on_remove=ignore, removed events)
                outcomes.append(Outcome.success(change.key))
                continue
            item = make_item(change.key, op)
            if item.size > MAX_OPERATION_BYTES:
                outcomes.append(
                    permanent(
                        change.key,
                        "operation_too_large",
                        f"operation is {item.size} bytes; Customer.io accepts at most "
                        f"{MAX_OPERATION_BYTES} bytes per operation",
                    )
                )
                continue
            items.append(item)
        batches = pack(
            items,
            max_count=sync.batch_size or self.options.max_batch_operations,
            max_bytes=self.options.max_batch_bytes,
            overhead=len(b'{"batch":[]}'),
        )
        return outcomes + deliver(self._http, batches, self._send_batch)

    def _send_batch(self, batch: Sequence[Item]) -> list[Outcome]:
        body = b'{"batch":[' + b",".join(dumps(item.payload) for item in batch) + b"]}"
        response = self._http.request(
            "POST", "/api/v2/batch", content=body, headers={"Content-Type": "application/json"}
        )
        status = response.status_code
        if status in (401, 403):
            raise DestinationError(
                f"Customer.io rejected the credentials (HTTP {status}) for site id "
                f"{self.options.site_id!r}: check site_id, api_key and region"
            )
        if status in (400, 413):
            raise BatchRejected(f"http_{status}", _reason(response))
        if status >= 400:
            reason = f"HTTP {status}: {body_excerpt(response)}"
            return [permanent(item.key, f"http_{status}", reason) for item in batch]
        failed = _failed_indexes(response)
        return [
            permanent(item.key, "rejected", failed[i]) if i in failed else Outcome.success(item.key)
            for i, item in enumerate(batch)
        ]

    # -- payloads ------------------------------------------------------------------------

    def _operation(
        self, sync: SyncSpec, opts: CustomerIoSyncOptions, change: Change
    ) -> dict[str, Any] | None:
        ids, attrs = split_fields(sync.identifier, change)
        kind = sync.object
        removing = change.op == "remove"
        if removing and (sync.on_remove == "ignore" or kind == "event"):
            return None
        person = {k: _id_value(k, v) for k, v in ids.items() if k in PERSON_IDS}
        if kind == "event":
            return _event(sync.name, opts, change.key, person, attrs)
        if kind == "relationship":
            obj = _object_ids(opts, ids)
            op: dict[str, Any] = {
                "type": "person",
                "action": "delete_relationships" if removing else "add_relationships",
                "identifiers": person,
                "cio_relationships": [{"identifiers": obj}],
            }
            if attrs and not removing:
                op["cio_relationships"][0]["relationship_attributes"] = _attributes(attrs)
            return op
        identifiers = person if kind == "person" else _object_ids(opts, ids)
        if removing and sync.on_remove == "delete":
            return {"type": kind, "action": "delete", "identifiers": identifiers}
        if removing:  # unset: every synced attribute removed
            attrs = dict.fromkeys(attrs)
        converted = _attributes(
            attrs, total_limit=MAX_OBJECT_ATTRIBUTES_BYTES if kind == "object" else None
        )
        return {
            "type": kind,
            "action": "identify",
            "identifiers": identifiers,
            "attributes": converted,
        }

    def close(self) -> None:
        self._http.close()


def _id_value(name: str, value: Any) -> str:
    if value is None or value == "":
        raise BadValue(f"identifier {name!r} is empty")
    text = str(value)
    if byte_len(text) > MAX_ID_BYTES:
        raise BadValue(
            f"identifier {name!r} is {byte_len(text)} bytes; Customer.io accepts at most "
            f"{MAX_ID_BYTES} bytes"
        )
    return text


def _object_ids(opts: CustomerIoSyncOptions, ids: Mapping[str, Any]) -> dict[str, str]:
    return {
        "object_type_id": opts.object_type_id,
        "object_id": _id_value("object_id", ids.get("object_id")),
    }


def _value(name: str, value: Any) -> Any:
    """One attribute value as Customer.io stores it; None -> "" (removes the attribute)."""
    check_finite(name, value)
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return unix_seconds(value)
    if isinstance(value, Decimal):
        return plain_number(value)
    return value


def _attributes(attrs: Mapping[str, Any], total_limit: int | None = None) -> dict[str, Any]:
    if len(attrs) > MAX_ATTRIBUTES:
        raise BadValue(
            f"{len(attrs)} attributes; Customer.io accepts at most {MAX_ATTRIBUTES} per call"
        )
    out: dict[str, Any] = {}
    for name, raw in attrs.items():
        if byte_len(name) > MAX_ATTRIBUTE_NAME_BYTES:
            raise BadValue(
                f"attribute name {name[:40]!r}... is {byte_len(name)} bytes; Customer.io "
                f"accepts at most {MAX_ATTRIBUTE_NAME_BYTES} bytes"
            )
        value = _value(name, raw)
        size = byte_len(value) if isinstance(value, str) else len(dumps(value))
        if size > MAX_ATTRIBUTE_VALUE_BYTES:
            raise BadValue(
                f"attribute {name!r} value is {size} bytes; Customer.io accepts at most "
                f"{MAX_ATTRIBUTE_VALUE_BYTES} bytes per value"
            )
        out[name] = value
    if total_limit is not None and (size := len(dumps(out))) > total_limit:
        raise BadValue(f"attributes total {size} bytes; Customer.io accepts at most {total_limit}")
    return out


def _event(
    sync_name: str,
    opts: CustomerIoSyncOptions,
    key: str,
    person: dict[str, str],
    attrs: dict[str, Any],
) -> dict[str, Any]:
    attrs = dict(attrs)
    name = attrs.pop(opts.event_name_column, None)
    when = attrs.pop(opts.timestamp_column, None)
    if not name:
        raise BadValue(f"event name column {opts.event_name_column!r} is empty")
    if byte_len(name) > MAX_EVENT_NAME_BYTES:
        raise BadValue(
            f"event name is {byte_len(name)} bytes; Customer.io accepts at most "
            f"{MAX_EVENT_NAME_BYTES} bytes"
        )
    if not isinstance(when, datetime | date):
        raise BadValue(f"event timestamp column {opts.timestamp_column!r} is not a timestamp")
    data = {k: _value(k, v) for k, v in attrs.items() if v is not None}
    if (size := len(dumps(data))) > MAX_EVENT_DATA_BYTES:
        raise BadValue(
            f"event data is {size} bytes; Customer.io accepts at most {MAX_EVENT_DATA_BYTES}"
        )
    return {
        "type": "person",
        "action": "event",
        "identifiers": person,
        "id": stable_ulid(f"{sync_name}\x00{key}", when),
        "name": str(name),
        "timestamp": unix_seconds(when),
        "attributes": data,
    }


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def stable_ulid(seed: str, when: date | datetime) -> str:
    """A ULID (Customer.io's event dedupe id) derived from the record, so resends match.

    48 bits of event time in ms, then 80 bits of sha256(seed) instead of randomness.
    """
    ms = epoch_ms(when)
    rand = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10], "big")
    value = (ms & ((1 << 48) - 1)) << 80 | rand
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _reason(response: httpx.Response) -> str:
    parts = [
        " ".join(str(e[k]) for k in ("field", "reason", "message") if e.get(k))
        for e in _errors(response)
    ]
    text = "; ".join(p for p in parts if p) or body_excerpt(response) or "request rejected"
    # Error text may quote the request (gateways echo the Authorization header): redact here.
    return redact(f"Customer.io rejected the request (HTTP {response.status_code}): {text}")


def _failed_indexes(response: httpx.Response) -> dict[int, str]:
    """batch_index -> reason for operations a 2xx answer reports as failed."""
    failed: dict[int, str] = {}
    for error in _errors(response):
        index = error.get("batch_index")
        if isinstance(index, int):
            detail = " ".join(str(error[k]) for k in ("field", "reason", "message") if error.get(k))
            failed[index] = redact(
                f"Customer.io rejected the operation: {detail or 'no reason given'}"
            )
    return failed
