"""Salesforce REST stand-in: OAuth token endpoint, describe, sObject Collections upsert.

State a test can read: `records[sobject][external_id] -> fields` (field names as the schema
spells them), `record_ids[sobject][external_id] -> Id` (stable), `tokens` issued, `logins` count.

A lookup may be set by the parent's external id, as Salesforce's REST API documents for
upserts ("relationship field": `"Account": {"attributes": {"type": "Account"},
"PLG_Account_Id__c": "acct_1"}`): the stand-in resolves it to `AccountId` or answers the
documented per-record error when no parent has that external id. Levers: `expire_tokens()`,
`locked` (external id -> how many more upserts fail with UNABLE_TO_LOCK_ROW),
`request_limit_exceeded`, `reject_ids` (external ids refused per record). Upsert bodies are
checked against the sObject Collections schema written from the REST API Developer Guide
(tests/contracts/salesforce/). Required fields follow the API guides' "Required Fields"
page: a field the describe marks `nillable: false` is refused when sent as null, and on
create when left out unless it is `defaultedOnCreate` (OwnerId, Task Status/Priority):
REQUIRED_FIELD_MISSING, per record.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs

import jwt

from tests.contracts.schemas import SALESFORCE_UPSERT, fast_problems
from tests.standins.base import Request, Response, StandIn

UPSERT = re.compile(r"^/services/data/v[\d.]+/composite/sobjects/(\w+)/(\w+)$")
DESCRIBE = re.compile(r"^/services/data/v[\d.]+/sobjects/(\w+)/describe$")
DELETE = re.compile(r"^/services/data/v[\d.]+/sobjects/(\w+)/(\w+)/([^/]+)$")
COLLECTIONS = re.compile(r"^/services/data/v[\d.]+/composite/sobjects$")
QUERY = re.compile(r"^/services/data/v[\d.]+/query$")
SOQL_IN = re.compile(r"^SELECT Id, (\w+) FROM (\w+) WHERE (\w+) IN \((.*)\)$", re.S)

DEFAULT_SCHEMA = {
    "Account": {
        "Id": {"type": "id", "updateable": False},
        "Name": {"type": "string", "length": 255, "nillable": False},
        "PLG_Account_Id__c": {"type": "string", "length": 64, "externalId": True},
        "PLG_Score__c": {"type": "double"},
        "PLG_Plan__c": {"type": "string", "length": 40},
        "PLG_Is_PQL__c": {"type": "boolean"},
        "PLG_Last_Seen_At__c": {"type": "datetime"},
        "OwnerId": {
            "type": "reference",
            "referenceTo": ["User"],
            "nillable": False,
            "defaultedOnCreate": True,
        },
    },
    # Opportunity's standard fields as its describe lists them, plus the handoff's custom ones
    "Opportunity": {
        "Id": {"type": "id", "updateable": False},
        "Name": {"type": "string", "length": 120, "nillable": False},
        "StageName": {
            "type": "picklist",
            "picklistValues": ["Prospecting", "Qualification", "Closed Won", "Closed Lost"],
            "nillable": False,
        },
        "CloseDate": {"type": "date", "nillable": False},
        "Amount": {"type": "currency"},
        "Type": {"type": "picklist", "picklistValues": ["New Business", "Existing Business"]},
        "Description": {"type": "textarea", "length": 32000},
        "OwnerId": {
            "type": "reference",
            "referenceTo": ["User"],
            "nillable": False,
            "defaultedOnCreate": True,
        },
        "AccountId": {
            "type": "reference",
            "referenceTo": ["Account"],
            "relationshipName": "Account",
        },
        "PLG_Deal_Id__c": {"type": "string", "length": 64, "externalId": True},
        "PLG_Plan__c": {"type": "string", "length": 40},
        "PLG_MRR__c": {"type": "double"},
    },
    # Task: WhatId is polymorphic (Account, Opportunity, ...); PLG_Task_Id__c is a plain
    # custom text field, matched by query (activities have no External ID to upsert by)
    "Task": {
        "Id": {"type": "id", "updateable": False},
        "Subject": {"type": "combobox", "length": 255},
        "Description": {"type": "textarea", "length": 32000},
        "Status": {
            "type": "picklist",
            "picklistValues": ["Not Started", "Completed"],
            "nillable": False,
            "defaultedOnCreate": True,
        },
        "Priority": {
            "type": "picklist",
            "picklistValues": ["High", "Normal", "Low"],
            "nillable": False,
            "defaultedOnCreate": True,
        },
        "ActivityDate": {"type": "date"},
        "OwnerId": {
            "type": "reference",
            "referenceTo": ["User"],
            "nillable": False,
            "defaultedOnCreate": True,
        },
        "WhatId": {"type": "reference", "referenceTo": ["Account", "Opportunity"]},
        "PLG_Task_Id__c": {"type": "string", "length": 64},
        "PLG_Outcome__c": {"type": "string", "length": 40},
    },
}


class SalesforceStandIn(StandIn):
    name = "salesforce-standin"

    def __init__(
        self,
        client_id: str = "cid",
        client_secret: str = "csecret",
        username: str = "sync@example.com",
        public_key: Any = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.client_id, self.client_secret = client_id, client_secret
        self.username, self.public_key = username, public_key
        self.schema: dict[str, dict[str, dict[str, Any]]] = {
            obj: {name: {"name": name, **spec} for name, spec in fields.items()}
            for obj, fields in DEFAULT_SCHEMA.items()
        }
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.record_ids: dict[str, dict[str, str]] = {}
        self.tokens: set[str] = set()
        self.logins = 0
        self.locked: dict[str, int] = {}
        self.request_limit_exceeded = False
        self.reject_ids: set[str] = set()  # external ids refused per record (success false)

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def handle(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token":
            return self._token(request)
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return Response(
                401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        if self.request_limit_exceeded:
            return Response(
                403,
                [
                    {
                        "message": "TotalRequests Limit exceeded.",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
            )
        if (m := DESCRIBE.match(request.path)) and request.method == "GET":
            fields = self.schema.get(m.group(1))
            if fields is None:
                return Response(404, [{"errorCode": "NOT_FOUND", "message": "not found"}])
            return Response(200, {"name": m.group(1), "fields": list(fields.values())})
        if QUERY.match(request.path) and request.method == "GET":
            return self._query(request.query.get("q", [""])[0])
        if COLLECTIONS.match(request.path) and request.method in ("POST", "PATCH"):
            return self._collections(request.method, request.json())
        if (m := UPSERT.match(request.path)) and request.method == "PATCH":
            return self._upsert(m.group(1), m.group(2), request.json())
        if (m := DELETE.match(request.path)) and request.method == "DELETE":
            with self.lock:
                gone = self.records.get(m.group(1), {}).pop(m.group(3), None)
            return (
                Response(204)
                if gone is not None
                else Response(404, [{"errorCode": "NOT_FOUND", "message": "not found"}])
            )
        return Response(404, [{"errorCode": "NOT_FOUND", "message": request.path}])

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        ok = False
        if form.get("grant_type") == "client_credentials":
            ok = (
                form.get("client_id") == self.client_id
                and form.get("client_secret") == self.client_secret
            )
        elif form.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            try:
                claims = jwt.decode(
                    form.get("assertion", ""),
                    self.public_key,
                    algorithms=["RS256"],
                    audience=self.url,
                )
                ok = claims["iss"] == self.client_id and claims["sub"] == self.username
            except jwt.PyJWTError:
                ok = False
        if not ok:
            return Response(
                400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            )
        token = f"00D000000000001!{uuid.uuid4().hex}"
        with self.lock:
            self.tokens.add(token)
            self.logins += 1
        return Response(
            200, {"access_token": token, "instance_url": self.url, "token_type": "Bearer"}
        )

    def _query(self, soql: str) -> Response:
        """The one SOQL shape the sync sends: SELECT Id, F FROM O WHERE F IN ('a', ...)."""
        m = SOQL_IN.match(soql.strip())
        if m is None or m.group(1) != m.group(3):
            return Response(400, [{"errorCode": "MALFORMED_QUERY", "message": soql[:80]}])
        field, obj = m.group(1), m.group(2)
        wanted = set(re.findall(r"'((?:[^'\\]|\\.)*)'", m.group(4)))
        records = []
        with self.lock:
            ids = self.record_ids.get(obj, {})
            for key, row in self.records.get(obj, {}).items():
                value = row.get(field, key if obj != "Task" else None)
                if value in wanted:
                    records.append({"attributes": {"type": obj}, "Id": ids[key], field: value})
        return Response(200, {"totalSize": len(records), "done": True, "records": records})

    def _collections(self, method: str, body: dict[str, Any]) -> Response:
        """POST creates, PATCH updates by Id; one result per record, in order."""
        results = []
        with self.lock:
            for record in body.get("records") or []:
                obj = record.get("attributes", {}).get("type", "")
                schema = {n.lower(): spec for n, spec in self.schema.get(obj, {}).items()}
                fields = {k: v for k, v in record.items() if k not in ("attributes", "Id")}
                errors = self._check(schema, fields) or _required(
                    schema, fields, creating=method == "POST"
                )
                store = self.records.setdefault(obj, {})
                ids = self.record_ids.setdefault(obj, {})
                if method == "PATCH":
                    key = next((k for k, i in ids.items() if i == record.get("Id")), None)
                    if key is None:
                        errors = errors or [_err("ENTITY_IS_DELETED", "entity is deleted")]
                else:
                    key = f"created-{len(ids)}"
                    ids[key] = f"{obj[:3]}{len(ids):015d}"
                if errors:
                    results.append({"id": None, "success": False, "errors": errors})
                    continue
                row = store.setdefault(key, {})
                for name, value in fields.items():
                    row[schema[name.lower()]["name"]] = value
                results.append({"id": ids[key], "success": True, "errors": []})
        return Response(200, results)

    def _upsert(self, obj: str, ext_field: str, body: dict[str, Any]) -> Response:
        found = fast_problems(SALESFORCE_UPSERT, body)
        if found:  # the guide: a request that is not well formed gets 400 as a whole
            return Response(400, [{"errorCode": "JSON_PARSER_ERROR", "message": found[0]}])
        records = body.get("records") or []
        if len(records) > 200:
            return Response(
                400, [{"errorCode": "EXCEEDED_ID_LIMIT", "message": "record limit is 200"}]
            )
        schema = {name.lower(): spec for name, spec in self.schema.get(obj, {}).items()}
        if not schema.get(ext_field.lower(), {}).get("externalId"):
            return Response(
                400, [{"errorCode": "NOT_FOUND", "message": f"{ext_field} is not an external id"}]
            )
        results = []
        with self.lock:
            store = self.records.setdefault(obj, {})
            for record in records:
                ext_value = str(record.get(ext_field, ""))
                errors = self._check(schema, record) or _required(
                    schema, record, creating=ext_value not in store
                )
                if not errors and self.locked.get(ext_value, 0) > 0:
                    self.locked[ext_value] -= 1
                    errors = [_err("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")]
                if not errors and ext_value in self.reject_ids:
                    errors = [_err("FIELD_CUSTOM_VALIDATION_EXCEPTION", "refused by the test")]
                if not errors and self.should_fail():
                    errors = [_err("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")]
                if errors:
                    results.append({"id": None, "success": False, "errors": errors})
                    continue
                created = ext_value not in store
                row = store.setdefault(ext_value, {})
                ids = self.record_ids.setdefault(obj, {})
                record_id = ids.setdefault(ext_value, f"{obj[:3]}{len(ids):015d}")
                for name, value in record.items():
                    if name == "attributes":
                        continue
                    if isinstance(value, dict):  # a lookup by the parent's external id
                        field, parent_id = self._parent(schema, name, value)
                        row[field] = parent_id
                    else:
                        row[schema[name.lower()]["name"]] = value
                results.append({"id": record_id, "success": True, "created": created, "errors": []})
        return Response(200, results)

    def _parent(
        self, schema: dict[str, dict[str, Any]], relationship: str, ref: dict[str, Any]
    ) -> tuple[str, str | None]:
        """(lookup field, parent Id or None) for `"Account": {"Ext__c": value}`."""
        spec = next(
            (
                f
                for f in schema.values()
                if f.get("relationshipName", "").lower() == relationship.lower()
            ),
            None,
        )
        if spec is None:
            return relationship, None
        parent_type = spec["referenceTo"][0]
        ext = {k: v for k, v in ref.items() if k != "attributes"}
        (_field, value), *_ = ext.items()
        return spec["name"], self.record_ids.get(parent_type, {}).get(str(value))

    def _check(
        self, schema: dict[str, dict[str, Any]], record: dict[str, Any]
    ) -> list[dict[str, Any]]:
        errors = []
        for name, value in record.items():
            if name == "attributes":
                continue
            if isinstance(value, dict):
                field, parent_id = self._parent(schema, name, value)
                if field == name:
                    errors.append(_err("INVALID_FIELD", f"No such relationship '{name}'", [name]))
                elif parent_id is None:
                    ext = {k: v for k, v in value.items() if k != "attributes"}
                    (ext_field, ext_value), *_ = ext.items()
                    errors.append(
                        _err(
                            "INVALID_FIELD",
                            f"Foreign key external ID: {ext_value} not found for field "
                            f"{ext_field} in entity {value.get('attributes', {}).get('type')}",
                        )
                    )
                continue
            spec = schema.get(name.lower())
            if spec is None:
                errors.append(_err("INVALID_FIELD", f"No such column '{name}' on sobject", [name]))
            elif not spec.get("updateable", True):
                errors.append(
                    _err("INVALID_FIELD_FOR_INSERT_UPDATE", f"{name} is not updateable", [name])
                )
            elif isinstance(value, str) and len(value) > spec.get("length", 10**9):
                errors.append(
                    _err("STRING_TOO_LONG", f"{spec['name']}: data value too large", [spec["name"]])
                )
        return errors


def _required(
    schema: dict[str, dict[str, Any]], record: dict[str, Any], creating: bool
) -> list[dict[str, Any]]:
    """REQUIRED_FIELD_MISSING as the SOAP/REST API guides' "Required Fields" page describes:
    a field whose describe says `nillable: false` can never be set to null, and on create
    it must be given unless Salesforce fills it (`defaultedOnCreate`, e.g. OwnerId: the
    running user). A lookup given by its relationship (`"Account": {...}`) counts as given."""
    given = {name.lower() for name in record if name != "attributes"}
    given |= {
        spec["name"].lower()
        for spec in schema.values()
        if spec.get("relationshipName", "").lower() in given
    }
    missing = [
        spec["name"]
        for spec in schema.values()
        if spec.get("nillable", True) is False
        and (
            any(k.lower() == spec["name"].lower() and v is None for k, v in record.items())
            or (
                creating
                and not spec.get("defaultedOnCreate")
                and spec.get("type") != "id"
                and spec["name"].lower() not in given
            )
        )
    ]
    if not missing:
        return []
    return [_err("REQUIRED_FIELD_MISSING", f"Required fields are missing: {missing}", missing)]


def _err(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"statusCode": code, "message": message, "fields": fields or []}
