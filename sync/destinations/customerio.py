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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, cast

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sync.destinations._values import (
    SYNC_COLUMNS,
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
    PartiallyRejected,
    SendWindow,
    TextItems,
    body_excerpt,
    deliver,
    dumps,
    pack,
    permanent,
    retryable,
)
from sync.records import Change, Frame, Outcome, Outcomes
from sync.secrets import PlainStr, Secret, redact, register_basic_auth, reveal
from sync.state_sql import Dialect

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
    # Fair use is 100 requests/s: 94/s + a burst of 2 never sends more than 96 in any
    # second, which leaves room for network jitter bunching arrivals at Customer.io. (At 90/s
    # the pacing alone held a run below 90% of the ceiling the limit implies; issue 19.)
    requests_per_second: float = Field(94.0, gt=0)
    burst: int = Field(2, ge=1)
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
        builder = _Builder(sync, self.sync_options(sync))
        outcomes: list[Outcome] = []
        items: list[Item] = []
        for change in changes:
            built = builder.item(change)
            if isinstance(built, Outcome):
                outcomes.append(built)
            else:
                items.append(built)
        batches = pack(
            items,
            max_count=sync.batch_size or self.options.max_batch_operations,
            max_bytes=self.options.max_batch_bytes,
            overhead=_BATCH_OVERHEAD,
        )
        return outcomes + deliver(self._http, batches, self._send_batch)

    def deliver(
        self, sync: SyncSpec, changes: Iterable[Change], batch_size: int
    ) -> Iterator[tuple[Sequence[Change], Outcomes]]:
        """Pack operations into batch requests as rows arrive and keep the senders busy.

        Each operation is encoded once, here, and a request is submitted the moment it is
        full (operations or bytes), while up to `max_in_flight` earlier ones travel; rows a
        limit rules out get their outcome without a request. `batch_size` (the engine's
        group size) does not apply: a request holds `sync.batch_size` operations at most
        (default `max_batch_operations`) and `max_batch_bytes` in any case.
        """
        builder = _Builder(sync, self.sync_options(sync))
        max_count = sync.batch_size or self.options.max_batch_operations
        max_bytes = self.options.max_batch_bytes
        window: SendWindow[list[Change]] = SendWindow(self._http, self._send_batch)
        local: list[Change] = []  # decided without a request (invalid, nothing to do)
        local_outcomes: list[Outcome] = []
        group: list[Change] = []
        items: list[Item] = []
        size = _BATCH_OVERHEAD
        try:
            for change in changes:
                built = builder.item(change)
                if isinstance(built, Outcome):
                    local.append(change)
                    local_outcomes.append(built)
                    if len(local) >= max_count:
                        yield local, local_outcomes
                        local, local_outcomes = [], []
                    continue
                if items and (len(items) >= max_count or size + built.size + 1 > max_bytes):
                    window.submit(group, items)
                    group, items, size = [], [], _BATCH_OVERHEAD
                    yield from window.ready()
                group.append(change)
                items.append(built)
                size += built.size + 1
            if items:
                window.submit(group, items)
            if local:
                yield local, local_outcomes
            yield from window.drain()
        finally:
            window.close()

    def deliver_frames(
        self, sync: SyncSpec, frames: Iterable[Frame]
    ) -> Iterator[tuple[Frame, Outcomes]]:
        """`deliver` for operations the warehouse built, without an object per record.

        Each frame's JSON texts are measured (UTF-8 bytes; `str.isascii` is free) and cut
        into requests of at most `sync.batch_size`/`max_batch_operations` operations and
        `max_batch_bytes` bytes, a request's tail carried into the next frame so requests
        stay full. A request is framed with one join and sent while up to `max_in_flight`
        earlier ones travel. Rows that break a documented limit get a permanent outcome
        without a request. A batch's outcomes are None when the answer proved every
        operation (a 200 without errors); anything else is per record, as in `deliver`.
        """
        max_count = sync.batch_size or self.options.max_batch_operations
        max_bytes = self.options.max_batch_bytes - _BATCH_OVERHEAD
        window: SendWindow[Frame] = SendWindow(self._http, self._send_batch)
        carry: Frame | None = None  # the unsent tail of the previous frame (measured again)
        try:
            for frame in frames:
                frame, refused = _refuse(frame)
                if refused is not None:
                    yield refused
                if carry is not None:
                    frame = carry + frame
                texts = cast(list[str], frame.payloads)  # `_refuse` kept rows with a text
                sizes = [len(t) if t.isascii() else len(t.encode()) for t in texts]
                start, size, carry = 0, 0, None
                for i, n in enumerate(sizes):
                    if i > start and (i - start >= max_count or size + n + 1 > max_bytes):
                        window.submit(
                            frame[start:i], TextItems(frame.keys[start:i], texts[start:i])
                        )
                        yield from window.ready()
                        start, size = i, 0
                    size += n + 1
                if start < len(frame):
                    carry = frame[start:]
            if carry is not None:
                window.submit(carry, TextItems(carry.keys, cast(list[str], carry.payloads)))
            yield from window.drain()
        finally:
            window.close()

    def payload_sql(
        self,
        sync: SyncSpec,
        identifier: Mapping[str, str],
        fields: Mapping[str, str],
        columns: Mapping[str, tuple[str, str]],
        dialect: Dialect,
    ) -> tuple[str, str] | None:
        """Person `identify` operations built in the warehouse, with their limit checks.

        Same JSON and the same reasons as `_Builder._identify`: text values measured in
        UTF-8 bytes, timestamps and dates as Unix seconds, null as "" (removes the
        attribute), NaN/Infinity refused. Anything else (objects, events, relationships,
        column types without an exact SQL twin) stays on the Python path.
        """
        return _person_sql(sync, identifier, fields, columns, dialect)

    def _send_batch(self, batch: Sequence[Item]) -> Outcomes:
        # Items carry their operation already encoded (`_Builder` or the warehouse): only
        # framing is left.
        if isinstance(batch, TextItems):
            ops = batch.joined()
        else:
            ops = b",".join(item.payload for item in batch)
        body = b'{"batch":[' + ops + b"]}"
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
        return _outcomes(batch, response)

    def close(self) -> None:
        self._http.close()


