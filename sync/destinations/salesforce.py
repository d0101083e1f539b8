"""Salesforce REST: sObject Collections upsert by an external id field, 200 records a call.

Login is OAuth 2.0 client credentials or JWT bearer against `/services/oauth2/token`; calls go
to the `instance_url` the token response names. A 401 `INVALID_SESSION_ID` refreshes the token
once (shared by all workers) and repeats the call. Per-record `UNABLE_TO_LOCK_ROW` errors are
retried a few times in smaller batches, then left retryable for the next run;
`REQUEST_LIMIT_EXCEEDED` (the org's daily API budget) stops the run. `setup()` reads the
describe of the sObject and says exactly which fields to create if any are missing.

Size (~450 lines): one vendor's whole surface in one module, as CONTRIBUTING.md asks of a
destination: two OAuth flows, the session refresh, the describe-based `setup()`, upsert
with lock retries, and deletes. Splitting auth or setup into sibling modules would make
them the only destination spread over several files for no reuse.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sync.destinations._values import (
    SYNC_COLUMNS,
    BadValue,
    as_utc,
    check_finite,
    plain_number,
    split_fields,
)
from sync.destinations.base import Destination, DestinationOptions, SyncSpec, register
from sync.destinations.salesforce_matched import send_matched
from sync.errors import DestinationError
from sync.http import (
    BatchRejected,
    HttpClient,
    Item,
    PacingOptions,
    body_excerpt,
    deliver,
    make_item,
    pack,
    permanent,
    response_json,
    retryable,
)
from sync.records import Change, Outcome
from sync.secrets import PlainStr, Secret, redact, register_secret, reveal

MAX_RECORDS = 200
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class SalesforceOptions(DestinationOptions, PacingOptions):
    """The `destinations:` entry: login, API version and pacing."""

    login_url: PlainStr = "https://login.salesforce.com"  # or the org's My Domain URL
    auth_flow: Literal["client_credentials", "jwt_bearer"] = "client_credentials"
    client_id: PlainStr
    client_secret: Secret | None = None  # client_credentials
    username: PlainStr | None = None  # jwt_bearer: the integration user
    private_key: Secret | None = None  # jwt_bearer: PEM of the connected app's key
    audience: PlainStr | None = None  # jwt_bearer `aud`; defaults to login_url
    api_version: str = Field("61.0", pattern=r"^\d+\.\d$")
    # No published per-second limit; the org's daily API budget is what matters.
    requests_per_second: float = Field(20.0, gt=0)
    burst: int = Field(10, ge=1)
    max_in_flight: int = Field(4, ge=1, le=25)
    lock_retries: int = Field(2, ge=0)

    @model_validator(mode="after")
    def _credentials_for_flow(self) -> SalesforceOptions:
        if self.auth_flow == "client_credentials" and self.client_secret is None:
            raise ValueError("auth_flow client_credentials needs client_secret")
        if self.auth_flow == "jwt_bearer" and (self.username is None or self.private_key is None):
            raise ValueError("auth_flow jwt_bearer needs username and private_key")
        return self


class SalesforceReference(BaseModel):
    """A lookup by the parent's external id (`"Account": {"PLG_Account_Id__c": "acct_1"}`)."""

    model_config = ConfigDict(extra="forbid")

    type: str  # the parent sObject, e.g. Account
    field: str  # its external id field, e.g. PLG_Account_Id__c
    column: str  # the model column holding the value
    # set the lookup's Id field (e.g. WhatId of a Task, a polymorphic lookup) from a query
    # of the parent instead of the nested external-id form; needs match_by_query
    id_field: str | None = None


