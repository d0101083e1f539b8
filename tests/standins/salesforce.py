"""Salesforce REST stand-in: OAuth token endpoint, describe, sObject Collections upsert.

State a test can read: `records[sobject][external_id] -> fields` (field names as the schema
spells them), `tokens` issued, `logins` count. Levers: `expire_tokens()`, `locked` (external id
-> how many more upserts fail with UNABLE_TO_LOCK_ROW), `request_limit_exceeded`,
`reject_ids` (external ids refused per record). Bodies are checked against the sObject
Collections schema written from the REST API Developer Guide (tests/contracts/salesforce/).
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

DEFAULT_SCHEMA = {
    "Account": {
        "Id": {"type": "id", "updateable": False},
        "Name": {"type": "string", "length": 255},
        "PLG_Account_Id__c": {"type": "string", "length": 64, "externalId": True},
        "PLG_Score__c": {"type": "double"},
        "PLG_Plan__c": {"type": "string", "length": 40},
        "PLG_Is_PQL__c": {"type": "boolean"},
        "PLG_Last_Seen_At__c": {"type": "datetime"},
    }
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
            for index, record in enumerate(records):
                ext_value = str(record.get(ext_field, ""))
                errors = self._check(schema, record)
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
                for name, value in record.items():
                    if name != "attributes":
                        row[schema[name.lower()]["name"]] = value
                results.append(
                    {"id": f"001{index:015d}", "success": True, "created": created, "errors": []}
                )
        return Response(200, results)

    def _check(
        self, schema: dict[str, dict[str, Any]], record: dict[str, Any]
    ) -> list[dict[str, Any]]:
        errors = []
        for name, value in record.items():
            if name == "attributes":
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


def _err(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"statusCode": code, "message": message, "fields": fields or []}
