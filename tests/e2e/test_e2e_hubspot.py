"""Demo warehouse -> `plg-sync setup/run` -> HubSpot CRM v3 stand-in (companies, contacts).

Compared field by field in HubSpot's documented string forms (its CRM v3 schema types every
property value as a string): datetimes as ISO 8601 UTC, numbers as decimal text, booleans as
"true"/"false", nulls as absent properties. Tests share one warehouse copy and
one portal and run in file order; each leaves the syncs converged.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.conftest import CANARY, FAST, Warehouse, partial_failure_round_trip
from tests.standins.hubspot import HubSpotStandIn

pytestmark = pytest.mark.slow

PLANS = ["free", "starter", "pro", "enterprise"]


@pytest.fixture(scope="module")
def hubspot(warehouse: Warehouse, canary_env: pytest.MonkeyPatch) -> Iterator[HubSpotStandIn]:
    canary_env.setenv("E2E_HUBSPOT_TOKEN", CANARY)
    with HubSpotStandIn(token=CANARY) as standin:
        warehouse.destination = "hubspot"
        warehouse.write_config(
            destinations={
                "hubspot": {
                    "type": "hubspot",
                    "access_token": {"env": "E2E_HUBSPOT_TOKEN"},
                    "base_url": standin.url,
                    "tier": "professional",
                    **FAST,
                }
            },
            syncs=[
                {
                    "name": "hs_companies",
                    "model": "sync_crm_companies",
                    "destination": "hubspot",
                    "object": "companies",
                    "identifier": {"plg_account_id": "plg_account_id"},
                    "options": {"enum_options": {"plg_plan": PLANS}},
                },
                {
                    "name": "hs_contacts",
                    "model": "sync_crm_contacts",
                    "destination": "hubspot",
                    "object": "contacts",
                    "identifier": {"email": "email"},
                },
            ],
        )
        yield standin


@pytest.fixture(scope="module")
def first_runs(warehouse: Warehouse, hubspot: HubSpotStandIn) -> dict[str, dict[str, Any]]:
    planned = warehouse.cli("setup", "hubspot").output
    assert "would create companies property 'plg_account_id' (string/text, unique)" in planned
    warehouse.cli("setup", "hubspot", "--apply")
    return warehouse.run("hs_companies") | warehouse.run("hs_contacts")


def upserts(standin: HubSpotStandIn, since: int) -> list[Any]:
    return [r for r in standin.request_log[since:] if r.path.endswith("/batch/upsert")]


def hubspot_value(value: Any) -> str:
    """HubSpot's documented string form (its schema types every property value as a string):
    booleans true/false, datetimes ISO 8601 UTC with milliseconds, numbers as decimal text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return format(Decimal(repr(value) if isinstance(value, float) else value).normalize(), "f")
    return str(value)


def expected_properties(row: dict[str, Any]) -> dict[str, Any]:
    return {
        column: hubspot_value(value)
        for column, value in row.items()
        if column not in ("sync_key", "sync_hash") and value is not None
    }


def test_setup_created_typed_unique_properties(hubspot, first_runs):
    props = hubspot.properties["companies"]
    assert props["plg_account_id"]["hasUniqueValue"] is True
    assert props["plg_pql_reached_at"]["type"] == "datetime"
    assert props["plg_is_pql"]["type"] == "bool"
    assert props["plg_mrr"]["type"] == "number"
    assert hubspot.properties["contacts"]["plg_signed_up_at"]["type"] == "datetime"


def test_setup_declared_every_enumeration_value_the_models_can_emit(warehouse, hubspot, first_runs):
    """The options come from the models' accepted_values (the manifest), so a churned
    company, which the example's hand-written list used to refuse, lands like the others."""
    risk = hubspot.properties["companies"]["plg_risk_band"]
    assert risk["type"] == "enumeration"
    assert [o["value"] for o in risk["options"]] == [
        "high", "medium", "low", "none", "churned", "not_scored",
    ]  # fmt: skip
    status = hubspot.properties["contacts"]["plg_activation_status"]
    assert {o["value"] for o in status["options"]} >= {"activated", "stalled"}
    bands = {r["plg_risk_band"] for r in warehouse.model("sync_crm_companies").values()}
    assert "churned" in bands, "the demo data plants churned accounts"
    assert first_runs["hs_companies"]["failed"] == 0


def test_first_run_lands_every_company_with_hubspot_formatting(warehouse, hubspot, first_runs):
    companies = warehouse.model("sync_crm_companies")
    assert first_runs["hs_companies"]["status"] == "succeeded"
    records = hubspot.records["companies"]
    assert set(records) == set(companies)
    mismatched = {
        key: (records[key], expected_properties(row))
        for key, row in companies.items()
        if records[key] != expected_properties(row)
    }
    assert not mismatched, f"{len(mismatched)} differ, e.g. {next(iter(mismatched.items()))}"


