"""HubSpot CRM v3 batch upsert and property creation, checked against HubSpot's own OpenAPI
documents.

Source: HubSpot/HubSpot-public-api-spec-collection at commit
99893791383254f52aa07662baeb98aad65cc710 (read 2026-11-29):
PublicApiSpecs/CRM/Companies/Rollouts/424/v3/companies.json,
PublicApiSpecs/CRM/Contacts/Rollouts/424/v3/contacts.json and
PublicApiSpecs/CRM/Properties/Rollouts/145899/v3/properties.json (all `info.version` v3);
excerpts in tests/contracts/hubspot/. `SimplePublicObjectBatchInputUpsert.properties` is a map
of strings, so every value we send must be a string; `OptionInput` requires `hidden`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from sync.destinations.hubspot import HubSpot
from sync.errors import DestinationError
from sync.records import Change
from tests.contracts.conftest import FAST, statuses
from tests.contracts.replay import ContractStandIn, as_response, documented
from tests.contracts.schemas import (
    HUBSPOT_COMPANIES,
    HUBSPOT_CONTACTS,
    HUBSPOT_PROPERTIES,
    problems,
)
from tests.standins.base import Request, Response
from tests.standins.spec import Spec

COMPANIES = Spec(object="companies", identifier={"plg_account_id": "account_id"})
CONTACTS = Spec(object="contacts", identifier={"email": "email"})
ROUTES = {
    ("POST", "/crm/v3/objects/companies/batch/upsert"): HUBSPOT_COMPANIES,
    ("POST", "/crm/v3/objects/contacts/batch/upsert"): HUBSPOT_CONTACTS,
    ("POST", "/crm/v3/properties/companies/groups"): (*HUBSPOT_PROPERTIES, "PropertyGroupCreate"),
    ("POST", "/crm/v3/properties/contacts/groups"): (*HUBSPOT_PROPERTIES, "PropertyGroupCreate"),
    ("POST", "/crm/v3/properties/"): (*HUBSPOT_PROPERTIES, "PropertyCreate"),
}
SEEN_AT = datetime(2024, 6, 30, 15, 4, 5, tzinfo=UTC)


def _property(name: str, type_: str, field_type: str, **extra: Any) -> dict[str, Any]:
    """A property definition in the documented `Property` shape."""
    return {
        "name": name,
        "label": name,
        "type": type_,
        "fieldType": field_type,
        "groupName": "plg_signals",
        "description": "",
        "options": extra.pop("options", []),
        **extra,
    }


def _option(value: str, order: int) -> dict[str, Any]:
    return {"label": value, "value": value, "displayOrder": order, "hidden": False}


PORTAL = {
    "companies": [
        _property("plg_account_id", "string", "text", hasUniqueValue=True),
        _property("name", "string", "text"),
        _property("plg_mrr", "number", "number"),
        _property("plg_seats", "number", "number"),
        _property(
            "plg_is_pql",
            "bool",
            "booleancheckbox",
            options=[_option("true", 0), _option("false", 1)],
        ),
        _property("plg_trial_ends_date", "date", "date"),
        _property("plg_last_seen_at", "datetime", "date"),
        _property(
            "plg_risk_band",
            "enumeration",
            "select",
            options=[_option(v, i) for i, v in enumerate(["none", "low", "high", "churned"])],
        ),
    ],
    "contacts": [
        _property("email", "string", "text", hasUniqueValue=True),
        _property("plg_pql_score", "number", "number"),
        _property(
            "plg_is_pql",
            "bool",
            "booleancheckbox",
            options=[_option("true", 0), _option("false", 1)],
        ),
        _property("plg_activated_at", "datetime", "date"),
    ],
}


def make(standin: ContractStandIn) -> HubSpot:
    options = HubSpot.Options.model_validate(
        {"access_token": "contract-token-1", "base_url": standin.url, **FAST}
    )
    return HubSpot("hubspot", options)


def properties_listing(request: Request) -> Response | None:
    for object_type, definitions in PORTAL.items():
        if request.method == "GET" and request.path == f"/crm/v3/properties/{object_type}":
            assert (
                problems(
                    HUBSPOT_PROPERTIES,
                    {"results": definitions},
                    "CollectionResponsePropertyNoPaging",
                )
                == []
            )
            return Response(200, {"results": definitions})
    return None


def upsert_answer(failing: set[str], shape: str = "ok") -> Any:
    """Answer an upsert like HubSpot: results for accepted inputs and, when some input id is
    in `failing`, a 207 of the named documented shape."""

    def answer(request: Request, body: Any) -> Response:
        listing = properties_listing(request)
        if listing is not None:
            return listing
        inputs = body["inputs"]
        bad = [i for i in inputs if i["id"] in failing]
        ok = [i for i in inputs if i["id"] not in failing]
        results = [
            {
                "id": str(1000 + n),
                "properties": {},
                "createdAt": "2026-11-29T10:00:00Z",
                "updatedAt": "2026-11-29T10:00:00Z",
                "archived": False,
                "new": False,
                **(
                    {"objectWriteTraceId": i["objectWriteTraceId"]}
                    if "objectWriteTraceId" in i
                    else {}
                ),
            }
            for n, i in enumerate(ok)
        ]
        template = documented("hubspot", shape if bad else "ok")
        reply = {**template["body"], "results": results}
        if bad:
            error = template["body"]["errors"][0]
            errors = []
            for i in bad:
                context: dict[str, list[str]] = {}
                if "ids" in error["context"]:
                    context = {"ids": [i["id"]]}
                elif "objectWriteTraceId" in error["context"]:
                    context = {"objectWriteTraceId": [i.get("objectWriteTraceId", "")]}
                errors.append({**error, "context": context})
            reply |= {"errors": errors, "numErrors": len(errors)}
        status_schema = "BatchResponseSimplePublicUpsertObject" + ("WithErrors" if bad else "")
        assert problems(HUBSPOT_COMPANIES, reply, status_schema) == []
        return as_response(template, reply)

    return answer


def company(i: int, **fields: Any) -> Change:
    row = {
        "account_id": f"acct_{i}",
        "name": f"Acme {i}",
        "plg_mrr": Decimal("225.50") + i,
        "plg_seats": 15 + i,
        "plg_is_pql": i % 2 == 0,
        "plg_trial_ends_date": date(2024, 7, 1),
        "plg_last_seen_at": SEEN_AT,
        "plg_risk_band": "churned" if i == 0 else "low",
        **fields,
    }
    return Change("add", f"acct_{i}", f"h{i}", row)


def contact(i: int) -> Change:
    row = {
        "email": f"person{i}@example.com",
        "plg_pql_score": 71.5,
        "plg_is_pql": True,
        "plg_activated_at": SEEN_AT,
    }
    return Change("add", f"person{i}@example.com", f"h{i}", row)


# -- requests --------------------------------------------------------------------------------


def sent(spec: Spec, changes: list[Change]) -> tuple[list[Any], list[str]]:
    with ContractStandIn(ROUTES, upsert_answer(set())) as standin:
        outcomes = make(standin).send(spec, changes)
        assert all(o.ok for o in outcomes), outcomes
        return standin.bodies, standin.violations


def test_the_schema_refuses_a_number_where_hubspot_wants_a_string():
    body = {
        "inputs": [{"idProperty": "plg_account_id", "id": "a1", "properties": {"plg_mrr": 225.0}}]
    }
    assert problems(HUBSPOT_COMPANIES, body) == [
        "inputs/0/properties/plg_mrr: 225.0 is not of type 'string'"
    ]


def test_company_upsert_matches_simple_public_object_batch_input_upsert():
    bodies, violations = sent(COMPANIES, [company(0), company(1)])
    assert violations == []
    props = bodies[0]["inputs"][1]["properties"]
    assert props["plg_mrr"] == "226.5"
    assert props["plg_seats"] == "16"
    assert props["plg_is_pql"] == "false"
    assert props["plg_trial_ends_date"] == "2024-07-01"
    assert props["plg_last_seen_at"] == "2024-06-30T15:04:05.000Z"


def test_contact_upsert_matches_simple_public_object_batch_input_upsert():
    bodies, violations = sent(CONTACTS, [contact(1)])
    assert violations == []
    assert bodies[0]["inputs"][0]["properties"] == {
        "plg_pql_score": "71.5",
        "plg_is_pql": "true",
        "plg_activated_at": "2024-06-30T15:04:05.000Z",
    }


def test_setup_creates_groups_and_properties_that_match_property_create():
    columns = {
        "sync_key": "varchar",
        "sync_hash": "varchar",
        "account_id": "varchar",
        "plg_new_mrr": "numeric(18,2)",
        "plg_new_flag": "boolean",
        "plg_new_seen_at": "timestamp",
    }

    def answer(request: Request, body: Any) -> Response:
        if request.method == "GET" and request.path.endswith("/groups"):
            return Response(200, {"results": []})
        if request.method == "POST":
            return Response(201, body)
        return properties_listing(request) or Response(404, {})

    with ContractStandIn(ROUTES, answer) as standin:
        make(standin).setup(COMPANIES, columns, apply=True)
        assert len(standin.bodies) >= 4  # the group and three new properties
        assert standin.violations == []


# -- documented responses replayed -----------------------------------------------------------


def replay(answer: Any, changes: list[Change]) -> tuple[dict[str, str], list[Any]]:
    with ContractStandIn(ROUTES, answer) as standin:
        outcomes = make(standin).send(COMPANIES, changes)
        return statuses(outcomes), standin.bodies


def test_200_acknowledges_every_input():
    result, _ = replay(upsert_answer(set()), [company(i) for i in range(3)])
    assert result == {f"acct_{i}": "ok" for i in range(3)}


def test_207_with_ids_rejects_the_named_inputs_only():
    result, _ = replay(
        upsert_answer({"acct_1"}, "partial_failure_with_ids"), [company(i) for i in range(3)]
    )
    assert result == {"acct_0": "ok", "acct_1": "permanent", "acct_2": "ok"}


def test_207_naming_the_object_write_trace_id_rejects_that_input_only():
    result, _ = replay(
        upsert_answer({"acct_2"}, "partial_failure_with_trace_id"), [company(i) for i in range(4)]
    )
    assert result == {"acct_0": "ok", "acct_1": "ok", "acct_2": "permanent", "acct_3": "ok"}


def test_207_without_ids_is_split_until_each_error_belongs_to_one_input():
    result, bodies = replay(
        upsert_answer({"acct_1", "acct_4"}, "partial_failure_without_ids"),
        [company(i) for i in range(6)],
    )
    assert result == {
        "acct_0": "ok",
        "acct_1": "permanent",
        "acct_2": "ok",
        "acct_3": "ok",
        "acct_4": "permanent",
        "acct_5": "ok",
    }
    assert len([b for b in bodies if b]) > 1


def test_400_is_bisected_until_the_invalid_input_is_alone():
    def answer(request: Request, body: Any) -> Response:
        listing = properties_listing(request)
        if listing is not None:
            return listing
        if any(i["id"] == "acct_2" for i in body["inputs"]):
            return as_response(documented("hubspot", "invalid_batch"))
        return upsert_answer(set())(request, body)

    result, _ = replay(answer, [company(i) for i in range(4)])
    assert result == {"acct_0": "ok", "acct_1": "ok", "acct_2": "permanent", "acct_3": "ok"}


def test_401_stops_the_run_and_never_shows_the_token():
    def answer(request: Request, body: Any) -> Response:
        return as_response(documented("hubspot", "unauthorized"))

    with ContractStandIn(ROUTES, answer) as standin, pytest.raises(DestinationError) as err:
        make(standin).send(COMPANIES, [company(1)])
    assert "401" in str(err.value) and "contract-token-1" not in str(err.value)


def test_413_is_split_until_each_request_fits():
    def answer(request: Request, body: Any) -> Response:
        listing = properties_listing(request)
        if listing is not None:
            return listing
        if len(body["inputs"]) > 1:
            return as_response(documented("hubspot", "too_large"))
        return upsert_answer(set())(request, body)

    result, _ = replay(answer, [company(i) for i in range(3)])
    assert result == {f"acct_{i}": "ok" for i in range(3)}


def test_429_that_persists_leaves_every_input_retryable():
    def answer(request: Request, body: Any) -> Response:
        return properties_listing(request) or as_response(documented("hubspot", "throttled"))

    result, _ = replay(answer, [company(i) for i in range(3)])
    assert result == {f"acct_{i}": "retryable" for i in range(3)}
