"""The sales/CS handoff end to end (issue 18): demo warehouse -> `plg-sync setup/run` ->
HubSpot CRM v3 stand-in (companies, deals, tasks, owners, associations) and routed Slack
webhooks (one stand-in per channel).

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
at-risk task is completed after recovery.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import CANARY, FAST, Warehouse
from tests.standins.hubspot import HubSpotStandIn
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
}


@pytest.fixture(scope="module")
def standins(
    warehouse: Warehouse, canary_env: pytest.MonkeyPatch
) -> Iterator[tuple[HubSpotStandIn, dict[str, SlackStandIn]]]:
    canary_env.setenv("E2E_HUBSPOT_TOKEN", CANARY)
    slack_path = f"/services/T000/B000/{CANARY}"
    with (
        HubSpotStandIn(token=CANARY) as hubspot,
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
                        "associate": {"to_object": "companies", "column": "plg_account_id"},
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
            ],
        )
        yield hubspot, channels


ORDER = ("hs_companies", "hs_company_owners", "hs_deals", "hs_tasks", "slack_handoff")


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
    hubspot, _ = standins
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
    hubspot, _ = standins
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
    _, channels = standins
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


def test_a_rerun_sends_nothing(
    warehouse: Warehouse, standins: Any, first_runs: dict[str, dict[str, Any]]
) -> None:
    hubspot, channels = standins
    before, posted = len(hubspot.request_log), _alerts(channels)
    runs = warehouse.run(*ORDER)
    assert all(r["succeeded"] == 0 for r in runs.values()), runs
    assert len(hubspot.request_log) == before and _alerts(channels) == posted


def test_a_crash_before_the_checkpoint_and_a_failed_link_still_leave_one_each(
    warehouse: Warehouse, standins: Any, first_runs: dict[str, dict[str, Any]]
) -> None:
    hubspot, channels = standins
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
    hubspot, _ = standins
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
