"""Shared helpers of the preset tests: one DuckDB file per preset module with the raw
tables in the loaders' published shapes (tests/sources/shapes.py), the product tables,
and one `dbt build` of the whole project on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.demo.conftest import run_dbt
from tests.sources import shapes
from tests.sources.shapes import write_table

AS_OF = "2026-11-01"

# The marts every preset must build (issue 16's acceptance: staging through the marts).
MARTS = (
    "user_milestones",
    "user_activation",
    "milestone_retention_lift",
    "account_pql_scores",
    "account_churn_risk",
    "account_plan_limits",
    "account_signals",
)


@dataclass(frozen=True)
class PresetBuild:
    """A raw warehouse in one preset's shapes after `dbt build`."""

    path: Path
    returncode: int
    output: str
    statuses: dict[str, str]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def failures(self) -> dict[str, str]:
        return {
            node: status
            for node, status in self.statuses.items()
            if status not in ("success", "pass", "no-op", "warn")
        }

    def built_models(self) -> set[str]:
        return {
            node.split(".")[-1]
            for node, status in self.statuses.items()
            if node.startswith("model.") and status == "success"
        }


def build_preset(root: Path, db_path: Path, dbt_vars: dict[str, Any]) -> PresetBuild:
    """`dbt build` of the whole project (models, seeds, data tests) on `db_path` with
    `dbt_vars` (plg_as_of pinned)."""
    completed = run_dbt(
        root,
        db_path,
        "build",
        # dbt unit tests do not read the warehouse: the demo build runs them
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps({"plg_as_of": AS_OF, **dbt_vars}),
        timeout=600,
    )
    results_file = root / "target" / "run_results.json"
    statuses = {}
    if results_file.exists():
        statuses = {
            r["unique_id"]: r["status"] for r in json.loads(results_file.read_text())["results"]
        }
    return PresetBuild(db_path, completed.returncode, completed.stdout + completed.stderr, statuses)


def product_tables() -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """Two accounts and three users of the product database, with a little usage."""

    return {
        "accounts": (
            shapes.APP_ACCOUNTS,
            [
                {
                    "account_id": "acc_1",
                    "name": "Acme",
                    "domain": "acme.example",
                    "industry": "software",
                    "employee_count": 50,
                    "created_at": "2026-08-01 10:00:00",
                },
                {
                    "account_id": "acc_2",
                    "name": "Globex",
                    "domain": "globex.example",
                    "industry": "retail",
                    "employee_count": 20,
                    "created_at": "2026-09-01 10:00:00",
                },
            ],
        ),
        "users": (
            shapes.APP_USERS,
            [
                {
                    "user_id": "u1",
                    "account_id": "acc_1",
                    "email": "ada@acme.example",
                    "name": "Ada",
                    "role": "admin",
                    "created_at": "2026-08-01 10:00:00",
                    "updated_at": "2026-08-01 10:00:00",
                },
                {
                    "user_id": "u2",
                    "account_id": "acc_1",
                    "email": "bob@acme.example",
                    "name": "Bob",
                    "role": "billing",
                    "created_at": "2026-08-02 10:00:00",
                    "updated_at": "2026-08-02 10:00:00",
                },
                {
                    "user_id": "u3",
                    "account_id": "acc_2",
                    "email": "cy@globex.example",
                    "name": "Cy",
                    "role": "admin",
                    "created_at": "2026-09-01 10:00:00",
                    "updated_at": "2026-09-01 10:00:00",
                },
            ],
        ),
        "usage_daily": (
            shapes.APP_USAGE,
            [
                {"account_id": a, "usage_date": f"2026-10-{d:02d}", "metric": m, "value": v}
                for a in ("acc_1", "acc_2")
                for d in (20, 25, 30)
                for m, v in (("api_calls", 1200), ("projects", 3))
            ],
        ),
    }


