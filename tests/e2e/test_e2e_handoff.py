"""The sales/CS handoff end to end (issue 18): demo warehouse -> `plg-sync setup/run` ->
HubSpot CRM v3 stand-in (companies, contacts, deals, tasks, owners, associations), routed
Slack webhooks (one stand-in per channel), and the Salesforce REST stand-in (Accounts,
owners, Opportunities, Tasks) with sync.example.yml's own Salesforce syncs.

Request shapes follow HubSpot's public CRM v3 specs (HubSpot/HubSpot-public-api-spec-
collection: `SimplePublicObjectBatchInputUpsert` for deals and tasks batch upsert,
`BatchReadInputSimplePublicObjectId` for the company look-up,
`BatchInputPublicDefaultAssociationMultiPost` for v4 default associations; checked
2026-11-29) and Slack's incoming-webhook docs (JSON with `text` and `blocks`).

Behaviour: every PQL handoff yields exactly one deal, with plan and MRR, owned by the
rep the round-robin chose and associated with its company; an unowned company gets that
rep as owner; each open handoff posts one Block Kit alert to its segment's channel; a
rerun sends nothing; a crash that loses the run's checkpoint and a failed association or
post followed by a rerun still leave exactly one deal, one task and one alert each; an
at-risk task is completed after recovery; each CS task is linked to its company and to the
account's billing contact. Salesforce: one Opportunity per handoff on its Account (by the
Account's external id, REST API Developer Guide upsert shape) with plan, MRR and owner; a
rerun and a crash-and-rerun add none; the CS Task is created once and completed after
recovery.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.demo.conftest import REPO
from tests.e2e.conftest import CANARY, FAST, Warehouse
from tests.standins.hubspot import HubSpotStandIn
from tests.standins.salesforce import SalesforceStandIn
from tests.standins.slack import SlackStandIn

pytestmark = pytest.mark.slow

ROUTED = ("smb", "mid_market")  # segments with their own channel; others use the default
DEAL_FIELDS = {
    "dealname": "deal_name",
    "dealstage": "deal_stage",
    "amount": "amount",
    "closedate": "close_at",
    "hubspot_owner_id": "crm_owner_id",
    "description": "note",
    "plg_account_id": "plg_account_id",
    "plg_deal_kind": "deal_kind",
    "plg_plan": "plan",
    "plg_mrr": "mrr",
    "plg_handoff_at": "handoff_at",
    "plg_segment": "segment",
    "plg_owner_email": "owner_email",
    "plg_reasons": "reasons",
    "plg_usage_chart": "usage_chart",
}
TASK_FIELDS = {
    "hs_task_subject": "subject",
    "hs_task_body": "body",
    "hs_task_status": "task_status",
    "hs_task_priority": "priority",
    "hs_timestamp": "due_at",
    "plg_account_id": "plg_account_id",
    "plg_outcome": "outcome",
    "plg_contact_email": "contact_email",
}
SF_SYNCS = (
    "salesforce_accounts",
    "salesforce_account_owners",
    "salesforce_opportunities",
    "salesforce_cs_tasks",
)
SF_TYPES = {"timestamp": "datetime", "boolean": "boolean", "double": "double", "integer": "double"}


def _salesforce_syncs() -> list[dict[str, Any]]:
    """sync.example.yml's Salesforce syncs as they are (the handoff a reader copies)."""
    example = yaml.safe_load((REPO / "sync.example.yml").read_text())
    return [s for s in example["syncs"] if s["name"] in SF_SYNCS]


