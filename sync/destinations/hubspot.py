"""HubSpot CRM v3: batch upsert of `companies`, `contacts`, `deals` and `tasks` by a unique
id property; deals and tasks are then associated with their company (issue 18).

Every property value is sent as a string, as HubSpot's published CRM v3 schema types
`SimplePublicObjectBatchInputUpsert.properties` (tests/contracts/hubspot/): numbers as plain
decimal text, booleans "true"/"false", date properties as YYYY-MM-DD, datetime properties as
ISO 8601 UTC with milliseconds. Enumeration values are checked against the property's options
before sending, using the portal's property definitions (read once per object type) plus any
options given in the sync's `enum_options`. Each input carries an `objectWriteTraceId` (a digest
of its sync key) so a 207 multi-status error can be pinned on its input by trace id or by id;
an error that names neither splits the batch until it belongs to one input, and nothing is
counted as delivered on faith. `setup()` creates the property group and every property the
sync model needs, idempotently.

Size (~440 lines): one vendor's whole surface in one module, as CONTRIBUTING.md asks of a
destination: value formatting per property type, the 207 multi-status parser and the
property `setup()` share the portal's property definitions, so they stay together. The
association step of deals/tasks lives in `sync/destinations/hubspot_associations.py`.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sync.destinations._values import (
    SYNC_COLUMNS,
    BadValue,
    as_utc,
    check_finite,
    split_fields,
)
from sync.destinations.base import Destination, DestinationOptions, SyncSpec, register
from sync.destinations.hubspot_associations import HubSpotAssociation, associate
from sync.errors import DestinationError
from sync.http import (
    BatchRejected,
    HttpClient,
    Item,
    PacingOptions,
    PartiallyRejected,
    TransientHttpError,
    body_excerpt,
    deliver,
    make_item,
    pack,
    permanent,
    response_json,
    retryable,
)
from sync.records import Change, Outcome
from sync.secrets import PlainStr, Secret, redact, register_secret

MAX_INPUTS = 100
MAX_TEXT = 65_536
# Published per-portal limits for private apps (requests per 10 s, requests per day).
TIERS = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
}
RETRYABLE_CATEGORIES = frozenset({"RATE_LIMITS", "INTERNAL_ERROR", "TIMEOUT", "LOCKED"})


class HubSpotOptions(DestinationOptions, PacingOptions):
    """The `destinations:` entry: private app token, tier and pacing."""

    access_token: Secret
    base_url: PlainStr = "https://api.hubapi.com"
    tier: Literal["free", "starter", "professional", "enterprise"] = "professional"
    # Default pacing: 95% of the tier's burst limit (190/10 s -> 18 req/s, burst 5).
    requests_per_second: float = Field(18.0, gt=0)
    burst: int = Field(5, ge=1)
    max_in_flight: int = Field(4, ge=1, le=64)
    daily_request_limit: int | None = None  # defaults to the tier's published daily limit

    @model_validator(mode="after")
    def _tier_defaults(self) -> HubSpotOptions:
        per_10s, daily = TIERS[self.tier]
        if "requests_per_second" not in self.model_fields_set:
            self.requests_per_second = math.floor(per_10s * 0.95) / 10
        if self.daily_request_limit is None:
            self.daily_request_limit = daily
        return self


class HubSpotSyncOptions(BaseModel):
    """Per-sync `options:`."""

    model_config = ConfigDict(extra="forbid")

    property_group: str = "plg_signals"
    property_group_label: str = "PLG signals"
    enum_options: dict[str, list[str]] = Field(default_factory=dict)
    # property -> {model value -> HubSpot value}, e.g. dealstage: {open: qualifiedtobuy,
    # won: closedwon, lost: closedlost}; a value not in the map is sent as it is.
    value_map: dict[str, dict[str, str]] = Field(default_factory=dict)
    # properties set to the same value on every record, e.g. pipeline: default
    constants: dict[str, str] = Field(default_factory=dict)
    # deals/tasks: associate each upserted record with its company, found by a unique
    # company property (default plg_account_id) whose value is in a column of the model;
    # a list links several object types (e.g. tasks to the company and to a contact)
    associate: HubSpotAssociation | list[HubSpotAssociation] | None = None

    @property
    def associations(self) -> list[HubSpotAssociation]:
        """`associate` as a list (empty when unset)."""
        if self.associate is None:
            return []
        return self.associate if isinstance(self.associate, list) else [self.associate]


# SQL type (prefix, lower case) -> HubSpot (type, fieldType).
_SQL_TYPES: list[tuple[tuple[str, ...], tuple[str, str]]] = [
    (("timestamp", "datetime"), ("datetime", "date")),
    (("date",), ("date", "date")),
    (("bool",), ("bool", "booleancheckbox")),
    (
        (
            "int",
            "bigint",
            "smallint",
            "tinyint",
            "hugeint",
            "numeric",
            "decimal",
            "number",
            "double",
            "float",
            "real",
        ),
        ("number", "number"),
    ),
]


def hubspot_type(sql_type: str) -> tuple[str, str]:
    """HubSpot (type, fieldType) for a column's SQL data type; text for anything unknown."""
    t = sql_type.strip().lower()
    for prefixes, result in _SQL_TYPES:
        if t.startswith(prefixes):
            return result
    return ("string", "text")