class SalesforceSyncOptions(BaseModel):
    """Per-sync `options:`."""

    model_config = ConfigDict(extra="forbid")

    # model column -> Salesforce field API name, where they differ (names are case-insensitive)
    field_map: dict[str, str] = Field(default_factory=dict)
    # Salesforce field -> {model value -> Salesforce value}, e.g. StageName: {open:
    # Qualification, won: Closed Won, lost: Closed Lost}; other values are sent as they are
    value_map: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Salesforce Date fields fed from a timestamp column (sent as YYYY-MM-DD), e.g. CloseDate
    date_fields: list[str] = Field(default_factory=list)
    # lookups set by the parent's external id (issue 18): relationship name -> parent, e.g.
    # Account: {type: Account, field: PLG_Account_Id__c, column: plg_account_id} puts an
    # Opportunity on the Account whose PLG_Account_Id__c is the row's plg_account_id
    references: dict[str, SalesforceReference] = Field(default_factory=dict)
    # the identifier is a plain custom field, not an External ID (Task, Event): find existing
    # records with a query, then update them by Id or create them (salesforce_matched.py)
    match_by_query: bool = False
    # fields left out of a record when its value is null, instead of sent as null (which
    # clears the field): e.g. OwnerId, which Salesforce requires, so a row without an owner
    # keeps the record's current owner (on create: the integration user) and is not refused
    omit_null: list[str] = Field(default_factory=list)


def salesforce_type(sql_type: str) -> str:
    """The field type to create in Setup for a column's SQL type."""
    t = sql_type.strip().lower()
    if t.startswith(("timestamp", "datetime")):
        return "Date/Time"
    if t.startswith("date"):
        return "Date"
    if t.startswith("bool"):
        return "Checkbox"
    if t.startswith(("int", "bigint", "smallint", "hugeint")):
        return "Number(18, 0)"
    if t.startswith(("numeric", "decimal", "number", "double", "float", "real")):
        return "Number(16, 2)"
    return "Text(255)"


