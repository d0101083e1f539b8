"""Customer.io Track API v2 `/api/v2/batch`, checked against Customer.io's own OpenAPI document.

Source: konfig-sdks/openapi-examples customer-io/journeys-track/openapi.yaml at commit
2d2b1f35dea9f56a07e6fa1f70697171b2676bb5 (Journeys Track API 1.0.0, read 2026-11-29); the
excerpt and its notes are in tests/contracts/customerio/. Every operation kind the destination
builds must validate against Trackv2SendMultipleRequestsRequest, and every documented answer
(200, 207 without an index, 400, 401) plus the undocumented ones a client must survive (207
with an index, 413, 429) is replayed into the destination to see which records it acknowledges.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sync.destinations.customerio import CustomerIo
from sync.errors import DestinationError
from sync.records import Change
from tests.contracts.conftest import FAST, statuses
from tests.contracts.replay import ContractStandIn, as_response, documented
from tests.contracts.schemas import CUSTOMERIO_BATCH, customerio_operation_problems, problems
from tests.standins.base import Request, Response
from tests.standins.spec import Spec

ROUTES = {("POST", "/api/v2/batch"): CUSTOMERIO_BATCH}
AT = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)

PEOPLE = Spec(object="person", identifier={"id": "user_id"}, on_remove="delete")
PEOPLE_UNSET = Spec(object="person", identifier={"id": "user_id"}, on_remove="unset")
ACCOUNTS = Spec(object="object", identifier={"object_id": "account_id"}, on_remove="delete")
LINKS = Spec(
    object="relationship",
    identifier={"id": "user_id", "object_id": "account_id"},
    on_remove="delete",
)
EVENTS = Spec(object="event", mode="event", identifier={"id": "user_id"})


def make(standin: ContractStandIn) -> CustomerIo:
    options = CustomerIo.Options.model_validate(
        {"site_id": "site-1", "api_key": "contract-key-1", "base_url": standin.url, **FAST}
    )
    return CustomerIo("cio", options)


def person(i: int, **fields: Any) -> Change:
    row = {
        "user_id": f"u{i}",
        "email": f"u{i}@example.com",
        "account_plan": "team",
        "milestones_completed_count": i,
        "account_is_pql": i % 2 == 0,
        "created_at": AT,
        "activated_at": None,
        **fields,
    }
    return Change("add", f"u{i}", f"h{i}", row)


def accept_all(request: Request, body: Any) -> Response:
    return as_response(documented("customerio", "ok"))


# -- requests --------------------------------------------------------------------------------


def bodies_for(spec: Spec, changes: list[Change]) -> list[Any]:
    with ContractStandIn(ROUTES, accept_all) as standin:
        outcomes = make(standin).send(spec, changes)
        assert all(o.ok for o in outcomes), outcomes
        assert standin.bodies, "nothing was sent"
        return standin.bodies


def test_person_identify_matches_the_track_api_schema():
    bodies = bodies_for(PEOPLE, [person(1), person(2, activated_at=AT)])
    assert all(problems(CUSTOMERIO_BATCH, b) == [] for b in bodies), [
        problems(CUSTOMERIO_BATCH, b) for b in bodies
    ]
    op = bodies[0]["batch"][0]
    assert (op["type"], op["action"], op["identifiers"]) == ("person", "identify", {"id": "u1"})
    assert op["attributes"]["created_at"] == int(AT.timestamp())


def test_person_delete_and_unset_match_the_track_api_schema():
    removed = Change("remove", "u1", None, {"user_id": "u1"})
    unset = Change("remove", "u2", None, {"user_id": "u2", "account_plan": None})
    for spec, change, action in ((PEOPLE, removed, "delete"), (PEOPLE_UNSET, unset, "identify")):
        (body,) = bodies_for(spec, [change])
        assert problems(CUSTOMERIO_BATCH, body) == []
        assert body["batch"][0]["action"] == action


def test_object_identify_and_delete_match_the_track_api_schema():
    account = Change("add", "a1", "h", {"account_id": "a1", "plan": "team", "mrr": 225.0})
    gone = Change("remove", "a2", None, {"account_id": "a2"})
    (body,) = bodies_for(ACCOUNTS, [account, gone])
    assert problems(CUSTOMERIO_BATCH, body) == []
    assert [(op["type"], op["action"]) for op in body["batch"]] == [
        ("object", "identify"),
        ("object", "delete"),
    ]
    assert body["batch"][0]["identifiers"] == {"object_type_id": "1", "object_id": "a1"}


def test_relationship_add_and_delete_match_the_track_api_schema():
    link = Change("add", "u1|a1", "h", {"user_id": "u1", "account_id": "a1", "role": "admin"})
    unlink = Change("remove", "u2|a1", None, {"user_id": "u2", "account_id": "a1"})
    (body,) = bodies_for(LINKS, [link, unlink])
    assert problems(CUSTOMERIO_BATCH, body) == []
    assert [op["action"] for op in body["batch"]] == ["add_relationships", "delete_relationships"]


def test_event_matches_the_track_api_schema_with_a_ulid_and_unix_timestamp():
    event = Change(
        "add",
        "u1|pql|2026-11-01",
        "h",
        {"user_id": "u1", "event_name": "became_pql", "occurred_at": AT, "score": 71},
    )
    (body,) = bodies_for(EVENTS, [event])
    assert problems(CUSTOMERIO_BATCH, body) == []
    op = body["batch"][0]
    assert op["timestamp"] == int(AT.timestamp()) and len(op["id"]) == 26


def test_the_schema_refuses_what_customerio_refuses():
    """The excerpt bites: two person identifiers, a numeric object type id, no action."""
    two_ids = {"type": "person", "action": "identify", "identifiers": {"id": "1", "email": "a@b"}}
    numeric_type = {
        "type": "object",
        "action": "identify",
        "identifiers": {"object_type_id": 1, "object_id": "a"},
    }
    no_action = {"type": "person", "identifiers": {"id": "1"}}
    for op in (two_ids, numeric_type, no_action):
        assert problems(CUSTOMERIO_BATCH, {"batch": [op]}) != [], op
        assert customerio_operation_problems(op) != [], op  # the stand-in's fast path


# -- documented responses replayed -----------------------------------------------------------


def rejecting(bad: set[str], *, shape: str) -> Any:
    """Answer like the Track API: accept the batch, and name each invalid operation (one per
    person id in `bad`) in a 207 of the given documented shape."""

    def answer(request: Request, body: Any) -> Response:
        ops = body["batch"]
        failing = [i for i, op in enumerate(ops) if op["identifiers"].get("id") in bad]
        if not failing:
            return as_response(documented("customerio", "ok"))
        template = documented("customerio", shape)
        item = template["body"]["errors"][0]
        errors = [
            {**{k: v for k, v in item.items() if k != "batch_index"}}
            | ({"batch_index": i} if "batch_index" in item else {})
            for i in failing
        ]
        return as_response(template, {"errors": errors})

    return answer


def replay(answer: Any, changes: list[Change], spec: Spec = PEOPLE) -> tuple[dict, list]:
    with ContractStandIn(ROUTES, answer) as standin:
        outcomes = make(standin).send(spec, changes)
        assert standin.violations == []
        return statuses(outcomes), standin.bodies


def test_200_acknowledges_every_operation():
    result, _ = replay(accept_all, [person(i) for i in range(5)])
    assert result == {f"u{i}": "ok" for i in range(5)}


def test_207_without_index_rejects_exactly_the_invalid_operations():
    """The documented 207 names no operation: the batch is split until each error belongs to
    one operation; those are rejected, the others acknowledged. Nothing is taken on faith."""
    result, bodies = replay(
        rejecting({"u1", "u3"}, shape="partial_failure_without_index"),
        [person(i) for i in range(6)],
    )
    assert result == {
        "u0": "ok",
        "u1": "permanent",
        "u2": "ok",
        "u3": "permanent",
        "u4": "ok",
        "u5": "ok",
    }
    assert len(bodies) > 1, "the batch was split to attribute the errors"


def test_207_with_index_rejects_the_named_operation_only():
    result, _ = replay(
        rejecting({"u2"}, shape="partial_failure_with_index"), [person(i) for i in range(4)]
    )
    assert result == {"u0": "ok", "u1": "ok", "u2": "permanent", "u3": "ok"}


def test_207_whose_errors_cannot_be_read_makes_the_request_retryable():
    def garbled(request: Request, body: Any) -> Response:
        return Response(207, "<html>multi-status</html>", {"Content-Type": "text/html"})

    result, _ = replay(garbled, [person(i) for i in range(3)])
    assert result == {f"u{i}": "retryable" for i in range(3)}


def test_400_is_bisected_until_the_malformed_operation_is_alone():
    def answer(request: Request, body: Any) -> Response:
        if any(op["identifiers"].get("id") == "u2" for op in body["batch"]):
            return as_response(documented("customerio", "malformed_request"))
        return as_response(documented("customerio", "ok"))

    result, _ = replay(answer, [person(i) for i in range(5)])
    assert result == {"u0": "ok", "u1": "ok", "u2": "permanent", "u3": "ok", "u4": "ok"}


def test_401_stops_the_run_with_a_credentials_error():
    def answer(request: Request, body: Any) -> Response:
        return as_response(documented("customerio", "unauthorized"))

    with ContractStandIn(ROUTES, answer) as standin, pytest.raises(DestinationError) as err:
        make(standin).send(PEOPLE, [person(1)])
    assert "credentials" in str(err.value) and "contract-key-1" not in str(err.value)


def test_413_is_split_until_each_request_fits():
    def answer(request: Request, body: Any) -> Response:
        if len(body["batch"]) > 2:
            return as_response(documented("customerio", "too_large"))
        return as_response(documented("customerio", "ok"))

    result, bodies = replay(answer, [person(i) for i in range(5)])
    assert result == {f"u{i}": "ok" for i in range(5)}
    assert len(bodies[0]["batch"]) == 5 and len(bodies) > 1


def test_429_that_persists_leaves_every_operation_retryable():
    def answer(request: Request, body: Any) -> Response:
        return as_response(documented("customerio", "throttled"))

    result, bodies = replay(answer, [person(i) for i in range(3)])
    assert result == {f"u{i}": "retryable" for i in range(3)}
    assert len(bodies) == 1 + FAST["max_retries"]