@pytest.fixture(scope="module")
def standins(
    warehouse: Warehouse, canary_env: pytest.MonkeyPatch
) -> Iterator[tuple[HubSpotStandIn, dict[str, SlackStandIn], SalesforceStandIn]]:
    canary_env.setenv("E2E_HUBSPOT_TOKEN", CANARY)
    canary_env.setenv("E2E_SF_CLIENT_ID", "3MVG9e2e.client")
    canary_env.setenv("E2E_SF_CLIENT_SECRET", CANARY)
    slack_path = f"/services/T000/B000/{CANARY}"
    with (
        HubSpotStandIn(token=CANARY) as hubspot,
        SalesforceStandIn(client_id="3MVG9e2e.client", client_secret=CANARY) as salesforce,
        SlackStandIn(secret_path=slack_path, rate_limit=1000) as default,
        SlackStandIn(secret_path=slack_path, rate_limit=1000) as smb,
        SlackStandIn(secret_path=slack_path, rate_limit=1000) as mid_market,
    ):
        channels = {"default": default, "smb": smb, "mid_market": mid_market}
        for name, standin in channels.items():
            canary_env.setenv(f"E2E_SLACK_{name.upper()}", standin.webhook_url)
        warehouse.destination = "handoff"
        hubspot_options = {"property_group": "plg_signals"}
        warehouse.write_config(
            destinations={
                "hubspot": {
                    "type": "hubspot",
                    "access_token": {"env": "E2E_HUBSPOT_TOKEN"},
                    "base_url": hubspot.url,
                    **FAST,
                },
                "slack_handoff": {
                    "type": "slack",
                    "webhook_url": {"env": "E2E_SLACK_DEFAULT"},
                    "routes": {s: {"env": f"E2E_SLACK_{s.upper()}"} for s in ROUTED},
                    **FAST,
                },
                "salesforce": {
                    "type": "salesforce",
                    "login_url": salesforce.url,
                    "auth_flow": "client_credentials",
                    "client_id": {"env": "E2E_SF_CLIENT_ID"},
                    "client_secret": {"env": "E2E_SF_CLIENT_SECRET"},
                    **FAST,
                },
            },
            syncs=[
                {
                    "name": "hs_companies",
                    "model": "sync_crm_companies",
                    "destination": "hubspot",
                    "object": "companies",
                    "identifier": {"plg_account_id": "plg_account_id"},
                    "fields": {"name": "name", "plg_plan": "plg_plan", "plg_mrr": "plg_mrr"},
                    "options": hubspot_options,
                },
                {
                    "name": "hs_contacts",
                    "model": "sync_crm_contacts",
                    "destination": "hubspot",
                    "object": "contacts",
                    "identifier": {"email": "email"},
                    "fields": {"plg_account_id": "plg_account_id"},
                    "options": hubspot_options,
                },
                {
                    "name": "hs_company_owners",
                    "model": "sync_crm_company_owners",
                    "destination": "hubspot",
                    "object": "companies",
                    "identifier": {"plg_account_id": "plg_account_id"},
                    "fields": {"hubspot_owner_id": "crm_owner_id"},
                    "options": hubspot_options,
                },
                {
                    "name": "hs_deals",
                    "model": "sync_crm_deals",
                    "destination": "hubspot",
                    "object": "deals",
                    "identifier": {"plg_deal_id": "deal_external_id"},
                    "fields": DEAL_FIELDS,
                    "options": {
                        **hubspot_options,
                        "value_map": {
                            "dealstage": {
                                "open": "qualifiedtobuy",
                                "won": "closedwon",
                                "lost": "closedlost",
                            }
                        },
                        "constants": {"pipeline": "default"},
                        "associate": {"to_object": "companies", "column": "plg_account_id"},
                    },
                },
                {
                    "name": "hs_tasks",
                    "model": "sync_crm_tasks",
                    "destination": "hubspot",
                    "object": "tasks",
                    "identifier": {"plg_task_id": "task_external_id"},
                    "fields": TASK_FIELDS,
                    "options": {
                        **hubspot_options,
                        "value_map": {
                            "hs_task_status": {"open": "NOT_STARTED", "completed": "COMPLETED"},
                            "hs_task_priority": {"high": "HIGH", "medium": "MEDIUM"},
                        },
                        "associate": [
                            {"to_object": "companies", "column": "plg_account_id"},
                            {
                                "to_object": "contacts",
                                "id_property": "email",
                                "column": "plg_contact_email",
                                "required": False,
                            },
                        ],
                    },
                },
                {
                    "name": "slack_handoff",
                    "model": "sync_slack_handoff_alerts",
                    "destination": "slack_handoff",
                    "object": "message",
                    "mode": "event",
                    "identifier": {"id": "sync_key"},
                    "guardrails": {"max_removed_share": 1.0, "max_shrink_share": 1.0},
                    "options": {
                        "format": "handoff",
                        "route_column": "route_key",
                        "crm_url_template": (
                            "https://app.hubspot.com/contacts/12345/company/{crm_company_id}"
                        ),
                    },
                },
                *_salesforce_syncs(),
            ],
        )
        yield hubspot, channels, salesforce


ORDER = (
    "hs_companies",
    "hs_contacts",
    "hs_company_owners",
    "hs_deals",
    "hs_tasks",
    "slack_handoff",
)


@pytest.fixture(scope="module")
def first_runs(warehouse: Warehouse, standins: Any) -> dict[str, dict[str, Any]]:
    planned = warehouse.cli("setup", "hubspot").output
    assert "would create deals property 'plg_deal_id' (string/text, unique)" in planned
    assert "would create tasks property 'plg_task_id' (string/text, unique)" in planned
    assert "'dealname'" not in planned  # built-in properties are left alone
    warehouse.cli("setup", "hubspot", "--apply")
    return warehouse.run(*ORDER)


