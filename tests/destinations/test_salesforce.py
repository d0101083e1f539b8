"""Salesforce destination against its stand-in: Accounts upserted by external id."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sync.destinations.salesforce import Salesforce
from sync.errors import DestinationError
from sync.records import Change
from tests.destinations.conftest import CANARY, FAST
from tests.standins.salesforce import SalesforceStandIn
from tests.standins.spec import Spec

ACCOUNTS = Spec(object="Account", identifier={"PLG_Account_Id__c": "account_id"})


@pytest.fixture
def salesforce() -> SalesforceStandIn:
    with SalesforceStandIn(client_id="cid", client_secret=CANARY) as standin:
        yield standin


def make(standin: SalesforceStandIn, **overrides) -> Salesforce:
    options = Salesforce.Options.model_validate(
        {"login_url": standin.url, "client_id": "cid", "client_secret": CANARY, **FAST, **overrides}
    )
    return Salesforce("sf", options)


def account(i: int, **fields) -> Change:
    row = {
        "account_id": f"acct_{i}",
        "name": f"Account {i}",  # Account.Name is required (describe: nillable false)
        "plg_score__c": i / 2,
        "plg_plan__c": "team",
        "plg_is_pql__c": True,
        "plg_last_seen_at__c": datetime(2024, 6, 30, 15, 4, 5, tzinfo=UTC),
        **fields,
    }
    return Change("add", f"acct_{i}", "h", row)


def test_accounts_are_upserted_by_external_id(salesforce):
    dest = make(salesforce)
    outcomes = dest.send(ACCOUNTS, [account(i) for i in range(450)])  # 200 + 200 + 50
    assert all(o.ok for o in outcomes)
    assert len(salesforce.records["Account"]) == 450
    assert salesforce.records["Account"]["acct_3"] == {
        "PLG_Account_Id__c": "acct_3",
        "Name": "Account 3",
        "PLG_Score__c": 1.5,
        "PLG_Plan__c": "team",
        "PLG_Is_PQL__c": True,
        "PLG_Last_Seen_At__c": "2024-06-30T15:04:05.000Z",
    }
    assert salesforce.logins == 1


def test_expired_session_is_refreshed_once_and_the_call_repeated(salesforce):
    dest = make(salesforce)
    dest.send(ACCOUNTS, [account(1)])
    salesforce.expire_tokens()
    outcomes = dest.send(ACCOUNTS, [account(i) for i in range(800)])  # 4 workers hit the 401
    assert all(o.ok for o in outcomes)
    assert salesforce.logins == 2


def test_jwt_bearer_login(salesforce):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    salesforce.public_key = key.public_key()
    dest = make(
        salesforce,
        auth_flow="jwt_bearer",
        client_secret=None,
        username="sync@example.com",
        private_key=pem,
    )
    assert dest.send(ACCOUNTS, [account(1)])[0].ok
    assert "-----BEGIN" not in repr(dest.options)


def test_wrong_secret_stops_the_run_without_leaking_it(salesforce, caplog):
    caplog.set_level(logging.DEBUG)
    salesforce.client_secret = "something-else"
    dest = make(salesforce)
    with pytest.raises(DestinationError, match="invalid_client") as err:
        dest.send(ACCOUNTS, [account(1)])
    assert CANARY not in str(err.value) + caplog.text + repr(dest.options)


def test_field_errors_are_per_record_and_the_rest_goes_through(salesforce):
    dest = make(salesforce)
    rows = [account(i) for i in range(10)]
    rows[2] = account(2, plg_plan__c="p" * 41)
    rows[5] = account(5, no_such_field__c=1)
    rows[7] = account(7, plg_score__c=math.nan)
    outcomes = {o.key: o for o in dest.send(ACCOUNTS, rows)}
    assert outcomes["acct_2"].code == "STRING_TOO_LONG"
    assert "PLG_Plan__c" in outcomes["acct_2"].message
    assert outcomes["acct_5"].code == "INVALID_FIELD"
    assert "no_such_field__c" in outcomes["acct_5"].message
    assert outcomes["acct_7"].status == "permanent"
    assert "plg_score__c" in outcomes["acct_7"].message
    assert sum(o.ok for o in outcomes.values()) == 7
    assert len(salesforce.records["Account"]) == 7


def test_locked_rows_are_retried_in_smaller_batches(salesforce):
    dest = make(salesforce)
    salesforce.locked = {"acct_3": 1, "acct_9": 1}
    outcomes = dest.send(ACCOUNTS, [account(i) for i in range(20)])
    assert all(o.ok for o in outcomes)
    assert len(salesforce.records["Account"]) == 20


def test_rows_that_stay_locked_are_retryable(salesforce):
    dest = make(salesforce, lock_retries=1)
    salesforce.locked = {"acct_3": 99}
    outcomes = {o.key: o for o in dest.send(ACCOUNTS, [account(i) for i in range(20)])}
    assert outcomes["acct_3"].status == "retryable"
    assert outcomes["acct_3"].code == "UNABLE_TO_LOCK_ROW"
    assert sum(o.ok for o in outcomes.values()) == 19


def test_org_request_limit_stops_the_run(salesforce):
    dest = make(salesforce)
    dest.send(ACCOUNTS, [account(1)])
    salesforce.request_limit_exceeded = True
    with pytest.raises(DestinationError, match="REQUEST_LIMIT_EXCEEDED"):
        dest.send(ACCOUNTS, [account(i) for i in range(1000)])


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 503, "times": 3},
        {"kind": "drop", "times": 2},
        {"kind": "slow", "delay": 0.8, "times": 1},
        {"kind": "html", "times": 1},
    ],
    ids=["5xx", "dropped_connection", "timeout", "html_error_page"],
)
def test_transient_failures_converge(salesforce, fault):
    dest = make(salesforce)
    dest.send(ACCOUNTS, [account(0)])
    salesforce.inject(path_contains="/composite/", **fault)
    outcomes = dest.send(ACCOUNTS, [account(i) for i in range(600)])
    assert all(o.ok for o in outcomes)
    assert len(salesforce.records["Account"]) == 600


def test_whole_batch_rejection_is_bisected(salesforce):
    dest = make(salesforce)
    dest.send(ACCOUNTS, [account(0)])
    salesforce.inject(
        "status",
        status=400,
        times=1,
        path_contains="/composite/",
        body=[{"errorCode": "JSON_PARSER_ERROR", "message": "bad"}],
    )
    outcomes = dest.send(ACCOUNTS, [account(i) for i in range(8)])
    assert all(o.ok for o in outcomes)  # the 400 was a one-off: halves went through


def test_removed_account_is_deleted_by_external_id(salesforce):
    dest = make(salesforce)
    spec = Spec(
        object="Account", identifier={"PLG_Account_Id__c": "account_id"}, on_remove="delete"
    )
    dest.send(spec, [account(1), account(2)])
    outcomes = dest.send(spec, [Change("remove", "acct_1", None, {})])
    assert outcomes[0].ok
    assert set(salesforce.records["Account"]) == {"acct_2"}


def test_setup_says_exactly_what_to_create(salesforce):
    dest = make(salesforce)
    columns = {
        "sync_key": "varchar",
        "account_id": "varchar",
        "plg_score__c": "double",
        "plg_churn_risk__c": "numeric(5,2)",
        "plg_trial_ends__c": "date",
    }
    actions = dest.setup(ACCOUNTS, columns, apply=False)
    assert actions == [
        "create field Account.plg_churn_risk__c as Number(16, 2)",
        "create field Account.plg_trial_ends__c as Date",
    ]
    with pytest.raises(DestinationError, match="plg_churn_risk__c"):
        dest.setup(ACCOUNTS, columns, apply=True)
    missing_ext = Spec(object="Account", identifier={"Ext_Id__c": "account_id"})
    assert "External ID" in dest.setup(missing_ext, {"account_id": "varchar"}, apply=False)[0]


def test_access_token_and_secret_never_logged(salesforce, caplog):
    caplog.set_level(logging.DEBUG)
    dest = make(salesforce, max_retries=1)
    dest.send(ACCOUNTS, [account(1)])
    token = next(iter(salesforce.tokens))
    salesforce.inject("status", status=500, times=5, body={"echo": f"Bearer {token} {CANARY}"})
    outcomes = dest.send(ACCOUNTS, [account(2)])
    assert outcomes[0].status == "retryable"
    text = caplog.text + repr(outcomes)
    assert token not in text and CANARY not in text


def test_setup_guides_a_picklist_with_every_value_the_model_can_emit(salesforce):
    dest = make(salesforce)
    spec = Spec(
        object="Account",
        identifier={"PLG_Account_Id__c": "account_id"},
        options={"field_map": {"plg_risk_band": "PLG_Risk_Band__c"}},
        enumerations={"plg_risk_band": ["high", "low", "churned"]},
    )
    columns = {"sync_key": "varchar", "account_id": "varchar", "plg_risk_band": "varchar"}
    actions = dest.setup(spec, columns, apply=False)
    assert (
        "create field Account.PLG_Risk_Band__c as Picklist (restricted) with the values "
        "high, low, churned, or as Text(255)"
    ) in actions

    salesforce.schema["Account"]["PLG_Risk_Band__c"] = {
        "name": "PLG_Risk_Band__c",
        "type": "picklist",
        "picklistValues": [{"value": "high", "active": True}, {"value": "low", "active": True}],
    }
    actions = dest.setup(spec, columns, apply=False)
    assert any("add the values churned to picklist Account.PLG_Risk_Band__c" in a for a in actions)