@register
class HubSpot(Destination):
    type_name: ClassVar[str] = "hubspot"
    Options: ClassVar[type[DestinationOptions]] = HubSpotOptions
    SyncOptions: ClassVar[type[BaseModel]] = HubSpotSyncOptions
    objects: ClassVar[frozenset[str]] = frozenset({"companies", "contacts", "deals", "tasks"})
    modes: ClassVar[frozenset[str]] = frozenset({"upsert"})

    options: HubSpotOptions

    def __init__(self, name: str, options: DestinationOptions) -> None:
        super().__init__(name, options)
        token = register_secret(self.options.access_token)
        self._http = HttpClient(
            self.options.base_url,
            pacing=self.options,
            stats=self.stats,
            # The limit is per portal, shared by every app and sync using this token.
            limit_key=f"hubspot:{_fingerprint(token)}",
            headers={"Authorization": f"Bearer {token}"},
        )
        self._properties: dict[str, dict[str, dict[str, Any]]] = {}
        self._properties_lock = threading.Lock()

    # -- validation and planning ---------------------------------------------------------

    def validate_sync(self, sync: SyncSpec, columns: Mapping[str, str]) -> list[str]:
        problems = super().validate_sync(sync, columns)
        try:
            self.sync_options(sync)
        except ValidationError as exc:
            problems.append(f"options: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        if len(sync.identifier) != 1:
            problems.append(
                "identifier must map exactly one unique HubSpot property (the idProperty, "
                "e.g. email for contacts or plg_account_id for companies) to a column"
            )
        elif columns and next(iter(sync.identifier.values())) not in columns:
            problems.append(f"identifier column is not in model {sync.model}")
        try:
            associations = self.sync_options(sync).associations
        except ValidationError:
            associations = []
        fields = getattr(sync, "fields", None)  # destination property -> model column
        for assoc in associations:
            # `column` names a property the sync sends (its `fields:` key), or a model column
            # when the sync sends every column
            known = set(fields or {}) | set(sync.identifier) if fields else set(columns)
            if columns and assoc.column not in known:
                problems.append(
                    f"options.associate.column {assoc.column!r} is not "
                    + (f"a key of fields: {sorted(fields)}" if fields else f"in model {sync.model}")
                )
        if sync.on_remove == "delete":
            problems.append(
                "on_remove: delete is not supported for HubSpot (CRM records are not deleted "
                "by a sync); use ignore or unset"
            )
        try:
            enum_options = self.sync_options(sync).enum_options
        except ValidationError:
            enum_options = {}
        for column, values in model_enumerations(sync).items():
            listed = enum_options.get(column)
            missing = [v for v in values if listed is not None and v not in listed]
            if missing:
                problems.append(
                    f"options.enum_options.{column} lacks {missing}, which model {sync.model} "
                    "can emit (its accepted_values test); add them, or drop the entry: "
                    "`plg-sync setup` declares the property's options from the model"
                )
        return problems

    def budget_note(self, planned_records: int) -> str | None:
        requests = math.ceil(planned_records / MAX_INPUTS)
        daily = self.options.daily_request_limit or 1
        seconds = requests / self.options.requests_per_second
        return (
            f"HubSpot: ~{requests:,} requests for {planned_records:,} records "
            f"({MAX_INPUTS} per call) = {requests / daily:.1%} of the {self.options.tier} "
            f"daily limit of {daily:,}; ~{seconds:,.0f}s at "
            f"{self.options.requests_per_second:g} requests/s"
        )

    # -- sending -------------------------------------------------------------------------

    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        opts = self.sync_options(sync)
        (id_property,) = sync.identifier
        definitions = self._definitions(sync.object)
        outcomes: list[Outcome] = []
        items: list[Item] = []
        # per association: record key -> the target's unique property value
        targets: list[dict[str, str]] = [{} for _ in opts.associations]
        for change in changes:
            if change.op == "remove" and sync.on_remove != "unset":
                outcomes.append(Outcome.success(change.key))
                continue
            try:
                ids, attrs = split_fields(sync.identifier, change)
                id_value = ids[id_property]
                if id_value in (None, ""):
                    raise BadValue(f"id property {id_property!r} is empty")
                if change.op == "remove":
                    attrs = dict.fromkeys(attrs)
                else:
                    attrs = {**opts.constants, **attrs}
                for name, mapping in opts.value_map.items():
                    if name in attrs and attrs[name] is not None:
                        attrs[name] = mapping.get(str(attrs[name]), attrs[name])
                for assoc, assoc_targets in zip(opts.associations, targets, strict=True):
                    target = change.fields.get(assoc.column)
                    if target in (None, ""):
                        if change.op != "remove" and assoc.required:
                            raise BadValue(
                                f"column {assoc.column!r} is empty: no "
                                f"{assoc.to_object} to associate the record with"
                            )
                        continue
                    assoc_targets[change.key] = str(target)
                if opts.associations:
                    # echoed in the upsert result, which is how the record id is found
                    attrs[id_property] = id_value
                properties = {
                    name: _format(name, value, definitions.get(name), opts.enum_options.get(name))
                    for name, value in attrs.items()
                }
            except BadValue as exc:
                outcomes.append(permanent(change.key, "invalid_value", str(exc)))
                continue
            payload = {
                "idProperty": id_property,
                "id": str(id_value),
                "properties": properties,
                "objectWriteTraceId": trace_id(change.key),
            }
            items.append(make_item(change.key, payload))
        batches = pack(
            items,
            max_count=min(sync.batch_size or MAX_INPUTS, MAX_INPUTS),
            max_bytes=3_000_000,
        )

        def send_batch(batch: Sequence[Item]) -> list[Outcome]:
            results: dict[str, str] = {}
            sent = self._send_batch(sync.object, batch, results)
            for assoc, assoc_targets in zip(opts.associations, targets, strict=True):
                sent = associate(self._http, sync.object, assoc, sent, results, assoc_targets)
            return sent

        return outcomes + deliver(self._http, batches, send_batch)

    def _send_batch(
        self, object_type: str, batch: Sequence[Item], record_ids: dict[str, str] | None = None
    ) -> list[Outcome]:
        """Upsert one batch; `record_ids` collects id-property value -> HubSpot record id."""
        response = self._http.request(
            "POST",
            f"/crm/v3/objects/{object_type}/batch/upsert",
            json_body={"inputs": [item.payload for item in batch]},
        )
        status = response.status_code
        self._raise_for_auth(status, response)
        if status in (400, 413):
            raise BatchRejected(f"http_{status}", _reason(response))
        if status >= 400:
            reason = f"HubSpot answered HTTP {status}: {body_excerpt(response)}"
            return [permanent(item.key, f"http_{status}", reason) for item in batch]
        body = response_json(response)
        if record_ids is not None and isinstance(body, dict):
            for result in body.get("results") or []:
                props = result.get("properties") if isinstance(result, dict) else None
                if isinstance(props, dict) and result.get("id") is not None:
                    for item in batch:
                        if str(props.get(item.payload["idProperty"], "")) == item.payload["id"]:
                            record_ids[item.key] = str(result["id"])
        if isinstance(body, dict) and str(body.get("status", "")).lower() == "error":
            # HTTP 200 with an error body applied nothing: resend, never checkpoint it.
            reason = f"HubSpot answered HTTP {status} with an error: {_error_message(body)}"
            return [
                retryable(item.key, str(body.get("category") or "ERROR"), reason) for item in batch
            ]
        return _outcomes(batch, status, body)

    def _raise_for_auth(self, status: int, response: Any) -> None:
        if status == 401:
            raise DestinationError(
                "HubSpot rejected the private app token (HTTP 401): check access_token"
            )
        if status == 403:
            raise DestinationError(
                f"HubSpot refused access (HTTP 403): the private app lacks a scope "
                f"({body_excerpt(response, 200)})"
            )

    # -- property definitions ------------------------------------------------------------

    def _definitions(self, object_type: str, refresh: bool = False) -> dict[str, dict[str, Any]]:
        with self._properties_lock:
            if refresh or object_type not in self._properties:
                self._properties[object_type] = self._fetch_properties(object_type)
            return self._properties[object_type]

    def _fetch_properties(self, object_type: str) -> dict[str, dict[str, Any]]:
        try:
            response = self._http.request("GET", f"/crm/v3/properties/{object_type}")
        except TransientHttpError:
            return {}
        self._raise_for_auth(response.status_code, response)
        if response.status_code != 200:
            return {}
        try:
            results = response.json().get("results", [])
        except ValueError:
            return {}
        return {p["name"]: p for p in results if isinstance(p, dict) and "name" in p}

    def setup(self, sync: SyncSpec, columns: Mapping[str, str], apply: bool) -> list[str]:
        """Create the property group and each missing property; existing ones are left alone."""
        opts = self.sync_options(sync)
        object_type = sync.object
        (id_property,) = sync.identifier
        id_column = sync.identifier[id_property]
        actions: list[str] = []
        verb = "created" if apply else "would create"

        groups = self._http.request("GET", f"/crm/v3/properties/{object_type}/groups")
        self._raise_for_auth(groups.status_code, groups)
        group_names = {g.get("name") for g in _results(groups)}
        if opts.property_group not in group_names:
            if apply:
                self._create(
                    f"/crm/v3/properties/{object_type}/groups",
                    {"name": opts.property_group, "label": opts.property_group_label},
                )
            actions.append(f"{verb} property group {opts.property_group!r} on {object_type}")

        existing = self._definitions(object_type, refresh=True)
        wanted: dict[str, str] = {}
        fields = getattr(sync, "fields", None)  # destination property -> model column
        if fields:
            wanted[id_property] = columns.get(id_column, "")
            for name, column in fields.items():
                if name not in opts.value_map and name not in opts.constants:
                    wanted[name] = columns.get(column, "")
        for column, sql_type in ({} if fields else columns).items():
            if column in SYNC_COLUMNS:
                continue
            wanted[id_property if column == id_column else column] = sql_type
        enums = model_enumerations(sync)
        for name, sql_type in wanted.items():
            values = [] if name == id_property else enums.get(name.lower(), [])
            if name in existing:
                actions += self._add_missing_options(object_type, existing[name], values, apply)
                continue
            hs_type, field_type = hubspot_type(sql_type)
            if name == id_property:
                hs_type, field_type = "string", "text"
            elif values:  # the model's accepted_values: an enumeration with exactly those
                hs_type, field_type = "enumeration", "select"
            body: dict[str, Any] = {
                "name": name,
                "label": name.replace("_", " ").capitalize(),
                "type": hs_type,
                "fieldType": field_type,
                "groupName": opts.property_group,
            }
            if name == id_property:
                body["hasUniqueValue"] = True
            if hs_type == "bool":
                body["options"] = [
                    {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
                    {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
                ]
            if hs_type == "enumeration":
                body["options"] = [_option(v, i) for i, v in enumerate(values)]
            if apply:
                self._create(f"/crm/v3/properties/{object_type}", body)
            unique = ", unique" if name == id_property else ""
            shown = f", options {values}" if hs_type == "enumeration" else ""
            actions.append(
                f"{verb} {object_type} property {name!r} ({hs_type}/{field_type}{unique}"
                f"{shown}) in group {opts.property_group!r}"
            )
        if apply:
            self._definitions(object_type, refresh=True)
        return actions

    def _add_missing_options(
        self, object_type: str, definition: Mapping[str, Any], values: Sequence[str], apply: bool
    ) -> list[str]:
        """An existing enumeration property must offer every value the model can emit
        (HubSpot refuses a value outside the options): add the missing ones, keep the rest."""
        if definition.get("type") != "enumeration" or not values:
            return []
        options = [o for o in definition.get("options") or [] if isinstance(o, dict)]
        have = {o.get("value") for o in options}
        missing = [v for v in values if v not in have]
        if not missing:
            return []
        name = definition["name"]
        if apply:
            merged = [
                {
                    "label": o.get("label") or o.get("value"),
                    "value": o.get("value"),
                    "displayOrder": o.get("displayOrder", i),
                    "hidden": bool(o.get("hidden", False)),
                }
                for i, o in enumerate(options)
            ] + [_option(v, len(options) + i) for i, v in enumerate(missing)]
            path = f"/crm/v3/properties/{object_type}/{name}"
            response = self._http.request("PATCH", path, json_body={"options": merged})
            self._raise_for_auth(response.status_code, response)
            if response.status_code != 200:
                raise DestinationError(
                    f"HubSpot refused to add options {missing} to {object_type} property "
                    f"{name!r} (HTTP {response.status_code}): {body_excerpt(response)}"
                )
        verb = "added" if apply else "would add"
        return [
            f"{verb} options {missing} to {object_type} property {name!r} "
            "(the model can emit them: its accepted_values test)"
        ]

    def _create(self, path: str, body: dict[str, Any]) -> None:
        response = self._http.request("POST", path, json_body=body)
        self._raise_for_auth(response.status_code, response)
        if response.status_code in (200, 201, 409):  # 409: someone created it meanwhile
            return
        raise DestinationError(
            f"HubSpot refused to create {body['name']!r} at {path} "
            f"(HTTP {response.status_code}): {body_excerpt(response)}"
        )

    def close(self) -> None:
        self._http.close()


def _format(
    name: str, value: Any, definition: Mapping[str, Any] | None, extra_options: list[str] | None
) -> str:
    """One property value as the string HubSpot's schema asks for, in the form its property
    type documents; "" clears the property."""
    check_finite(name, value)
    hs_type = (definition or {}).get("type")
    if value is None:
        return ""
    out = property_text(value, hs_type)
    if len(out) > MAX_TEXT:
        raise BadValue(
            f"property {name!r} is {len(out)} characters; HubSpot accepts at most {MAX_TEXT}"
        )
    options = [o.get("value") for o in (definition or {}).get("options") or []]
    options += extra_options or []
    if (hs_type == "enumeration" or extra_options) and options and out not in options:
        shown = ", ".join(map(str, options[:10]))
        raise BadValue(f"property {name!r} value {out[:60]!r} is not one of its options: {shown}")
    return out


def property_text(value: Any, hs_type: str | None = None) -> str:
    """HubSpot's documented string form of a warehouse value for a property of `hs_type`.

    Numbers: plain decimal text, never an exponent (225.0 -> "225", 0.5 -> "0.5").
    Booleans: "true"/"false". Dates: YYYY-MM-DD (a timestamp sent to a date property keeps its
    UTC date). Datetimes: ISO 8601 in UTC with milliseconds (a date sent to a datetime
    property is its midnight UTC).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = as_utc(value)
        if hs_type == "date":
            return moment.date().isoformat()
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        if hs_type == "datetime":
            return f"{value.isoformat()}T00:00:00.000Z"
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        text = format(number.normalize(), "f")
        return text if text not in ("-0",) else "0"
    return str(value)


def trace_id(key: str) -> str:
    """The objectWriteTraceId of a record: unique per input, and a digest, so an email used
    as a sync key never travels into HubSpot's error logs."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _outcomes(batch: Sequence[Item], status: int, body: Any) -> list[Outcome]:
    """Per-input outcomes of a 200/207 answer, acknowledging only what it proves.

    200: every input was applied. 207: each error is pinned on its input by the
    `objectWriteTraceId` or the `id` its context names; an input no error names was applied.
    When an error names no input the batch is split (`PartiallyRejected`) until the error
    belongs to one input, and an answer whose errors cannot be read keeps the whole request
    retryable.
    """
    if status == 200:
        return [Outcome.success(item.key) for item in batch]
    errors = body.get("errors") if isinstance(body, dict) else None
    if status != 207 or not isinstance(errors, list) or not errors:
        reason = (
            f"HubSpot answered HTTP {status} without a readable list of the failed inputs; "
            "nothing in the request is proven delivered"
        )
        return [retryable(item.key, f"http_{status}_unattributed", reason) for item in batch]
    by_trace = {item.payload.get("objectWriteTraceId"): item for item in batch}
    by_id: dict[str, list[Item]] = {}
    for item in batch:
        by_id.setdefault(str(item.payload["id"]).lower(), []).append(item)
    failed: dict[str, Outcome] = {}
    unattributed: list[tuple[str, str]] = []
    for error in errors:
        if not isinstance(error, dict):
            unattributed.append(("ERROR", "an error item HubSpot did not describe"))
            continue
        category = str(error.get("category") or "ERROR")
        message = _error_message(error)
        context = error.get("context") if isinstance(error.get("context"), dict) else {}
        named = [by_trace[t] for t in context.get("objectWriteTraceId") or [] if t in by_trace]
        for failing_id in context.get("ids") or []:
            named += by_id.get(str(failing_id).lower(), [])
        if not named:
            unattributed.append((category, message))
        make = retryable if category in RETRYABLE_CATEGORIES else permanent
        for item in named:
            failed[item.key] = make(item.key, category, message)
    if unattributed:
        category, message = unattributed[0]
        if len(batch) == 1:
            make = retryable if category in RETRYABLE_CATEGORIES else permanent
            return [make(batch[0].key, category, message)]
        raise PartiallyRejected(
            category,
            f"HubSpot reported {len(unattributed)} failed input(s) without naming them: {message}",
            retryable=all(c in RETRYABLE_CATEGORIES for c, _ in unattributed),
        )
    return [failed.get(item.key) or Outcome.success(item.key) for item in batch]


def model_enumerations(sync: SyncSpec) -> dict[str, list[str]]:
    """Model column -> values it can emit (its accepted_values test, from the manifest)."""
    found = getattr(sync, "enumerations", None) or {}
    return {str(c).lower(): [str(v) for v in values] for c, values in found.items()}


def _option(value: str, order: int) -> dict[str, Any]:
    """An `OptionInput` as HubSpot's properties schema requires it (label, value, hidden)."""
    return {
        "label": value.replace("_", " ").capitalize(),
        "value": value,
        "displayOrder": order,
        "hidden": False,
    }


def _results(response: Any) -> list[dict[str, Any]]:
    try:
        results = response.json().get("results", [])
    except (ValueError, AttributeError):
        return []
    return [r for r in results if isinstance(r, dict)]


def _error_message(error: Mapping[str, Any]) -> str:
    parts = [str(error.get("message") or "")]
    for sub in error.get("errors") or []:
        if isinstance(sub, dict) and sub.get("code"):
            parts.append(f"[{sub['code']}] {sub.get('message') or ''}".strip())
    category = error.get("category") or "ERROR"
    # Response text may quote the request (its Authorization header): redact where it enters.
    return redact(f"HubSpot {category}: " + " ".join(p for p in parts if p))


def _reason(response: Any) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("message"):
            return _error_message(body)
    except ValueError:
        pass
    return f"HubSpot rejected the batch (HTTP {response.status_code}): {body_excerpt(response)}"


def _fingerprint(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()[:12]