_BATCH_OVERHEAD = len(b'{"batch":[]}')


def _refuse(frame: Frame) -> tuple[Frame, tuple[Frame, list[Outcome]] | None]:
    """(the rows to send, (rows refused without a request, their outcomes) or None).

    Refused: the limit the warehouse found (`problems`) or an operation over the
    32,000-byte limit. UTF-8 takes at most 4 bytes per character, so a frame whose texts
    are all at most 8,000 characters long passes without encoding any of them."""
    problems, texts = frame.problems, frame.payloads
    try:
        longest = max(map(len, cast(list[str], texts)), default=0)
    except TypeError:  # a row without a text (never built by the SQL): checked one by one
        longest = MAX_OPERATION_BYTES
    if problems.count(None) == len(problems) and longest <= MAX_OPERATION_BYTES // 4:
        return frame, None
    keep: list[int] = []
    bad: list[int] = []
    outcomes: list[Outcome] = []
    for i, (key, text, problem) in enumerate(zip(frame.keys, texts, problems, strict=True)):
        if problem is not None:
            outcomes.append(permanent(key, "invalid_value", problem))
        elif text is None:  # nothing was built and nothing is wrong: a bug, never sent
            outcomes.append(permanent(key, "no_payload", "the warehouse built no operation"))
        elif (size := len(text.encode())) > MAX_OPERATION_BYTES:
            outcomes.append(permanent(key, "operation_too_large", _op_too_large(size)))
        else:
            keep.append(i)
            continue
        bad.append(i)
    return frame.take(keep), (frame.take(bad), outcomes) if bad else None


def _op_too_large(size: int) -> str:
    return (
        f"operation is {size} bytes; Customer.io accepts at most {MAX_OPERATION_BYTES} "
        "bytes per operation"
    )


