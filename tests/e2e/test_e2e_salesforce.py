"""Demo warehouse -> `plg-sync setup/run` -> Salesforce REST stand-in (Account by external id).

Login by client credentials; companies upserted into Account by PLG_Account_Id__c with a
field_map to the custom fields an admin created after `plg-sync setup salesforce` listed
them. Compared field by field: datetimes as ISO 8601 UTC instants, booleans and numbers as
JSON, nulls as null. Tests share one warehouse copy and org and run in file order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.conftest import CANARY, FAST, Warehouse
from tests.standins.salesforce import SalesforceStandIn

pytestmark = pytest.mark.slow

# model column -> Account field (the same map sync.example.yml uses)
FIELD_MAP = {
    "name": "Name",
    "domain": "Website",
    "plg_plan": "PLG_Plan__c",
    "plg_subscription_status": "PLG_Subscription_Status__c",
    "plg_mrr": "PLG_MRR__c",
    "plg_seats": "PLG_Seats__c",
    "plg_active_users": "PLG_Active_Users__c",
    "plg_activation_rate": "PLG_Activation_Rate__c",
    "plg_pql_score": "PLG_PQL_Score__c",
    "plg_is_pql": "PLG_Is_PQL__c",
    "plg_pql_reached_at": "PLG_PQL_Reached_At__c",
    "plg_pql_reasons": "PLG_PQL_Reasons__c",
    "plg_risk_score": "PLG_Risk_Score__c",
    "plg_risk_band": "PLG_Risk_Band__c",
    "plg_is_at_risk": "PLG_Is_At_Risk__c",
    "plg_risk_state": "PLG_Risk_State__c",
    "plg_risk_state_reason": "PLG_Risk_State_Reason__c",
    "plg_risk_reasons": "PLG_Risk_Reasons__c",
    "plg_is_recovered": "PLG_Is_Recovered__c",
    "plg_limit_status": "PLG_Limit_Status__c",
    "plg_limit_key": "PLG_Limit_Key__c",
    "plg_limit_percent_used": "PLG_Limit_Percent_Used__c",
    "plg_route_to_sales": "PLG_Route_To_Sales__c",
    "plg_billing_owner_email": "PLG_Billing_Owner_Email__c",
}
SF_TYPES = {"timestamp": "datetime", "boolean": "boolean", "double": "double", "integer": "double"}


@pytest.fixture(scope="module")
def salesforce(warehouse: Warehouse, canary_env: pytest.MonkeyPatch) -> Iterator[SalesforceStandIn]:
    canary_env.setenv("E2E_SF_CLIENT_ID", "3MVG9e2e.client")
    canary_env.setenv("E2E_SF_CLIENT_SECRET", CANARY)
    with SalesforceStandIn(client_id="3MVG9e2e.client", client_secret=CANARY) as standin:
        warehouse.destination = "salesforce"
        warehouse.write_config(
            destinations={
                "salesforce": {
                    "type": "salesforce",
                    "login_url": standin.url,
                    "auth_flow": "client_credentials",
                    "client_id": {"env": "E2E_SF_CLIENT_ID"},
                    "client_secret": {"env": "E2E_SF_CLIENT_SECRET"},
                    **FAST,
                }
            },
            syncs=[
                {
                    "name": "sf_accounts",
                    "model": "sync_crm_companies",
                    "destination": "salesforce",
                    "object": "Account",
                    "identifier": {"PLG_Account_Id__c": "plg_account_id"},
                    "batch_size": 200,
                    "options": {"field_map": FIELD_MAP},
                }
            ],
        )
        yield standin


def create_fields(standin: SalesforceStandIn, columns: dict[str, str]) -> None:
    """What an admin does in Setup > Object Manager after `plg-sync setup salesforce`."""
    account = standin.schema["Account"]
    for column, field in FIELD_MAP.items():
        if field not in account:
            spec: dict[str, Any] = {"name": field, "type": SF_TYPES.get(columns[column], "string")}
            if spec["type"] == "string":
                spec["length"] = 40 if field == "PLG_Plan__c" else 255
            account[field] = spec


@pytest.fixture(scope="module")
def first_runs(warehouse: Warehouse, salesforce: SalesforceStandIn) -> dict[str, dict[str, Any]]:
    todo = warehouse.cli("setup", "salesforce").output
    assert "sf_accounts: create field Account.PLG_MRR__c as Number(16, 2)" in todo
    columns = {
        r["column_name"]: r["data_type"].lower()
        for r in warehouse.query(
            "select column_name, data_type from information_schema.columns"
            " where table_name = 'sync_crm_companies'"
        )
    }
    create_fields(salesforce, columns)
    assert "create field" not in warehouse.cli("setup", "salesforce").output
    logins = salesforce.logins
    runs = warehouse.run("sf_accounts")
    assert salesforce.logins == logins + 1  # one token for the whole run
    return runs


def same(got: Any, want: Any) -> bool:
    if isinstance(want, datetime):
        when = datetime.fromisoformat(str(got).replace("Z", "+00:00"))
        return when == want.replace(tzinfo=UTC)
    return got == want


def mismatches(record: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    if record.get("PLG_Account_Id__c") != row["plg_account_id"]:
        out["PLG_Account_Id__c"] = record.get("PLG_Account_Id__c")
    for column, field in FIELD_MAP.items():
        if not same(record.get(field), row[column]):
            out[field] = (record.get(field), row[column])
    return out


def test_first_run_upserts_every_account_by_external_id(warehouse, salesforce, first_runs):
    companies = warehouse.model("sync_crm_companies")
    assert first_runs["sf_accounts"]["status"] == "succeeded"
    records = salesforce.records["Account"]
    assert set(records) == set(companies)
    bad = {k: d for k, row in companies.items() if (d := mismatches(records[k], row))}
    assert not bad, f"{len(bad)} accounts differ, e.g. {next(iter(bad.items()))}"


def test_second_run_sends_zero_requests(warehouse, salesforce, first_runs):
    before = salesforce.requests
    runs = warehouse.run("sf_accounts")
    assert salesforce.requests == before  # not even a login
    assert (runs["sf_accounts"]["planned"], runs["sf_accounts"]["requests"]) == (0, 0)


def test_changing_n_accounts_sends_exactly_n(warehouse, salesforce, first_runs):
    warehouse.update(
        "sync_crm_companies",
        "plg_pql_score = 77, plg_is_pql = true",
        "sync_key in (select sync_key from main.sync_crm_companies order by 1 desc limit 6)",
    )
    before = len(salesforce.request_log)
    runs = warehouse.run("sf_accounts")

    assert (runs["sf_accounts"]["changed"], runs["sf_accounts"]["succeeded"]) == (6, 6)
    (upsert,) = [r for r in salesforce.request_log[before:] if r.method == "PATCH"]
    records = upsert.json()["records"]
    assert len(records) == 6
    assert {r["PLG_PQL_Score__c"] for r in records} == {77}
    assert all(r["PLG_Is_PQL__c"] is True for r in records)


def test_field_error_is_logged_not_synced_and_lands_once_fixed(warehouse, salesforce, first_runs):
    template = sorted(warehouse.model("sync_crm_companies"))[0]
    warehouse.add_copy(
        "sync_crm_companies",
        template,
        {
            "sync_key": "'acct_e2e_long'",
            "plg_account_id": "'acct_e2e_long'",
            "plg_plan": "repeat('p', 41)",
        },
    )
    runs = warehouse.run("sf_accounts", expect=7)

    assert (runs["sf_accounts"]["succeeded"], runs["sf_accounts"]["failed"]) == (0, 1)
    (error,) = warehouse.errors("sf_accounts")
    assert (error["sync_key"], error["error_code"]) == ("acct_e2e_long", "STRING_TOO_LONG")
    assert "PLG_Plan__c" in error["message"]
    assert "acct_e2e_long" not in warehouse.state_keys("sf_accounts")
    assert "acct_e2e_long" not in salesforce.records["Account"]

    warehouse.update("sync_crm_companies", "plg_plan = 'pro'", "sync_key = 'acct_e2e_long'")
    runs = warehouse.run("sf_accounts")
    assert (runs["sf_accounts"]["succeeded"], runs["sf_accounts"]["failed"]) == (1, 0)
    assert salesforce.records["Account"]["acct_e2e_long"]["PLG_Plan__c"] == "pro"
    assert "acct_e2e_long" in warehouse.state_keys("sf_accounts")


def test_no_credential_in_state_tables(warehouse, salesforce, first_runs):
    warehouse.assert_no_canary_in_tables()