@register
class Salesforce(Destination):
    type_name: ClassVar[str] = "salesforce"
    Options: ClassVar[type[DestinationOptions]] = SalesforceOptions
    SyncOptions: ClassVar[type[BaseModel]] = SalesforceSyncOptions
    objects: ClassVar[frozenset[str]] = frozenset(
        {"Account", "Contact", "Lead", "Opportunity", "Task"}
    )
    modes: ClassVar[frozenset[str]] = frozenset({"upsert"})

    options: SalesforceOptions

    def __init__(self, name: str, options: DestinationOptions) -> None:
        super().__init__(name, options)
        opts = self.options
        for secret in (opts.client_secret, opts.private_key):
            if secret is not None:
                register_secret(secret)
        self._http = HttpClient(
            opts.login_url,
            pacing=opts,
            stats=self.stats,
            limit_key=f"salesforce:{httpx.URL(opts.login_url).host}:{opts.client_id}",
        )
        self._token: str | None = None
        self._instance_url: str | None = None
        self._token_lock = threading.Lock()

    # -- auth ----------------------------------------------------------------------------

    def _session(self) -> tuple[str, str]:
        with self._token_lock:
            if self._token is None:
                self._login()
            assert self._token is not None and self._instance_url is not None
            return self._token, self._instance_url

    def _refresh(self, stale: str) -> None:
        with self._token_lock:
            if self._token == stale:  # another worker may have refreshed already
                self._login()

    def _login(self) -> None:
        opts = self.options
        form = {"client_id": opts.client_id}
        if opts.auth_flow == "client_credentials":
            form |= {
                "grant_type": "client_credentials",
                "client_secret": reveal(opts.client_secret),
            }
        else:
            form |= {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": self._jwt_assertion(),
            }
        response = self._http.request("POST", "/services/oauth2/token", data=form)
        if response.status_code != 200:
            detail = _oauth_error(response)
            raise DestinationError(
                f"Salesforce login ({opts.auth_flow}) failed with HTTP {response.status_code}: "
                f"{detail}; check client_id and the connected app's credentials"
            )
        body = response_json(response)
        token = body.get("access_token")
        instance = body.get("instance_url")
        if not token or not instance:
            raise DestinationError("Salesforce login answered without access_token/instance_url")
        register_secret(token)
        from sync.http import check_url

        check_url(instance, "Salesforce instance_url")
        self._token, self._instance_url = token, instance.rstrip("/")

    def _jwt_assertion(self) -> str:
        import jwt  # PyJWT; cryptography provides RS256

        opts = self.options
        claims = {
            "iss": opts.client_id,
            "sub": opts.username,
            "aud": opts.audience or opts.login_url.rstrip("/"),
            "exp": int(time.time()) + 180,
        }
        try:
            return jwt.encode(claims, reveal(opts.private_key), algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise DestinationError(
                f"Salesforce jwt_bearer: private_key is not a usable RSA PEM key ({type(exc).__name__})"
            ) from None

    def _api(self, method: str, path: str, json_body: Any = None) -> httpx.Response:
        """One call to the instance with a valid session; refreshes once on INVALID_SESSION_ID."""
        for attempt in (1, 2):
            token, instance = self._session()
            response = self._http.request(
                method,
                f"{instance}{path}",
                json_body=json_body,
                headers={"Authorization": f"Bearer {token}"},
            )
            codes = _error_codes(response)
            if response.status_code == 401 and attempt == 1:
                self._refresh(token)
                continue
            if response.status_code == 401:
                raise DestinationError(
                    f"Salesforce rejected a fresh session (HTTP 401 {', '.join(codes)}); "
                    "check the connected app's policies and the integration user"
                )
            if "REQUEST_LIMIT_EXCEEDED" in codes:
                raise DestinationError(
                    "Salesforce org API request limit exceeded (REQUEST_LIMIT_EXCEEDED): "
                    "the run stopped; unsent records are retried on the next run"
                )
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    # -- validation ----------------------------------------------------------------------

    def validate_sync(self, sync: SyncSpec, columns: Mapping[str, str]) -> list[str]:
        problems = []
        if not _API_NAME.match(sync.object):
            problems.append(f"object {sync.object!r} is not an sObject API name (e.g. Account)")
        if sync.mode not in self.modes:
            problems.append(f"mode {sync.mode!r} is not supported by salesforce; use upsert")
        if len(sync.identifier) != 1:
            problems.append(
                "identifier must map exactly one external id field (e.g. PLG_Account_Id__c) "
                "to a column"
            )
        try:
            self.sync_options(sync)
        except ValidationError as exc:
            problems.append(f"options: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        return problems

    def setup(self, sync: SyncSpec, columns: Mapping[str, str], apply: bool) -> list[str]:
        """Check the external id field and mapped fields exist; say what to create if not.

        Fields cannot be created over REST (that is the Metadata API), so with `apply` a
        missing field is a DestinationError listing exactly what to create in Setup.
        """
        opts = self.sync_options(sync)
        (ext_field,) = sync.identifier
        obj = sync.object
        response = self._api("GET", f"{self._base()}/sobjects/{obj}/describe")
        if response.status_code == 404:
            raise DestinationError(
                f"Salesforce has no sObject {obj!r} (or the integration user cannot see it)"
            )
        if response.status_code != 200:
            raise DestinationError(
                f"Salesforce describe of {obj} failed (HTTP {response.status_code}): "
                f"{body_excerpt(response)}"
            )
        fields = {f["name"].lower(): f for f in response_json(response).get("fields", [])}
        actions: list[str] = []
        ext = fields.get(ext_field.lower())
        if ext is None:
            actions.append(
                f"create field {obj}.{ext_field} as Text(255) with 'External ID' and 'Unique' "
                "checked"
            )
        elif not ext.get("externalId") and not opts.match_by_query:
            actions.append(f"edit field {obj}.{ext_field}: check 'External ID' (and 'Unique')")
        id_column = sync.identifier[ext_field]
        enums = {
            str(c).lower(): [str(v) for v in values]
            for c, values in (getattr(sync, "enumerations", None) or {}).items()
        }
        mapped = getattr(sync, "fields", None)  # destination field -> column, when configured
        sent = set(mapped.values()) if mapped else set(columns)
        reference_columns = {r.column for r in opts.references.values()}
        for column, sql_type in columns.items():
            if column in SYNC_COLUMNS or column == id_column or column not in sent:
                continue
            if column in reference_columns and column not in opts.field_map:
                continue
            name = opts.field_map.get(column, column)
            found = fields.get(name.lower())
            # The model's accepted_values test lists everything it can emit in this column.
            values = enums.get(column.lower(), [])
            if found is None and values:
                actions.append(
                    f"create field {obj}.{name} as Picklist (restricted) with the values "
                    f"{', '.join(values)}, or as {salesforce_type(sql_type)}"
                )
            elif found is None:
                actions.append(f"create field {obj}.{name} as {salesforce_type(sql_type)}")
            elif not found.get("updateable", True):
                actions.append(
                    f"make field {obj}.{name} editable for the integration user "
                    "(field-level security)"
                )
            elif values and found.get("type") in ("picklist", "multipicklist"):
                active = {
                    p.get("value")
                    for p in found.get("picklistValues") or []
                    if isinstance(p, dict) and p.get("active", True)
                }
                missing = [v for v in values if v not in active]
                if missing:
                    actions.append(
                        f"add the values {', '.join(missing)} to picklist {obj}.{name} "
                        f"(model {sync.model} can emit them: its accepted_values test)"
                    )
        if actions and apply:
            raise DestinationError(
                f"Salesforce {obj} is missing what the sync needs; in Setup > Object Manager: "
                + "; ".join(actions)
            )
        return actions

    # -- sending -------------------------------------------------------------------------

    def _base(self) -> str:
        return f"/services/data/v{self.options.api_version}"

    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        opts = self.sync_options(sync)
        (ext_field,) = sync.identifier
        outcomes: list[Outcome] = []
        items: list[Item] = []
        deletes: list[tuple[str, str]] = []
        parents: dict[str, dict[str, str]] = {}  # key -> {lookup id field -> parent value}
        omit_null = {f.lower() for f in opts.omit_null}  # field names are case-insensitive
        for change in changes:
            if change.op == "remove" and sync.on_remove == "ignore":
                outcomes.append(Outcome.success(change.key))
                continue
            try:
                ids, attrs = split_fields(sync.identifier, change)
                ext_value = ids[ext_field]
                if ext_value in (None, ""):
                    raise BadValue(f"external id {ext_field!r} is empty")
                if change.op == "remove" and sync.on_remove == "delete":
                    deletes.append((change.key, str(ext_value)))
                    continue
                if change.op == "remove":
                    attrs = dict.fromkeys(attrs)
                record: dict[str, Any] = {"attributes": {"type": sync.object}}
                record[ext_field] = str(ext_value)
                reference_columns = {r.column for r in opts.references.values()}
                for column, value in attrs.items():
                    name = opts.field_map.get(column, column)
                    if column in reference_columns and name == column:
                        continue  # only the lookup carries it
                    if value is None and name.lower() in omit_null:
                        continue
                    if name in opts.value_map and value is not None:
                        value = opts.value_map[name].get(str(value), value)
                    if name in opts.date_fields and isinstance(value, datetime):
                        value = value.date()
                    record[name] = _value(column, value)
                for relationship, ref in opts.references.items():
                    parent = change.fields.get(ref.column)
                    if change.op != "remove":
                        if parent in (None, ""):
                            raise BadValue(f"column {ref.column!r} is empty: no {ref.type} to link")
                        if ref.id_field:
                            parents.setdefault(change.key, {})[ref.id_field] = str(parent)
                            continue
                        record[relationship] = {
                            "attributes": {"type": ref.type},
                            ref.field: str(parent),
                        }
            except BadValue as exc:
                outcomes.append(permanent(change.key, "invalid_value", str(exc)))
                continue
            items.append(make_item(change.key, record))
        if opts.match_by_query:
            lookups = {
                r.id_field: (r.type, r.field, r.column)
                for r in opts.references.values()
                if r.id_field
            }

            def send_matched_batch(batch: Sequence[Item]) -> list[Outcome]:
                return send_matched(
                    self._api, self._base(), sync.object, ext_field, batch, lookups, parents
                )

            batches = pack(items, max_count=MAX_RECORDS, max_bytes=50_000_000)
            return outcomes + deliver(self._http, batches, send_matched_batch)
        path = f"{self._base()}/composite/sobjects/{sync.object}/{ext_field}"
        batches = pack(
            items, max_count=min(sync.batch_size or MAX_RECORDS, MAX_RECORDS), max_bytes=50_000_000
        )

        def send_batch(batch: Sequence[Item]) -> list[Outcome]:
            return self._upsert(path, batch)

        outcomes += deliver(self._http, batches, send_batch)
        if deletes:
            outcomes += self._http.map(lambda kv: self._delete(sync, ext_field, *kv), deletes)
        return outcomes

    def _upsert(self, path: str, batch: Sequence[Item]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        pending = list(batch)
        for attempt in range(self.options.lock_retries + 1):
            if attempt:  # locked rows: wait, then retry them in smaller batches
                time.sleep(self.options.backoff_initial_seconds * 2**attempt)
            size = max(1, len(batch) // (2**attempt))
            locked: list[Item] = []
            for start in range(0, len(pending), size):
                done, still_locked = self._upsert_once(path, pending[start : start + size])
                outcomes += done
                locked += still_locked
            if not locked:
                return outcomes
            pending = locked
        return outcomes + [
            retryable(i.key, "UNABLE_TO_LOCK_ROW", "record locked in Salesforce; retried next run")
            for i in pending
        ]

    def _upsert_once(self, path: str, batch: Sequence[Item]) -> tuple[list[Outcome], list[Item]]:
        body = {"allOrNone": False, "records": [item.payload for item in batch]}
        response = self._api("PATCH", path, body)
        status = response.status_code
        if status in (400, 413):
            raise BatchRejected(f"http_{status}", _describe_errors(response))
        if status >= 300:
            reason = f"Salesforce answered HTTP {status}: {body_excerpt(response)}"
            return [permanent(i.key, f"http_{status}", reason) for i in batch], []
        results = response_json(response)
        # UpsertResults come in request order, one per record: the position attributes each
        # result. A list that cannot be matched that way proves nothing for any record.
        if (
            not isinstance(results, list)
            or len(results) != len(batch)
            or not all(isinstance(r, dict) and isinstance(r.get("success"), bool) for r in results)
        ):
            reason = "Salesforce answered with a result list that does not match the records"
            return [retryable(i.key, "unmatched_results", reason) for i in batch], []
        outcomes, locked = [], []
        for item, result in zip(batch, results, strict=True):
            if result["success"]:
                outcomes.append(Outcome.success(item.key))
                continue
            errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
            codes = [e.get("statusCode", "") for e in errors]
            if "UNABLE_TO_LOCK_ROW" in codes:
                locked.append(item)
                continue
            message = "; ".join(
                f"{e.get('statusCode')}: {e.get('message')}"
                + (f" (fields: {', '.join(e['fields'])})" if e.get("fields") else "")
                for e in errors
            )
            outcomes.append(permanent(item.key, codes[0] if codes else "error", message))
        return outcomes, locked

    def _delete(self, sync: SyncSpec, ext_field: str, key: str, value: str) -> Outcome:
        from urllib.parse import quote

        path = f"{self._base()}/sobjects/{sync.object}/{ext_field}/{quote(value, safe='')}"
        from sync.http import TransientHttpError

        try:
            response = self._api("DELETE", path)
        except TransientHttpError as exc:
            return retryable(key, exc.code, exc.message)
        if response.status_code in (200, 204, 404):  # 404: already gone
            return Outcome.success(key)
        return permanent(key, f"http_{response.status_code}", _describe_errors(response))

    def close(self) -> None:
        self._http.close()


def _value(name: str, value: Any) -> Any:
    check_finite(name, value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain_number(value)
    return value


def _error_codes(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        return []
    return [str(e.get("errorCode")) for e in body if isinstance(e, dict) and e.get("errorCode")]


def _describe_errors(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {body_excerpt(response)}"
    items = body if isinstance(body, list) else [body]
    parts = [
        f"{e.get('errorCode')}: {e.get('message')}"
        for e in items
        if isinstance(e, dict) and (e.get("errorCode") or e.get("message"))
    ]
    return redact("; ".join(parts)) or f"HTTP {response.status_code}"


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
        return redact(f"{body.get('error')}: {body.get('error_description')}")
    except (ValueError, AttributeError):
        return body_excerpt(response)