def _alerts(channels: dict[str, SlackStandIn]) -> Counter[tuple[str, str]]:
    """(channel, alert fallback text) -> how many times it was posted."""
    return Counter((name, m["text"]) for name, s in channels.items() for m in s.messages)


def test_every_pql_yields_one_deal_with_plan_mrr_owner_and_company(
    warehouse: Warehouse, standins: Any, first_runs: dict[str, dict[str, Any]]
) -> None:
    hubspot, _, _ = standins
    assert first_runs["hs_deals"]["failed"] == 0, warehouse.errors("hs_deals")
    deals = warehouse.model("sync_crm_deals")
    pql = {k: r for k, r in deals.items() if r["deal_kind"] == "pql"}
    assert pql, "the demo has no PQL handoff"
    assert set(hubspot.records["deals"]) == set(deals)  # one deal per handoff, none else
    companies = hubspot.record_ids["companies"]
    for key, row in pql.items():
        deal = hubspot.records["deals"][key]
        assert deal["plg_plan"] == row["plan"] and float(deal["plg_mrr"]) == row["mrr"]
        assert float(deal["amount"]) == row["amount"] > 0
        assert deal["dealstage"] == "qualifiedtobuy" and deal["pipeline"] == "default"
        assert deal["hubspot_owner_id"] == row["crm_owner_id"]
        link = ("deals", hubspot.record_ids["deals"][key], "companies")
        assert (*link, companies[row["plg_account_id"]]) in hubspot.associations


def test_one_owner_per_handoff_and_unowned_companies_get_the_rep(
    warehouse: Warehouse, standins: Any, first_runs: dict[str, dict[str, Any]]
) -> None:
    hubspot, _, _ = standins
    ledger = warehouse.query(
        "select account_id, handoff_id, crm_owner_id, assignment_source "
        "from main.account_owner_assignments"
    )
    assert len({r["handoff_id"] for r in ledger}) == len(ledger)
    owners = warehouse.model("sync_crm_company_owners")
    assert owners, "the demo has no round-robin assignment on an unowned company"
    for row in owners.values():
        company = hubspot.records["companies"][row["plg_account_id"]]
        assert company["hubspot_owner_id"] == row["crm_owner_id"]
    rotated = Counter(r["crm_owner_id"] for r in ledger if r["assignment_source"] == "round_robin")
    assert len(rotated) >= 2, rotated  # the rotation spreads handoffs over reps


def test_each_alert_posts_once_to_its_segments_channel(
    warehouse: Warehouse, standins: Any, first_runs: dict[str, dict[str, Any]]
) -> None:
    _, channels, _ = standins
    alerts = warehouse.model("sync_slack_handoff_alerts")
    expected = Counter(
        (r["route_key"] if r["route_key"] in ROUTED else "default") for r in alerts.values()
    )
    posted = Counter(name for name, s in channels.items() for _ in s.messages)
    assert posted == expected
    pql_alert = next(
        m for s in channels.values() for m in s.messages if "product-qualified" in m["text"]
    )
    text = str(pql_alert["blocks"])
    assert "*Plan*" in text and "*MRR*" in text and "*Owner*" in text and "```" in text
    assert any(ch in text for ch in "▁▂▃▄▅▆▇█")  # the usage chart
    assert "https://app.hubspot.com/contacts/12345/company/" in text


def test_each_cs_task_is_linked_to_its_company_and_the_accounts_contact(
    warehouse: Warehouse, standins: Any, first_runs: dict[str, dict[str, Any]]
) -> None:
    hubspot, _, _ = standins
    assert first_runs["hs_tasks"]["failed"] == 0, warehouse.errors("hs_tasks")
    tasks = warehouse.model("sync_crm_tasks")
    ids = hubspot.record_ids
    with_contact = 0
    for key, row in tasks.items():
        task_id = ids["tasks"][key]
        assert ("tasks", task_id, "companies", ids["companies"][row["plg_account_id"]]) in (
            hubspot.associations
        )
        contact = (row["contact_email"] or "").lower()
        if contact:
            with_contact += 1
            link = ("tasks", task_id, "contacts", ids["contacts"][contact])
            assert link in hubspot.associations, (key, contact)
    assert with_contact, "no CS task in the demo names a billing contact"