class _Builder:
    """Rows of one sync -> encoded operations, with the per-sync work done once.

    Profiling showed the per-record cost was the bottleneck, not the API: one `json.dumps`
    per attribute value to measure it, a second encoding of every operation when framing
    the request, and the attribute name checks repeated on every row. Here names are
    checked once per column layout, a value is measured only when it could break the
    1000-byte limit (a text of at most 250 characters cannot: UTF-8 takes at most 4 bytes
    per character), and each operation is encoded exactly once with orjson.
    """

    def __init__(self, sync: SyncSpec, opts: CustomerIoSyncOptions) -> None:
        self.sync = sync
        self.opts = opts
        self.kind = sync.object
        self._identifier = list(sync.identifier.items())
        self._id_names = set(sync.identifier) | set(sync.identifier.values())
        self._layouts: dict[tuple[str, ...], tuple[list[str], str | None]] = {}

    def item(self, change: Change) -> Item | Outcome:
        """The encoded operation for `change`, or its outcome when no request is needed."""
        try:
            if change.payload is not None or change.problem is not None:  # built in SQL
                if change.problem is not None:
                    raise BadValue(change.problem)
                payload = change.payload.encode()  # type: ignore[union-attr]
            elif change.op != "remove" and self.kind in ("person", "object"):
                payload = self._identify(change)
            else:
                op = _operation(self.sync, self.opts, change)
                if op is None:  # nothing to do (on_remove=ignore, removed events)
                    return Outcome.success(change.key)
                payload = _encode(op)
        except BadValue as exc:
            return permanent(change.key, "invalid_value", str(exc))
        if len(payload) > MAX_OPERATION_BYTES:
            return permanent(change.key, "operation_too_large", _op_too_large(len(payload)))
        return Item(change.key, payload, len(payload))

    def _layout(self, fields: Mapping[str, Any]) -> tuple[list[str], str | None]:
        """(attribute names, the error every row of this column layout has, if any)."""
        names = tuple(fields)
        layout = self._layouts.get(names)
        if layout is None:
            attrs = [n for n in names if n not in self._id_names and n not in SYNC_COLUMNS]
            error = None
            if len(attrs) > MAX_ATTRIBUTES:
                error = (
                    f"{len(attrs)} attributes; Customer.io accepts at most {MAX_ATTRIBUTES} "
                    "per call"
                )
            for name in attrs:
                if error is None and byte_len(name) > MAX_ATTRIBUTE_NAME_BYTES:
                    error = (
                        f"attribute name {name[:40]!r}... is {byte_len(name)} bytes; "
                        f"Customer.io accepts at most {MAX_ATTRIBUTE_NAME_BYTES} bytes"
                    )
            layout = self._layouts[names] = (attrs, error)
        return layout

    def _identify(self, change: Change) -> bytes:
        """`identify` of a person or object (the hot path of a people sync)."""
        fields = change.fields
        attr_names, error = self._layout(fields)
        if error is not None:
            raise BadValue(error)
        ids: dict[str, Any] = {}
        for dest_field, column in self._identifier:
            value = fields.get(dest_field, fields.get(column))
            ids[dest_field] = change.key if value is None and len(self._identifier) == 1 else value
        if self.kind == "person":
            identifiers = {k: _id_value(k, v) for k, v in ids.items() if k in PERSON_IDS}
        else:
            identifiers = _object_ids(self.opts, ids)
        attrs: dict[str, Any] = {}
        for name in attr_names:
            value = fields[name]
            kind = type(value)
            if kind is str:
                if len(value) > 250 and len(value.encode()) > MAX_ATTRIBUTE_VALUE_BYTES:
                    raise BadValue(_too_long(name, len(value.encode())))
            elif value is None:
                value = ""
            elif kind is not int and kind is not bool:
                value = _value(name, value)
                if not isinstance(value, int | float) or isinstance(value, bool):
                    size = byte_len(value) if isinstance(value, str) else len(_encode(value))
                    if size > MAX_ATTRIBUTE_VALUE_BYTES:
                        raise BadValue(_too_long(name, size))
            attrs[name] = value
        if self.kind == "object" and (total := len(_encode(attrs))) > MAX_OBJECT_ATTRIBUTES_BYTES:
            raise BadValue(
                f"attributes total {total} bytes; Customer.io accepts at most "
                f"{MAX_OBJECT_ATTRIBUTES_BYTES}"
            )
        return _encode(
            {
                "type": self.kind,
                "action": "identify",
                "identifiers": identifiers,
                "attributes": attrs,
            }
        )


