"""Customer.io Track API stand-in: v2 `POST /api/v2/batch` with the documented limits, and
v1 `PUT /api/v1/customers/{id}` (one person per call, as the official client's identify).

State a test can read: `people[id] -> attributes`, `objects[(type_id, object_id)] ->
attributes`, `relationships` {(person_id, type_id, object_id)}, `events[event_id]`, and
`event_posts` (how many event operations arrived, deduplicated or not).

Answers as Customer.io's Track API OpenAPI document describes (tests/contracts/customerio/):
every operation is checked against the vendor's schema and the documented limits; a request
that is not a batch at all gets 400; invalid operations are refused while all the others are
applied, and the answer is 207 `{"errors": [{"reason", "field", "message"}]}`, which names no
operation unless `error_index` is set (an undocumented variant kept for comparison).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import unquote

from tests.contracts.schemas import customerio_operation_problems
from tests.standins.base import Request, Response, StandIn

LIMIT_ID = 150
LIMIT_NAME = 150
LIMIT_VALUE = 1000
LIMIT_ATTRS = 300
LIMIT_OPERATION = 32_000
LIMIT_BATCH = 500_000
V1_CUSTOMER = "/api/v1/customers/"


class CustomerIoStandIn(StandIn):
    name = "customerio-standin"

    def __init__(self, site_id: str = "site-1", api_key: str = "key-1", **kw: Any) -> None:
        kw.setdefault("rate_limit", None)
        super().__init__(**kw)
        self.site_id, self.api_key = site_id, api_key
        self.people: dict[str, dict[str, Any]] = {}
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.relationships: set[tuple[str, str, str]] = set()
        self.events: dict[str, dict[str, Any]] = {}
        self.event_posts = 0
        self.deleted_people: set[str] = set()
        self.applied = 0  # operations applied (a resent operation counts again)
        # Levers: person ids whose operations are refused as invalid (207), and whether the
        # 207 errors carry an operation index (Customer.io's documented schema has none).
        self.reject_ids: set[str] = set()
        self.error_index = False

    def handle(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.site_id}:{self.api_key}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Response(401, {"meta": {"error": "Unauthorized request"}})
        if request.method == "PUT" and request.path.startswith(V1_CUSTOMER):
            return self._identify_v1(request)
        if request.method != "POST" or request.path != "/api/v2/batch":
            return Response(404, {"errors": [{"reason": "not found"}]})
        if len(request.body) > LIMIT_BATCH:
            return Response(
                413, {"errors": [{"reason": "request too large", "message": "batch over 500KB"}]}
            )
        try:
            body = json.loads(request.body)
        except ValueError:
            return Response(400, _errors([{"reason": "invalid json", "field": "", "message": ""}]))
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(batch, list):
            return Response(400, _errors([{"reason": "required", "field": "batch"}]))
        # The spec's 207: invalid operations are refused, all the others are applied, and the
        # errors list the invalid ones without saying which operation each belongs to.
        errors = []
        with self.lock:
            for index, op in enumerate(batch):
                problem = _validate(op)
                if problem is None and self.should_fail():
                    problem = {"reason": "internal", "field": "", "message": "try later"}
                if problem is None and _person_id(op) in self.reject_ids:
                    problem = {"reason": "invalid", "field": "identifiers", "message": "refused"}
                if problem is not None:
                    errors.append(
                        {"batch_index": index, **problem} if self.error_index else problem
                    )
                    continue
                self._apply(op)
                self.applied += 1
        return Response(207, _errors(errors)) if errors else Response(200, {})

    def _identify_v1(self, request: Request) -> Response:
        pid = unquote(request.path[len(V1_CUSTOMER) :])
        try:
            attributes = json.loads(request.body or b"{}")
        except ValueError:
            return Response(400, {"meta": {"error": "invalid json body"}})
        if not pid or "/" in pid or not isinstance(attributes, dict):
            return Response(400, {"meta": {"error": "invalid request"}})
        op = {
            "type": "person",
            "action": "identify",
            "identifiers": {"id": pid},
            "attributes": attributes,
        }
        problem = _validate(op)
        if problem:
            return Response(400, {"meta": {"error": problem["reason"]}})
        with self.lock:
            _merge(self.people.setdefault(pid, {}), attributes)
        return Response(200, {})

    def _apply(self, op: dict[str, Any]) -> None:
        kind, action, ids = op["type"], op["action"], op["identifiers"]
        if kind == "person":
            pid = str(ids.get("id") or ids.get("email") or ids.get("cio_id"))
            if action == "identify":
                _merge(self.people.setdefault(pid, {}), op.get("attributes", {}))
            elif action == "delete":
                self.people.pop(pid, None)
                self.deleted_people.add(pid)
            elif action in ("add_relationships", "delete_relationships"):
                for rel in op["cio_relationships"]:
                    link = (
                        pid,
                        rel["identifiers"]["object_type_id"],
                        rel["identifiers"]["object_id"],
                    )
                    if action == "add_relationships":
                        self.relationships.add(link)
                    else:
                        self.relationships.discard(link)
            elif action == "event":
                self.event_posts += 1
                self.events.setdefault(op["id"], {**op, "person": pid})
        elif kind == "object":
            key = (ids["object_type_id"], ids["object_id"])
            if action == "identify":
                _merge(self.objects.setdefault(key, {}), op.get("attributes", {}))
            elif action == "delete":
                self.objects.pop(key, None)


def _errors(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"errors": items}


def _person_id(op: Any) -> str | None:
    ids = op.get("identifiers") if isinstance(op, dict) else None
    if not isinstance(ids, dict) or op.get("type") != "person":
        return None
    value = ids.get("id") or ids.get("email") or ids.get("cio_id")
    return None if value is None else str(value)


def _merge(target: dict[str, Any], attributes: dict[str, Any]) -> None:
    for name, value in attributes.items():
        if value == "":  # an empty string removes the attribute
            target.pop(name, None)
        else:
            target[name] = value


def _validate(op: Any) -> dict[str, str] | None:
    """Why Customer.io would refuse this operation (its schema, then its limits), or None."""
    if not isinstance(op, dict) or op.get("type") not in ("person", "object"):
        return {"reason": "invalid type", "field": "type"}
    found = customerio_operation_problems(op)
    if found:
        field, _, message = found[0].partition(": ")
        return {"reason": "invalid", "field": field, "message": message}
    if len(json.dumps(op, ensure_ascii=False).encode()) > LIMIT_OPERATION:
        return {"reason": "operation too large", "field": "", "message": "over 32KB"}
    ids = op.get("identifiers") or {}
    if not ids:
        return {"reason": "missing identifiers", "field": "identifiers"}
    for name, value in ids.items():
        if len(str(value).encode()) > LIMIT_ID:
            return {"reason": "identifier too long", "field": f"identifiers.{name}"}
    attrs = op.get("attributes") or {}
    if op.get("action") != "event":
        if len(attrs) > LIMIT_ATTRS:
            return {"reason": "too many attributes", "field": "attributes"}
        for name, value in attrs.items():
            if len(name.encode()) > LIMIT_NAME:
                return {"reason": "attribute name too long", "field": f"attributes.{name[:20]}"}
            size = len(value.encode()) if isinstance(value, str) else len(json.dumps(value))
            if size > LIMIT_VALUE:
                return {"reason": "attribute value too long", "field": f"attributes.{name}"}
    elif len(op.get("name", "").encode()) > 100:
        return {"reason": "event name too long", "field": "name"}
    return None