def test_a_rerun_sends_nothing(
    warehouse: Warehouse, standins: Any, first_runs: dict[str, dict[str, Any]]
) -> None:
    hubspot, channels, _ = standins
    before, posted = len(hubspot.request_log), _alerts(channels)
    runs = warehouse.run(*ORDER)
    assert all(r["succeeded"] == 0 for r in runs.values()), runs
    assert len(hubspot.request_log) == before and _alerts(channels) == posted


def test_a_crash_before_the_checkpoint_and_a_failed_link_still_leave_one_each(
    warehouse: Warehouse, standins: Any, first_runs: dict[str, dict[str, Any]]
) -> None:
    hubspot, channels, _ = standins
    deals_before = dict(hubspot.record_ids["deals"])
    tasks_before = dict(hubspot.record_ids["tasks"])
    links_before = set(hubspot.associations)
    posted = _alerts(channels)
    # the process died after HubSpot applied the batches but before state was written, in
    # the first run of these syncs: no state and no finished run (a finished run with its
    # state gone is a lost state, which the engine blocks as a mass change: issue 15.6)
    for table in ("sync_state", "sync_runs"):
        warehouse.execute(
            f"delete from plg_sync.{table} where sync_name in ('hs_deals', 'hs_tasks')"
        )
    # and on the rerun the association call fails for a while
    hubspot.inject("status", status=500, times=12, path_contains="/associate/default")
    failed = warehouse.run("hs_deals", "hs_tasks", expect=None)
    assert sum(r["failed"] for r in failed.values()) > 0  # the links were not proven
    warehouse.run("hs_deals", "hs_tasks")
    assert hubspot.record_ids["deals"] == deals_before  # same records, none added
    assert hubspot.record_ids["tasks"] == tasks_before
    assert hubspot.associations == links_before
    # a Slack post that failed is sent once on the rerun, never twice
    alerts = warehouse.model("sync_slack_handoff_alerts")
    key = next(iter(alerts))
    warehouse.add_copy(
        "sync_slack_handoff_alerts",
        key,
        {"sync_key": "'crash-test-alert'", "headline": "'Crash test'"},
    )
    route = alerts[key]["route_key"] if alerts[key]["route_key"] in ROUTED else "default"
    channels[route].inject("status", status=500, times=5)
    warehouse.run("slack_handoff", expect=None)
    warehouse.run("slack_handoff")
    new = _alerts(channels) - posted
    assert list(new.values()) == [1] and next(iter(new))[1].startswith("Crash test"), new


def test_an_at_risk_task_is_completed_after_recovery(
    warehouse: Warehouse, standins: Any, first_runs: dict[str, dict[str, Any]]
) -> None:
    hubspot, _, _ = standins
    tasks = warehouse.model("sync_crm_tasks")
    open_tasks = [k for k, r in tasks.items() if r["task_status"] == "open"]
    assert open_tasks, "the demo has no open CS task"
    key = open_tasks[0]
    assert hubspot.records["tasks"][key]["hs_task_status"] == "NOT_STARTED"
    count = len(hubspot.records["tasks"])
    # the account recovered: the model closes the episode's task (sync_crm_tasks.sql)
    warehouse.update(
        "sync_crm_tasks",
        "task_status = 'completed', outcome = 'recovered', completed_at = at_risk_since",
        f"sync_key = '{key}'",
    )
    warehouse.run("hs_tasks")
    assert hubspot.records["tasks"][key]["hs_task_status"] == "COMPLETED"
    assert hubspot.records["tasks"][key]["plg_outcome"] == "recovered"
    assert len(hubspot.records["tasks"]) == count
    warehouse.assert_no_canary_in_tables()


# -- Salesforce: the same handoff with sync.example.yml's Salesforce syncs ----------------


def _create_fields(warehouse: Warehouse, salesforce: SalesforceStandIn) -> None:
    """What an admin does in Setup > Object Manager after `plg-sync setup salesforce`: the
    custom fields the example's field maps name, typed from the model columns."""
    for sync in _salesforce_syncs():
        columns = {
            r["column_name"]: r["data_type"].lower()
            for r in warehouse.query(
                "select column_name, data_type from information_schema.columns"
                f" where table_name = '{sync['model']}'"
            )
        }
        schema = salesforce.schema[sync["object"]]
        for ext_field in sync["identifier"]:
            if ext_field not in schema:
                external = not sync["options"].get("match_by_query")
                schema[ext_field] = {"name": ext_field, "type": "string", "length": 255,
                                     "externalId": external}  # fmt: skip
        for column, field in sync["options"]["field_map"].items():
            if field not in schema:
                kind = SF_TYPES.get(columns[column], "string")
                schema[field] = {"name": field, "type": kind, "length": 32000}