# Identifier columns whose SQL text is Python's `str(value)`: text and integers (a boolean
# would read 'true' in SQL and 'True' in Python, a timestamp differently everywhere).
_SQL_ID_KINDS = frozenset({"text", "integer"})


def _person_sql(
    sync: SyncSpec,
    identifier: Mapping[str, str],
    fields: Mapping[str, str],
    columns: Mapping[str, tuple[str, str]],
    d: Dialect,
) -> tuple[str, str] | None:
    """(payload, problem) SQL for person `identify`s, or None for the Python path.

    Each column type's JSON text comes from the warehouse's `Dialect.payload_types`; a type
    missing there (no exact SQL twin on that warehouse) sends the whole sync to Python.
    """
    if sync.object != "person" or d.json_text is None or d.byte_length is None:
        return None
    if not d.payload_types or len(identifier) != 1:
        return None
    ((id_field, id_column),) = identifier.items()
    # A mapped field named like the identifier overrides it in the row's fields (the demo
    # model has an `id` column next to `sync_key`), so the id is read from that column.
    id_column = fields.get(id_field, id_column)
    id_names = set(identifier) | set(identifier.values())
    if id_field not in PERSON_IDS or id_column not in columns:
        return None
    id_type = d.payload_type(columns[id_column][1])
    if id_type is None or id_type[0] not in _SQL_ID_KINDS:
        return None
    attrs = [(n, c) for n, c in fields.items() if n not in id_names and n not in SYNC_COLUMNS]
    if len(attrs) > MAX_ATTRIBUTES or any(byte_len(n) > MAX_ATTRIBUTE_NAME_BYTES for n, _ in attrs):
        return None  # every row fails the same way: the Python path says so per record
    lit, text, size = d.literal, d.json_text.format, d.byte_length.format
    id_expr = f"coalesce(cast({columns[id_column][0]} as {d.string}), sync_key)"
    problems = [
        (f"{id_expr} = ''", lit(f"identifier {id_field!r} is empty")),
        (
            f"{size(id_expr)} > {MAX_ID_BYTES}",
            f"{lit(f'identifier {id_field!r} is ')} || cast({size(id_expr)} as {d.string})"
            f" || {lit(f' bytes; Customer.io accepts at most {MAX_ID_BYTES} bytes')}",
        ),
    ]
    parts = [
        lit(f'{{"type":"person","action":"identify","identifiers":{{{_encode(id_field).decode()}:'),
        text(id_expr),
        lit('},"attributes":{'),
    ]
    for i, (name, column) in enumerate(attrs):
        expr, sql_type = columns[column]
        found = d.payload_type(sql_type)
        if found is None or (found[0] == "float" and d.is_finite is None):
            return None  # decimals, lists, structs, ...: encoded in Python, as documented
        kind, template = found
        value = template.format(expr)
        if kind == "text":
            measured = size(f"cast({expr} as {d.string})")
            problems.append(
                (
                    f"{measured} > {MAX_ATTRIBUTE_VALUE_BYTES}",
                    f"{lit(f'attribute {name!r} value is ')} || cast({measured} as {d.string})"
                    f" || {lit(f' bytes; Customer.io accepts at most {MAX_ATTRIBUTE_VALUE_BYTES} bytes per value')}",
                )
            )
        elif kind == "float":
            problems.append(
                (
                    f"not {d.is_finite.format(expr)}",  # type: ignore[union-attr]
                    f"{lit(f'field {name!r} is ')} || cast({expr} as {d.string})"
                    f" || {lit('; NaN/Infinity cannot be sent')}",
                )
            )
        sep = "," if i else ""
        parts += [lit(f"{sep}{_encode(name).decode()}:"), f"coalesce({value}, '\"\"')"]
    parts.append(lit("}}"))
    # One concat() call, not a chain of ||: a chain makes an intermediate string per part
    # and row, which made DuckDB hold ~100 MB more while streaming 1M rows.
    payload = "concat(" + ", ".join(parts) + ")"
    problem = "case " + " ".join(f"when {w} then {t}" for w, t in problems) + " end"
    return payload, problem


