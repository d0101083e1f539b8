"""The demo data is written in the shapes the default presets read (the loaders' own
column sets, tests/sources/shapes.py), so `make demo` and the planted-truth tests run
through the same staging code as a user's Segment/Fivetran tables; and a preset name the
package does not know stops the build naming the valid ones."""

from __future__ import annotations

import duckdb
import pytest

from sync.demo.generator import generate
from tests.demo.conftest import run_dbt
from tests.sources import shapes


def test_the_demo_data_is_in_the_loaders_published_shapes(tmp_path):
    db = tmp_path / "demo.duckdb"
    generate(db, scale="tiny", seed=3)
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'raw' order by table_name, ordinal_position"
        ).fetchall():
            columns.setdefault(table, []).append(column)
    finally:
        con.close()
    published = {
        "subscription_history": shapes.STRIPE_SUBSCRIPTION_HISTORY + shapes.STRIPE_HISTORY_MODE,
        "subscription_item": shapes.STRIPE_SUBSCRIPTION_ITEM + shapes.STRIPE_HISTORY_MODE,
        "price": shapes.STRIPE_PRICE,
        "customer": shapes.STRIPE_CUSTOMER,
        "owner": shapes.HUBSPOT_OWNER,
        "ticket": shapes.ZENDESK_TICKET,
        "organization": shapes.ZENDESK_ORGANIZATION,
        "user": shapes.ZENDESK_USER,
        "accounts": shapes.APP_ACCOUNTS,
        "users": shapes.APP_USERS,
        "usage_daily": shapes.APP_USAGE,
    }
    for table, expected in published.items():
        assert set(expected) <= set(columns[table]), (table, set(expected) - set(columns[table]))
    # HubSpot: the published company columns minus the seed's test-only funky property,
    # plus the portal's properties (lifecycle stage, owner, account id property)
    company = set(shapes.HUBSPOT_COMPANY) - {"property_hs_all-funky-a9384-syntax"}
    assert company <= set(columns["company"])
    # Segment: standard columns, and no properties column (custom properties go to one
    # table per event); the account comes from the groups table
    segment_standard = {
        "id",
        "anonymous_id",
        "event",
        "event_text",
        "original_timestamp",
        "received_at",
        "sent_at",
        "timestamp",
        "user_id",
        "uuid_ts",
    }
    assert segment_standard <= set(columns["tracks"])
    assert "properties" not in columns["tracks"] and "context_group_id" not in columns["tracks"]
    assert {"user_id", "group_id", "timestamp"} <= set(columns["groups"])
    # Stripe metadata is one JSON column, not flattened metadata_* columns
    assert not [c for c in columns["subscription_history"] if c.startswith("metadata_")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        (
            "plg_crm_source",
            "pipedrive",
            "plg_crm_source is pipedrive; use generic, hubspot or salesforce",
        ),
        (
            "plg_helpdesk_source",
            "intercom",
            "plg_helpdesk_source is intercom; use generic or zendesk",
        ),
    ],
)
def test_an_unknown_preset_stops_the_build_naming_the_valid_ones(tmp_path, var, value, message):
    completed = run_dbt(
        tmp_path,
        tmp_path / "x.duckdb",
        "compile",
        "--select",
        "stg_crm__companies",
        "stg_helpdesk__support_tickets",
        "--vars",
        f"{{{var}: {value}}}",
        timeout=300,
    )
    assert completed.returncode != 0
    assert message in completed.stdout
