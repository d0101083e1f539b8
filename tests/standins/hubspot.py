"""HubSpot CRM v3 stand-in: batch upsert, batch read by a unique property, default
associations (v4), property definitions and groups.

State a test can read: `records[object_type][id_value] -> properties` (contacts keyed by
lower-cased email), `record_ids[object_type][id_value] -> HubSpot record id` (stable, as
HubSpot's `hs_object_id`), `associations` (a set of (from type, from id, to type, to id)),
`properties[object_type][name] -> definition`, `groups[object_type]`.

Deals and tasks carry HubSpot's built-in properties as its CRM docs list them (checked
2026-11-29): deals `dealname`, `amount`, `dealstage` (the default pipeline's stage ids),
`pipeline`, `closedate`, `hubspot_owner_id`, `description`; tasks `hs_task_subject`,
`hs_task_body`, `hs_task_status` (NOT_STARTED, IN_PROGRESS, WAITING, COMPLETED, DEFERRED),
`hs_task_priority` (LOW, MEDIUM, HIGH), `hs_timestamp` (required: the due date),
`hubspot_owner_id`. Batch read: `POST /crm/v3/objects/{objectType}/batch/read` with
`idProperty` (`BatchReadInputSimplePublicObjectId`); associations: `POST
/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default` with
`inputs: [{from: {id}, to: {id}}]` (`BatchInputPublicDefaultAssociationMultiPost`, checked
against tests/contracts/hubspot/associations_v4_default.json; answered as
`BatchResponsePublicDefaultAssociation`).

Answers in the shapes of HubSpot's published CRM v3 schemas (tests/contracts/hubspot/):
200 `BatchResponseSimplePublicUpsertObject`, 207 `...WithErrors` whose `StandardError`s name
the failing input by id, by objectWriteTraceId, or not at all (`error_context`), and `Error`
bodies for 4xx. With `strict_schema` a body that breaks the published request schema is
refused with 400, as HubSpot refuses input it cannot read.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from typing import Any

from tests.contracts.schemas import (
    HUBSPOT_ASSOCIATIONS,
    HUBSPOT_COMPANIES,
    HUBSPOT_CONTACTS,
    HUBSPOT_PROPERTIES,
    fast_problems,
    problems,
)
from tests.standins.base import Request, Response, StandIn

# Deals and tasks are CRM v3 objects whose batch upsert takes the same
# `BatchInputSimplePublicObjectBatchInputUpsert` component as companies (HubSpot's spec
# collection names one schema for every object's /batch/upsert), so they are checked with it.
UPSERT_SCHEMAS = {
    "companies": HUBSPOT_COMPANIES,
    "contacts": HUBSPOT_CONTACTS,
    "deals": HUBSPOT_COMPANIES,
    "tasks": HUBSPOT_COMPANIES,
}
NOW = "2026-11-29T10:00:00.000Z"
# Default association type ids echoed in `associationSpec` (values from HubSpot's v4
# association type table as we remember it, not checked against a stored copy; plg-sync
# never reads them, it only matches `from`/`to` ids).
DEFAULT_ASSOCIATION_TYPES = {
    ("deals", "companies"): 341,
    ("deals", "contacts"): 3,
    ("tasks", "companies"): 192,
    ("tasks", "contacts"): 204,
}

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UPSERT = re.compile(r"^/crm/v3/objects/(\w+)/batch/upsert$")
PROPS = re.compile(r"^/crm/v3/properties/(\w+)$")
PROP = re.compile(r"^/crm/v3/properties/(\w+)/(\w+)$")
GROUPS = re.compile(r"^/crm/v3/properties/(\w+)/groups$")
READ = re.compile(r"^/crm/v3/objects/(\w+)/batch/read$")
ASSOCIATE = re.compile(r"^/crm/v4/associations/(\w+)/(\w+)/batch/associate/default$")
DEAL_STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"]  # fmt: skip
TASK_STATUSES = ["NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"]


def _options(values: list[str]) -> list[dict[str, Any]]:
    return [{"value": v, "label": v} for v in values]


def _prop(name: str, type_: str = "string", field_type: str = "text", **kw: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "fieldType": field_type, "groupName": "info", **kw}


class HubSpotStandIn(StandIn):
    name = "hubspot-standin"

    def __init__(self, token: str = "pat-1", **kw: Any) -> None:
        super().__init__(**kw)
        self.token = token
        self.ids = itertools.count(1001)
        self.properties: dict[str, dict[str, dict[str, Any]]] = {
            "companies": {
                p["name"]: p for p in [_prop("name"), _prop("domain"), _prop("hubspot_owner_id")]
            },
            "deals": {
                p["name"]: p
                for p in [
                    _prop("dealname"),
                    _prop("amount", "number", "number"),
                    _prop("dealstage", "enumeration", "radio", options=_options(DEAL_STAGES)),
                    _prop("pipeline", "enumeration", "select", options=_options(["default"])),
                    _prop("closedate", "datetime", "date"),
                    _prop("hubspot_owner_id"),
                    _prop("description", "string", "textarea"),
                ]
            },
            "tasks": {
                p["name"]: p
                for p in [
                    _prop("hs_task_subject"),
                    _prop("hs_task_body", "string", "html"),
                    _prop(
                        "hs_task_status", "enumeration", "select", options=_options(TASK_STATUSES)
                    ),
                    _prop(
                        "hs_task_priority",
                        "enumeration",
                        "select",
                        options=_options(["LOW", "MEDIUM", "HIGH"]),
                    ),
                    _prop("hs_timestamp", "datetime", "date"),
                    _prop("hubspot_owner_id"),
                ]
            },
            "contacts": {
                p["name"]: p
                for p in [
                    _prop("email", hasUniqueValue=True),
                    _prop("firstname"),
                    _prop(
                        "lifecyclestage",
                        "enumeration",
                        "radio",
                        options=[{"value": v} for v in ("lead", "customer")],
                    ),
                ]
            },
        }
        self.groups: dict[str, set[str]] = {t: {"info"} for t in self.properties}
        self.records: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in self.properties}
        self.record_ids: dict[str, dict[str, str]] = {t: {} for t in self.properties}
        self.associations: set[tuple[str, str, str, str]] = set()
        # Levers. `strict_schema`: refuse bodies that break HubSpot's published schemas (400,
        # as HubSpot answers an input it cannot read). `reject_ids`: id values refused with a
        # VALIDATION_ERROR. `error_context`: what a 207 error names: "ids" (the input's id),
        # "trace" (its objectWriteTraceId) or "none" (an empty context, which the schema allows).
        self.strict_schema = True
        self.reject_ids: set[str] = set()
        self.error_context = "ids"

    def add_property(self, object_type: str, name: str, type_: str = "string", **kw: Any) -> None:
        field = {"number": "number", "date": "date", "datetime": "date", "bool": "booleancheckbox"}
        self.properties[object_type][name] = _prop(name, type_, field.get(type_, "text"), **kw)

    def rate_limited(self, retry_after: float) -> Response:
        body = {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "TEN_SECONDLY_ROLLING",
        }
        return Response(429, body, {"Retry-After": f"{retry_after:g}"})

    def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(
                401,
                {
                    "status": "error",
                    "message": "Authentication credentials not found.",
                    "category": "INVALID_AUTHENTICATION",
                },
            )
        path = request.path
        if m := UPSERT.match(path):
            return self._upsert(m.group(1), request.json())
        if m := READ.match(path):
            return self._read(m.group(1), request.json())
        if m := ASSOCIATE.match(path):
            return self._associate(m.group(1), m.group(2), request.json())
        if (m := GROUPS.match(path)) and request.method == "GET":
            return Response(
                200, {"results": [{"name": g} for g in sorted(self.groups[m.group(1)])]}
            )
        if m := GROUPS.match(path):
            found = problems(HUBSPOT_PROPERTIES, request.json(), "PropertyGroupCreate")
            if found and self.strict_schema:
                return Response(400, _error("VALIDATION_ERROR", "; ".join(found)))
            name = request.json()["name"]
            with self.lock:
                if name in self.groups[m.group(1)]:
                    return Response(409, _error("OBJECT_ALREADY_EXISTS", f"group {name} exists"))
                self.groups[m.group(1)].add(name)
            return Response(201, {"name": name})
        if (m := PROP.match(path)) and request.method == "PATCH" and m.group(2) != "groups":
            return self._update_property(m.group(1), m.group(2), request.json())
        if (m := PROPS.match(path)) and request.method == "GET":
            return Response(200, {"results": list(self.properties[m.group(1)].values())})
        if m := PROPS.match(path):
            body = request.json()
            found = problems(HUBSPOT_PROPERTIES, body, "PropertyCreate")
            if found and self.strict_schema:
                return Response(400, _error("VALIDATION_ERROR", "; ".join(found)))
            with self.lock:
                if body["name"] in self.properties[m.group(1)]:
                    return Response(
                        409,
                        _error(
                            "OBJECT_ALREADY_EXISTS",
                            f"Property named '{body['name']}' already exists.",
                        ),
                    )
                self.properties[m.group(1)][body["name"]] = body
            return Response(201, body)
        return Response(404, _error("OBJECT_NOT_FOUND", f"no route {path}"))

    def _update_property(self, object_type: str, name: str, body: Any) -> Response:
        """PATCH /crm/v3/properties/{objectType}/{propertyName} (PropertyUpdate): options
        given replace the property's options."""
        found = problems(HUBSPOT_PROPERTIES, body, "PropertyUpdate")
        if found and self.strict_schema:
            return Response(400, _error("VALIDATION_ERROR", "; ".join(found)))
        with self.lock:
            definition = self.properties[object_type].get(name)
            if definition is None:
                return Response(404, _error("OBJECT_NOT_FOUND", f"no property {name}"))
            definition.update(body)
            return Response(200, definition)

    def _upsert(self, object_type: str, body: dict[str, Any]) -> Response:
        found = fast_problems(UPSERT_SCHEMAS[object_type], body)
        if found and self.strict_schema:
            return Response(400, _error("VALIDATION_ERROR", "Invalid input JSON: " + found[0]))
        inputs = body.get("inputs") or []
        if len(inputs) > 100:
            return Response(400, _error("VALIDATION_ERROR", "Batch input limit is 100 inputs"))
        props = self.properties[object_type]
        results, errors = [], []
        with self.lock:
            for entry in inputs:
                id_prop, id_value = entry.get("idProperty"), str(entry.get("id"))
                definition = props.get(id_prop)
                if not definition or not definition.get("hasUniqueValue"):
                    return Response(
                        400, _error("VALIDATION_ERROR", f"{id_prop} is not a unique property")
                    )
                problem = self._check(object_type, id_prop, id_value, entry.get("properties", {}))
                if problem is None and id_value in self.reject_ids:
                    problem = ("VALIDATION_ERROR", "INVALID_OPTION", "refused by the test")
                if problem is None and self.should_fail():
                    problem = ("INTERNAL_ERROR", "INTERNAL", "Something went wrong, try again")
                trace = entry.get("objectWriteTraceId")
                if problem:
                    category, code, message = problem
                    context = {
                        "ids": {"ids": [id_value]},
                        "trace": {"objectWriteTraceId": [trace]} if trace else {},
                        "none": {},
                    }[self.error_context]
                    errors.append(
                        {
                            "status": "error",
                            "category": category,
                            "message": message,
                            "context": context,
                            "errors": [{"code": code, "message": message}],
                            "links": {},
                        }
                    )
                    continue
                key = id_value.lower() if id_prop == "email" else id_value
                record = self.records[object_type].setdefault(key, {})
                is_new = not record
                record[id_prop] = id_value
                for name, value in entry.get("properties", {}).items():
                    if value == "":
                        record.pop(name, None)
                    else:
                        record[name] = value
                record_id = self.record_ids[object_type].setdefault(key, str(next(self.ids)))
                result = {
                    "id": record_id,
                    "properties": {k: str(v) for k, v in record.items()},
                    "createdAt": NOW,
                    "updatedAt": NOW,
                    "archived": False,
                    "new": is_new,
                }
                if trace:
                    result["objectWriteTraceId"] = trace
                results.append(result)
        answer = {"status": "COMPLETE", "results": results, "startedAt": NOW, "completedAt": NOW}
        if errors:
            return Response(207, {**answer, "numErrors": len(errors), "errors": errors})
        return Response(200, answer)

    def _read(self, object_type: str, body: dict[str, Any]) -> Response:
        id_prop = body.get("idProperty") or "hs_object_id"
        results, errors = [], []
        with self.lock:
            for entry in body.get("inputs") or []:
                value = str(entry.get("id"))
                key = value.lower() if id_prop == "email" else value
                record = self.records[object_type].get(key)
                if record is None or id_prop not in (self.properties[object_type]):
                    errors.append(
                        {
                            "status": "error",
                            "category": "OBJECT_NOT_FOUND",
                            "message": f"Could not get some {object_type} objects",
                            "context": {"ids": [value]},
                        }
                    )
                    continue
                wanted = body.get("properties") or []
                results.append(
                    {
                        "id": self.record_ids[object_type][key],
                        "properties": {k: record.get(k) for k in wanted if k in record},
                    }
                )
        if errors:
            return Response(
                207,
                {
                    "status": "COMPLETE",
                    "results": results,
                    "errors": errors,
                    "numErrors": len(errors),
                },
            )
        return Response(200, {"status": "COMPLETE", "results": results})

    def _associate(self, from_type: str, to_type: str, body: dict[str, Any]) -> Response:
        found = problems(HUBSPOT_ASSOCIATIONS, body)
        if found and self.strict_schema:
            return Response(400, _error("VALIDATION_ERROR", "; ".join(found[:5])))
        results = []
        with self.lock:
            known = {t: set(ids.values()) for t, ids in self.record_ids.items()}
            for entry in body.get("inputs") or []:
                frm, to = str(entry["from"]["id"]), str(entry["to"]["id"])
                if frm not in known.get(from_type, set()) or to not in known.get(to_type, set()):
                    return Response(
                        400, _error("VALIDATION_ERROR", f"unknown object {frm} or {to}")
                    )
                self.associations.add((from_type, frm, to_type, to))
                results.append(
                    {
                        "from": {"id": frm},
                        "to": {"id": to},
                        "associationSpec": {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": DEFAULT_ASSOCIATION_TYPES.get(
                                (from_type, to_type), 1
                            ),
                        },
                    }
                )
        answer = {"status": "COMPLETE", "results": results, "startedAt": NOW, "completedAt": NOW}
        return Response(200, answer)

    def _check(
        self, object_type: str, id_prop: str, id_value: str, values: dict[str, Any]
    ) -> tuple[str, str, str] | None:
        props = self.properties[object_type]
        if id_prop == "email" and not EMAIL.match(id_value):
            return ("VALIDATION_ERROR", "INVALID_EMAIL", f'Email address "{id_value}" is invalid')
        for name, value in values.items():
            definition = props.get(name)
            if definition is None:
                return (
                    "VALIDATION_ERROR",
                    "PROPERTY_DOESNT_EXIST",
                    f'Property "{name}" does not exist',
                )
            if value == "":
                continue
            kind = definition["type"]
            if kind == "enumeration":
                allowed = {o["value"] for o in definition.get("options", [])}
                if str(value) not in allowed:
                    return (
                        "VALIDATION_ERROR",
                        "INVALID_OPTION",
                        f'{value} was not one of the allowed options for property "{name}"',
                    )
            elif kind == "number" and not _is_number(value):
                return (
                    "VALIDATION_ERROR",
                    "INVALID_INTEGER",
                    f'"{value}" is not a number ({name})',
                )
            elif kind == "bool" and value not in ("true", "false", True, False):
                return (
                    "VALIDATION_ERROR",
                    "INVALID_BOOLEAN",
                    f'"{value}" is not a boolean ({name})',
                )
            elif kind == "date":
                when = _parse_date(value)
                if when is None or (when.hour, when.minute, when.second) != (0, 0, 0):
                    return (
                        "VALIDATION_ERROR",
                        "INVALID_DATE",
                        f"{value} is not midnight UTC ({name})",
                    )
        return None


def _parse_date(value: Any) -> datetime | None:
    """A date property value in one of HubSpot's documented forms: YYYY-MM-DD, or epoch
    milliseconds at midnight UTC (as text or a number)."""
    text = str(value)
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _error(category: str, message: str) -> dict[str, Any]:
    """HubSpot's documented `Error` body (category, correlationId and message required)."""
    return {
        "status": "error",
        "message": message,
        "category": category,
        "correlationId": "3f0e8a52-6c1b-4c53-9a8e-2b1f0d4c7e11",
    }