def write_tables(
    db_path: Path, tmp: Path, tables: dict[str, tuple[list[str], list[dict[str, Any]]]]
) -> None:
    """Create schema raw in `db_path` with each table (columns, rows)."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute("create schema if not exists raw")
        for name, spec in tables.items():
            columns, rows = spec[0], spec[1]
            extra = spec[2] if len(spec) > 2 else None  # type: ignore[misc]
            write_table(con, tmp, name, columns, rows, extra)
    finally:
        con.close()


def segment_hubspot_zendesk_tables() -> dict:
    """Segment (tracks + groups), Stripe (price, history mode off), HubSpot and Zendesk
    (ratings from ticket_field_history) in their published column sets, with our rows."""
    tables = product_tables()
    seg = "analytics.js"
    tables["tracks"] = (
        shapes.SEGMENT_TRACKS,
        [
            # a redelivery (same id, received later) and an anonymous event (no user_id)
            {
                "id": "m1",
                "user_id": "u1",
                "event": "project_created",
                "event_text": "Project Created",
                "timestamp": "2026-10-20 10:00:00",
                "original_timestamp": "2026-10-20 10:00:00",
                "sent_at": "2026-10-20 10:00:01",
                "received_at": "2026-10-20 10:00:02",
                "uuid_ts": "2026-10-20 10:20:00",
                "context_library_name": seg,
            },
            {
                "id": "m1",
                "user_id": "u1",
                "event": "project_created",
                "event_text": "Project Created",
                "timestamp": "2026-10-20 10:00:00",
                "original_timestamp": "2026-10-20 10:00:00",
                "sent_at": "2026-10-20 10:00:01",
                "received_at": "2026-10-20 11:00:00",
                "uuid_ts": "2026-10-20 11:20:00",
                "context_library_name": seg,
            },
            {
                "id": "m2",
                "anonymous_id": "anon-9",
                "event": "page_viewed",
                "timestamp": "2026-10-20 10:05:00",
                "received_at": "2026-10-20 10:05:01",
            },
            {
                "id": "m3",
                "user_id": "u2",
                "event": "teammate_invited",
                "timestamp": "2026-10-28 09:00:00",
                "received_at": "2026-10-28 09:00:01",
            },
            {
                "id": "m4",
                "user_id": "u3",
                "event": "paywall_hit",
                "timestamp": "2026-10-29 09:00:00",
                "received_at": "2026-10-29 09:00:01",
            },
            {
                "id": "m5",
                "user_id": "u3",
                "event": "project_created",
                "timestamp": "2026-09-02 09:00:00",
                "received_at": "2026-09-02 09:00:01",
            },
            # a user the product database does not know: its account comes from groups
            {
                "id": "m6",
                "user_id": "u9",
                "event": "project_created",
                "timestamp": "2026-10-29 09:00:00",
                "received_at": "2026-10-29 09:00:01",
            },
        ],
    )
    tables["groups"] = (
        shapes.SEGMENT_GROUPS,
        [
            {
                "id": "g1",
                "user_id": "u1",
                "group_id": "acc_1",
                "timestamp": "2026-08-01 10:00:05",
                "received_at": "2026-08-01 10:00:06",
            },
            {
                "id": "g2",
                "user_id": "u9",
                "group_id": "acc_old",
                "timestamp": "2026-09-01 10:00:00",
                "received_at": "2026-09-01 10:00:01",
            },
            {
                "id": "g3",
                "user_id": "u9",
                "group_id": "acc_2",
                "timestamp": "2026-10-01 10:00:00",
                "received_at": "2026-10-01 10:00:01",
            },
        ],
    )
    tables["subscription_history"] = (
        shapes.STRIPE_SUBSCRIPTION_HISTORY,
        [
            {
                "id": "sub_1",
                "_fivetran_synced": "2026-10-31 20:00:00",
                "_fivetran_active": "true",
                "cancel_at_period_end": "true",
                "created": "2026-08-01 10:00:00",
                "current_period_start": "2026-10-15 00:00:00",
                "current_period_end": "2026-11-15 00:00:00",
                "customer_id": "cus_1",
                "livemode": "true",
                "metadata": '{"account_id": "acc_1", "source": "app"}',
                "quantity": 5,
                "start_date": "2026-08-01 10:00:00",
                "status": "active",
            },
            {
                "id": "sub_2",
                "_fivetran_synced": "2026-10-31 20:00:00",
                "_fivetran_active": "true",
                "cancel_at_period_end": "false",
                "created": "2026-09-01 10:00:00",
                "current_period_start": "2026-10-01 00:00:00",
                "current_period_end": "2026-11-01 00:00:00",
                "customer_id": "cus_2",
                "livemode": "true",
                "metadata": '{"account_id": "acc_2"}',
                "start_date": "2026-09-01 10:00:00",
                "status": "trialing",
                "trial_start": "2026-09-01 10:00:00",
                "trial_end": "2026-11-10 10:00:00",
            },
        ],
    )
    tables["subscription_item"] = (
        shapes.STRIPE_SUBSCRIPTION_ITEM,
        [
            # two items: the plan (5 seats) and a yearly add-on; MRR sums both
            {
                "_fivetran_synced": "2026-10-31 20:00:00",
                "created": "2026-08-01 10:00:00",
                "id": "si_1",
                "metadata": "{}",
                "plan_id": "price_pro_m",
                "quantity": 5,
                "subscription_id": "sub_1",
            },
            {
                "_fivetran_synced": "2026-10-31 20:00:00",
                "created": "2026-09-01 10:00:00",
                "id": "si_1b",
                "metadata": "{}",
                "plan_id": "price_sso_y",
                "quantity": 1,
                "subscription_id": "sub_1",
            },
            {
                "_fivetran_synced": "2026-10-31 20:00:00",
                "created": "2026-09-01 10:00:00",
                "id": "si_2",
                "metadata": "{}",
                "plan_id": "price_pro_m",
                "quantity": 3,
                "subscription_id": "sub_2",
            },
        ],
    )
    tables["price"] = (
        shapes.STRIPE_PRICE,
        [
            {
                "id": "price_pro_m",
                "active": "true",
                "currency": "usd",
                "nickname": "Pro",
                "recurring_interval": "month",
                "recurring_interval_count": 1,
                "type": "recurring",
                "unit_amount": 4000,
                "unit_amount_decimal": "4000",
            },
            {
                "id": "price_sso_y",
                "active": "true",
                "currency": "usd",
                "nickname": "SSO add-on",
                "recurring_interval": "year",
                "recurring_interval_count": 1,
                "type": "recurring",
                "unit_amount": 24000,
                "unit_amount_decimal": "24000",
            },
        ],
    )
    tables["customer"] = (
        shapes.STRIPE_CUSTOMER,
        [{"id": "cus_1", "metadata": "{}"}, {"id": "cus_2", "metadata": "{}"}],
    )
    # HubSpot: the published company columns have no lifecycle stage, owner or
    # last-modified property: they are read as null (a portal may not sync them)
    tables["company"] = (
        shapes.HUBSPOT_COMPANY,
        [
            {
                "id": 101,
                "is_deleted": "false",
                "_fivetran_synced": "2026-10-31 20:00:00",
                "property_name": "Acme",
                "property_createdate": "2026-08-01 11:00:00",
                "property_plg_account_id": "acc_1",
            },
            {
                "id": 102,
                "is_deleted": "true",
                "_fivetran_synced": "2026-10-31 21:00:00",
                "property_name": "Acme (deleted)",
                "property_plg_account_id": "acc_1",
            },
            {
                "id": 103,
                "is_deleted": "false",
                "_fivetran_synced": "2026-10-31 20:00:00",
                "property_name": "Globex",
                "property_plg_account_id": "acc_2",
            },
        ],
        ["property_plg_account_id"],
    )
    tables["owner"] = (
        shapes.HUBSPOT_OWNER,
        [{"owner_id": 9001, "email": "Owner@Vendor.example", "first_name": "Olga"}],
    )
    tables["ticket"] = (
        shapes.ZENDESK_TICKET,
        [
            {
                "id": 1,
                "created_at": "2026-10-10 09:00:00",
                "organization_id": 501,
                "requester_id": 601,
                "priority": "high",
                "status": "solved",
            },
            {
                "id": 2,
                "created_at": "2026-10-12 09:00:00",
                "organization_id": 501,
                "requester_id": 601,
                "priority": "normal",
                "status": "open",
            },
            # no organization on the ticket: the requester's organization is used
            {
                "id": 3,
                "created_at": "2026-10-20 09:00:00",
                "requester_id": 602,
                "priority": "low",
                "status": "solved",
            },
            {
                "id": 4,
                "created_at": "2026-10-21 09:00:00",
                "organization_id": 501,
                "requester_id": 601,
                "status": "deleted",
            },
        ],
    )
    tables["organization"] = (
        shapes.ZENDESK_ORGANIZATION,
        [
            {"id": 501, "external_id": "acc_1", "name": "Acme"},
            {"id": 502, "external_id": "acc_2", "name": "Globex"},
        ],
    )
    tables["user"] = (
        shapes.ZENDESK_USER,
        [
            {
                "id": 601,
                "email": "ada@acme.example",
                "external_id": "u1",
                "organization_id": 501,
                "role": "end-user",
            },
            {
                "id": 602,
                "email": "cy@globex.example",
                "external_id": "u3",
                "organization_id": 502,
                "role": "end-user",
            },
        ],
    )
    tables["ticket_field_history"] = (
        shapes.ZENDESK_TICKET_FIELD_HISTORY,
        [
            {
                "field_name": "status",
                "ticket_id": 1,
                "updated": "2026-10-10 10:00:00",
                "value": "solved",
            },
            {
                "field_name": "satisfaction_score",
                "ticket_id": 1,
                "updated": "2026-10-10 11:00:00",
                "value": "offered",
            },
            {
                "field_name": "satisfaction_score",
                "ticket_id": 1,
                "updated": "2026-10-11 11:00:00",
                "value": "bad",
            },
            {
                "field_name": "satisfaction_score",
                "ticket_id": 3,
                "updated": "2026-10-21 11:00:00",
                "value": "good",
            },
        ],
    )
    return tables


# documented vars only (docs/sources.md); segment, hubspot and zendesk are the defaults
SEGMENT_HUBSPOT_ZENDESK_VARS = {
    "plg_stripe_price_table": "price",
    "plg_zendesk_ratings_from": "ticket_field_history",
}


@pytest.fixture(scope="session")
def segment_hubspot_zendesk_build(tmp_path_factory: pytest.TempPathFactory) -> PresetBuild:
    """One `dbt build` of the Segment + Stripe + HubSpot + Zendesk fixture, shared by the
    preset test and the dirty-data test (its clean reference)."""
    root = tmp_path_factory.mktemp("preset_segment_hubspot_zendesk")
    db_path = root / "warehouse.duckdb"
    write_tables(db_path, root, segment_hubspot_zendesk_tables())
    return build_preset(root, db_path, SEGMENT_HUBSPOT_ZENDESK_VARS)