@pytest.fixture(scope="module")
def sf_first_runs(warehouse: Warehouse, standins: Any) -> dict[str, dict[str, Any]]:
    _, _, salesforce = standins
    todo = warehouse.cli("setup", "salesforce").output
    assert "create field Opportunity.PLG_Deal_Kind__c" in todo
    _create_fields(warehouse, salesforce)
    assert "create field" not in warehouse.cli("setup", "salesforce").output
    return warehouse.run(*SF_SYNCS)


def test_salesforce_every_handoff_yields_one_opportunity_on_its_account(
    warehouse: Warehouse, standins: Any, sf_first_runs: dict[str, dict[str, Any]]
) -> None:
    _, _, salesforce = standins
    for name in SF_SYNCS:
        assert sf_first_runs[name]["failed"] == 0, warehouse.errors(name)
    deals = warehouse.model("sync_crm_deals")
    opportunities = salesforce.records["Opportunity"]
    assert set(opportunities) == set(deals)  # one Opportunity per handoff, keyed by PLG_Deal_Id__c
    accounts = salesforce.record_ids["Account"]
    pql = [k for k, r in deals.items() if r["deal_kind"] == "pql"]
    assert pql
    for key in pql:
        row, opportunity = deals[key], opportunities[key]
        assert opportunity["AccountId"] == accounts[row["plg_account_id"]]
        assert opportunity["PLG_Plan__c"] == row["plan"]
        assert opportunity["PLG_MRR__c"] == row["mrr"]
        assert opportunity["Amount"] == row["amount"] > 0
        assert opportunity["OwnerId"] == row["crm_owner_id"]
        stage = {"open": "Qualification", "won": "Closed Won", "lost": "Closed Lost"}
        assert opportunity["StageName"] == stage[row["deal_stage"]]
    # the owner lands on Accounts the CRM had no owner for
    for row in warehouse.model("sync_crm_company_owners").values():
        owned = salesforce.records["Account"][row["plg_account_id"]]
        assert owned["OwnerId"] == row["crm_owner_id"]


def test_salesforce_a_rerun_and_a_crash_and_rerun_add_no_opportunity_or_task(
    warehouse: Warehouse, standins: Any, sf_first_runs: dict[str, dict[str, Any]]
) -> None:
    _, _, salesforce = standins
    runs = warehouse.run(*SF_SYNCS)
    assert all(r["succeeded"] == 0 for r in runs.values()), runs
    opportunities = dict(salesforce.record_ids["Opportunity"])
    tasks = dict(salesforce.record_ids["Task"])
    assert tasks, "the demo has no CS task"
    # the process died after Salesforce applied the records, before state was written
    names = "', '".join(("salesforce_opportunities", "salesforce_cs_tasks"))
    for table in ("sync_state", "sync_runs"):
        warehouse.execute(f"delete from plg_sync.{table} where sync_name in ('{names}')")
    resent = warehouse.run("salesforce_opportunities", "salesforce_cs_tasks")
    assert all(r["failed"] == 0 and r["succeeded"] > 0 for r in resent.values()), resent
    assert salesforce.record_ids["Opportunity"] == opportunities  # upserted, none added
    assert salesforce.record_ids["Task"] == tasks  # found by PLG_Task_Id__c, none added


def test_salesforce_a_cs_task_is_created_once_and_completed_after_recovery(
    warehouse: Warehouse, standins: Any, sf_first_runs: dict[str, dict[str, Any]]
) -> None:
    _, _, salesforce = standins
    tasks = warehouse.model("sync_crm_tasks")
    by_key = {r["PLG_Task_Id__c"]: r for r in salesforce.records["Task"].values()}
    assert set(by_key) == set(tasks)  # one Task per risk episode
    accounts = salesforce.record_ids["Account"]
    key = next(k for k, r in tasks.items() if r["task_status"] == "open")
    assert by_key[key]["Status"] == "Not Started"
    assert by_key[key]["WhatId"] == accounts[tasks[key]["plg_account_id"]]
    warehouse.update(
        "sync_crm_tasks",
        "task_status = 'completed', outcome = 'recovered', completed_at = at_risk_since",
        f"sync_key = '{key}'",
    )
    warehouse.run("salesforce_cs_tasks")
    by_key = {r["PLG_Task_Id__c"]: r for r in salesforce.records["Task"].values()}
    assert by_key[key]["Status"] == "Completed" and by_key[key]["PLG_Outcome__c"] == "recovered"
    assert len(salesforce.records["Task"]) == len(tasks)
    warehouse.assert_no_canary_in_tables()