def test_first_run_lands_every_contact_with_hubspot_formatting(warehouse, hubspot, first_runs):
    contacts = {r["email"].lower(): r for r in warehouse.model("sync_crm_contacts").values()}
    assert first_runs["hs_contacts"]["status"] == "succeeded"
    records = hubspot.records["contacts"]
    assert set(records) == set(contacts)
    mismatched = {
        key: (records[key], expected_properties(row))
        for key, row in contacts.items()
        if records[key] != expected_properties(row)
    }
    assert not mismatched, f"{len(mismatched)} differ, e.g. {next(iter(mismatched.items()))}"


def test_second_run_sends_zero_requests(warehouse, hubspot, first_runs):
    before = hubspot.requests
    runs = warehouse.run("hs_companies", "hs_contacts")
    assert hubspot.requests == before
    assert [(r["planned"], r["requests"]) for r in runs.values()] == [(0, 0), (0, 0)]


def test_changing_n_companies_sends_exactly_n(warehouse, hubspot, first_runs):
    warehouse.update(
        "sync_crm_companies",
        "plg_is_at_risk = not plg_is_at_risk, plg_risk_score = 99",
        "sync_key in (select sync_key from main.sync_crm_companies order by 1 limit 5)",
    )
    before = hubspot.requests
    runs = warehouse.run("hs_companies")

    assert (runs["hs_companies"]["changed"], runs["hs_companies"]["succeeded"]) == (5, 5)
    (request,) = upserts(hubspot, since=before)  # plus one read of the property definitions
    inputs = request.json()["inputs"]
    assert len(inputs) == 5
    assert {i["properties"]["plg_risk_score"] for i in inputs} == {"99"}
    assert {i["properties"]["plg_is_at_risk"] for i in inputs} <= {"true", "false"}


def test_invalid_email_is_logged_not_synced_and_lands_once_fixed(warehouse, hubspot, first_runs):
    template = sorted(warehouse.model("sync_crm_contacts"))[0]
    warehouse.add_copy(
        "sync_crm_contacts",
        template,
        {"sync_key": "'user_e2e_bad_email'", "email": "'not-an-email'"},
    )
    runs = warehouse.run("hs_contacts", expect=7)

    assert (runs["hs_contacts"]["succeeded"], runs["hs_contacts"]["failed"]) == (0, 1)
    (error,) = warehouse.errors("hs_contacts")
    assert (error["sync_key"], error["error_code"]) == ("user_e2e_bad_email", "VALIDATION_ERROR")
    assert "INVALID_EMAIL" in error["message"]
    assert "user_e2e_bad_email" not in warehouse.state_keys("hs_contacts")

    warehouse.update(
        "sync_crm_contacts", "email = 'fixed.e2e@example.com'", "sync_key = 'user_e2e_bad_email'"
    )
    runs = warehouse.run("hs_contacts")
    assert (runs["hs_contacts"]["succeeded"], runs["hs_contacts"]["failed"]) == (1, 0)
    assert "user_e2e_bad_email" in warehouse.state_keys("hs_contacts")
    assert "fixed.e2e@example.com" in hubspot.records["contacts"]


def test_value_outside_enum_options_is_logged_and_lands_once_fixed(warehouse, hubspot, first_runs):
    template = sorted(warehouse.model("sync_crm_companies"))[0]
    warehouse.add_copy(
        "sync_crm_companies",
        template,
        {
            "sync_key": "'acct_e2e_enum'",
            "plg_account_id": "'acct_e2e_enum'",
            "plg_plan": "'platinum'",
        },
    )
    before = hubspot.requests
    runs = warehouse.run("hs_companies", expect=7)

    assert runs["hs_companies"]["failed"] == 1
    assert upserts(hubspot, since=before) == []  # refused before sending
    (error,) = warehouse.errors("hs_companies")
    assert error["error_code"] == "invalid_value"
    assert "'plg_plan' value 'platinum' is not one of its options" in error["message"]
    assert "acct_e2e_enum" not in warehouse.state_keys("hs_companies")

    warehouse.update("sync_crm_companies", "plg_plan = 'pro'", "sync_key = 'acct_e2e_enum'")
    runs = warehouse.run("hs_companies")
    assert runs["hs_companies"]["succeeded"] == 1
    assert hubspot.records["companies"]["acct_e2e_enum"]["plg_plan"] == "pro"


def test_207_naming_no_input_keeps_two_companies_for_the_next_run(warehouse, hubspot, first_runs):
    """HubSpot 207 errors whose context names no input: the batch is split until each error
    belongs to one company; those two stay unsynced and land on the next run."""
    hubspot.error_context = "none"
    rows = warehouse.model("sync_crm_companies")
    account = {key: row["plg_account_id"] for key, row in rows.items()}
    try:
        partial_failure_round_trip(
            warehouse,
            sync="hs_companies",
            model="sync_crm_companies",
            change="plg_risk_score = 77",
            reject=lambda keys: setattr(hubspot, "reject_ids", {account[k] for k in keys}),
            landed=lambda k: hubspot.records["companies"][account[k]]["plg_risk_score"] == "77",
            code="VALIDATION_ERROR",
        )
    finally:
        hubspot.error_context, hubspot.reject_ids = "ids", set()


def test_no_credential_in_state_tables(warehouse, hubspot, first_runs):
    warehouse.assert_no_canary_in_tables()
