"""Salesforce sObject Collections upsert, checked against the REST API Developer Guide.

Source: Salesforce REST API Developer Guide (API v61.0; pages read 2026-11-29), "Upsert
Records Using sObject Collections", "Status Codes and Error Responses" and UpsertResult;
written down as JSON Schema in tests/contracts/salesforce/ with the URLs. Account, Contact
and Lead bodies must validate; every documented answer is replayed into the destination.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from sync.destinations.salesforce import Salesforce
from sync.errors import DestinationError
from sync.records import Change
from tests.contracts.conftest import FAST, statuses
from tests.contracts.replay import ContractStandIn, as_response, documented
from tests.contracts.schemas import SALESFORCE_UPSERT, problems
from tests.standins.base import Request, Response
from tests.standins.spec import Spec

ROUTES = {("PATCH", "/services/data/v61.0/composite/sobjects/"): SALESFORCE_UPSERT}
SEEN_AT = datetime(2024, 6, 30, 15, 4, 5, tzinfo=UTC)

ACCOUNTS = Spec(object="Account", identifier={"PLG_Account_Id__c": "account_id"})
CONTACTS = Spec(object="Contact", identifier={"PLG_User_Id__c": "user_id"})
LEADS = Spec(object="Lead", identifier={"PLG_User_Id__c": "user_id"})


class SalesforceContract(ContractStandIn):
    """Adds the OAuth token endpoint (client credentials) in front of the scripted answers."""

    def handle(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token":
            token = {"access_token": "00Dcontract!token", "instance_url": self.url}
            return Response(200, token | {"token_type": "Bearer"})
        return super().handle(request)


def make(standin: ContractStandIn) -> Salesforce:
    options = Salesforce.Options.model_validate(
        {
            "login_url": standin.url,
            "client_id": "cid",
            "client_secret": "contract-secret-1",
            "lock_retries": 1,
            **FAST,
        }
    )
    return Salesforce("sf", options)


def results(body: Any, failing: dict[str, dict[str, Any]] | None = None) -> list[dict]:
    """UpsertResults in request order, failing the records whose external id is named."""
    failing = failing or {}
    out = []
    for n, record in enumerate(body["records"]):
        ext = next(
            (v for k, v in record.items() if k.startswith("PLG_") and k.endswith("Id__c")), ""
        )
        if ext in failing:
            out.append({"success": False, "errors": [failing[ext]]})
        else:
            out.append({"id": f"001{n:015d}", "success": True, "errors": [], "created": False})
    assert problems(SALESFORCE_UPSERT, out, "UpsertResultList") == []
    return out


def accept_all(request: Request, body: Any) -> Response:
    return Response(200, results(body))


def account(i: int) -> Change:
    row = {
        "account_id": f"acct_{i}",
        "Name": f"Acme {i}",
        "PLG_Score__c": Decimal("71.5"),
        "PLG_Is_PQL__c": True,
        "PLG_Last_Seen_At__c": SEEN_AT,
        "PLG_Trial_Ends__c": date(2024, 7, 1),
        "PLG_Risk_Band__c": None,
    }
    return Change("add", f"acct_{i}", "h", row)


def person(i: int) -> Change:
    row = {
        "user_id": f"u{i}",
        "Email": f"u{i}@example.com",
        "LastName": f"Person {i}",
        "Company": "Acme",
        "PLG_Activated_At__c": SEEN_AT,
    }
    return Change("add", f"u{i}", "h", row)


# -- requests --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "changes"),
    [(ACCOUNTS, [account(1), account(2)]), (CONTACTS, [person(1)]), (LEADS, [person(2)])],
    ids=["Account", "Contact", "Lead"],
)
def test_upsert_body_matches_sobject_collections(spec: Spec, changes: list[Change]):
    with SalesforceContract(ROUTES, accept_all) as standin:
        outcomes = make(standin).send(spec, changes)
        assert all(o.ok for o in outcomes)
        assert standin.violations == []
        (body,) = standin.bodies
    assert body["allOrNone"] is False
    assert all(r["attributes"] == {"type": spec.object} for r in body["records"])
    if spec is ACCOUNTS:
        record = body["records"][0]
        assert record["PLG_Last_Seen_At__c"] == "2024-06-30T15:04:05.000Z"
        assert record["PLG_Trial_Ends__c"] == "2024-07-01"
        assert record["PLG_Risk_Band__c"] is None  # null clears the field


def test_the_schema_refuses_an_id_field_and_a_missing_type():
    assert problems(SALESFORCE_UPSERT, {"records": [{"attributes": {}, "X__c": "1"}]}) != []
    with_id = {"records": [{"attributes": {"type": "Account"}, "Id": "001"}]}
    assert problems(SALESFORCE_UPSERT, with_id) != []


# -- documented responses replayed -----------------------------------------------------------


def replay(answer: Any, changes: list[Change]) -> tuple[dict[str, str], list[Any]]:
    with SalesforceContract(ROUTES, answer) as standin:
        outcomes = make(standin).send(ACCOUNTS, changes)
        return statuses(outcomes), standin.bodies


def test_all_success_acknowledges_every_record():
    result, _ = replay(accept_all, [account(i) for i in range(3)])
    assert result == {f"acct_{i}": "ok" for i in range(3)}


def test_per_record_failure_rejects_that_record_and_keeps_the_others():
    error = documented("salesforce", "per_record_failure")["body"][1]["errors"][0]

    def answer(request: Request, body: Any) -> Response:
        return Response(200, results(body, {"acct_1": error}))

    result, _ = replay(answer, [account(i) for i in range(3)])
    assert result == {"acct_0": "ok", "acct_1": "permanent", "acct_2": "ok"}


def test_locked_record_is_retried_and_left_retryable_when_it_stays_locked():
    error = documented("salesforce", "record_locked")["body"][1]["errors"][0]

    def answer(request: Request, body: Any) -> Response:
        return Response(200, results(body, {"acct_2": error}))

    result, bodies = replay(answer, [account(i) for i in range(3)])
    assert result == {"acct_0": "ok", "acct_1": "ok", "acct_2": "retryable"}
    assert len(bodies) == 2  # the locked record was tried again on its own


def test_results_that_cannot_be_matched_to_records_leave_them_retryable():
    def answer(request: Request, body: Any) -> Response:
        return as_response(documented("salesforce", "result_count_mismatch"))

    result, _ = replay(answer, [account(i) for i in range(3)])
    assert result == {f"acct_{i}": "retryable" for i in range(3)}


def test_400_is_bisected_until_the_malformed_record_is_alone():
    def answer(request: Request, body: Any) -> Response:
        if any(r.get("PLG_Account_Id__c") == "acct_1" for r in body["records"]):
            return as_response(documented("salesforce", "malformed_request"))
        return accept_all(request, body)

    result, _ = replay(answer, [account(i) for i in range(4)])
    assert result == {"acct_0": "ok", "acct_1": "permanent", "acct_2": "ok", "acct_3": "ok"}


def test_401_refreshes_the_session_once_then_stops_the_run():
    def answer(request: Request, body: Any) -> Response:
        return as_response(documented("salesforce", "session_expired"))

    with SalesforceContract(ROUTES, answer) as standin, pytest.raises(DestinationError) as err:
        make(standin).send(ACCOUNTS, [account(1)])
    assert len(standin.bodies) == 2 and "contract-secret-1" not in str(err.value)


def test_403_request_limit_stops_the_run():
    def answer(request: Request, body: Any) -> Response:
        return as_response(documented("salesforce", "request_limit"))

    with SalesforceContract(ROUTES, answer) as standin, pytest.raises(DestinationError) as err:
        make(standin).send(ACCOUNTS, [account(1)])
    assert "REQUEST_LIMIT_EXCEEDED" in str(err.value)


def test_413_is_split_until_each_request_fits():
    def answer(request: Request, body: Any) -> Response:
        if len(body["records"]) > 1:
            return as_response(documented("salesforce", "too_large"))
        return accept_all(request, body)

    result, _ = replay(answer, [account(i) for i in range(3)])
    assert result == {f"acct_{i}": "ok" for i in range(3)}


def test_429_that_persists_leaves_every_record_retryable():
    def answer(request: Request, body: Any) -> Response:
        return as_response(documented("salesforce", "throttled"))

    result, _ = replay(answer, [account(i) for i in range(2)])
    assert result == {f"acct_{i}": "retryable" for i in range(2)}


def test_results_without_a_success_flag_prove_nothing():
    def answer(request: Request, body: Any) -> Response:
        return Response(200, [{"id": "001000000000001AAA"} for _ in body["records"]])

    result, _ = replay(answer, [account(i) for i in range(2)])
    assert result == {"acct_0": "retryable", "acct_1": "retryable"}