def _too_long(name: str, size: int) -> str:
    return (
        f"attribute {name!r} value is {size} bytes; Customer.io accepts at most "
        f"{MAX_ATTRIBUTE_VALUE_BYTES} bytes per value"
    )


def _encode(payload: Any) -> bytes:
    """Compact JSON, as `sync.http.dumps` writes it, with orjson (several times faster).

    Values reach here already checked (NaN/Infinity refused by `_value`); what orjson cannot
    encode (integers beyond 64 bits) falls back to the standard library.
    """
    try:
        return orjson.dumps(payload)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return dumps(payload)


def _operation(
    sync: SyncSpec, opts: CustomerIoSyncOptions, change: Change
) -> dict[str, Any] | None:
    """The operation for any change (events, relationships, removals, and identify)."""
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


def _errors(response: httpx.Response) -> list[dict[str, Any]] | None:
    """The `errors` items of an answer: [] when it lists none, None when it cannot be read."""
    if not response.content.strip():
        return []
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if errors is None:
        return []
    if not isinstance(errors, list):
        return None
    return [e for e in errors if isinstance(e, dict)]


def _detail(error: Mapping[str, Any]) -> str:
    return " ".join(str(error[k]) for k in ("field", "reason", "message") if error.get(k))


def _reason(response: httpx.Response) -> str:
    parts = [_detail(e) for e in _errors(response) or []]
    text = "; ".join(p for p in parts if p) or body_excerpt(response) or "request rejected"
    # Error text may quote the request (gateways echo the Authorization header): redact here.
    return redact(f"Customer.io rejected the request (HTTP {response.status_code}): {text}")


def _outcomes(batch: Sequence[Item], response: httpx.Response) -> Outcomes:
    """Per-operation outcomes of a 2xx answer, acknowledging only what it proves.

    200 without errors: every operation was accepted (None: no object per operation). The documented 207 ("at least one
    object in the batch was invalid; all other requests are accepted") lists errors as
    `{reason, field, message}` without saying which operation failed: unless every error
    names its operation (`batch_index`, not in the documented schema but used when present),
    the batch is split (`PartiallyRejected`) until each error belongs to one operation. An
    answer whose errors cannot be read, or a 207 that lists none, proves nothing: the whole
    request stays retryable.
    """
    status = response.status_code
    errors = _errors(response)
    if errors is None or (status == 207 and not errors) or not 200 <= status < 300:
        reason = (
            f"Customer.io answered HTTP {status} without a readable list of the failed "
            f"operations ({body_excerpt(response, 120)!r}); nothing in the request is "
            "proven delivered"
        )
        return [retryable(item.key, f"http_{status}_unattributed", reason) for item in batch]
    if not errors:
        return None
    indexed: dict[int, str] = {}
    unattributed: list[str] = []
    for error in errors:
        index = error.get("batch_index")
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(batch):
            indexed[index] = _detail(error) or "no reason given"
        else:
            unattributed.append(_detail(error) or "no reason given")
    if unattributed:
        if len(batch) == 1:
            detail = "; ".join(unattributed + list(indexed.values()))
            return [
                permanent(batch[0].key, "rejected", f"Customer.io rejected the operation: {detail}")
            ]
        raise PartiallyRejected(
            "rejected",
            f"Customer.io rejected {len(errors)} of {len(batch)} operations without naming "
            f"them: {'; '.join(unattributed[:3])}",
        )
    return [
        permanent(item.key, "rejected", f"Customer.io rejected the operation: {indexed[i]}")
        if i in indexed
        else Outcome.success(item.key)
        for i, item in enumerate(batch)
    ]
