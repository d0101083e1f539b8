"""RudderStack + Stripe (legacy plan table, history mode on, account id in customer
metadata) + Salesforce + the generic helpdesk table, each in the column set its loader
publishes (tests/sources/shapes.py: RudderStack's warehouse schema docs;
fivetran/dbt_stripe and dbt_salesforce_source integration-test seeds, plus the columns
Fivetran's history mode adds). One `dbt build` of the whole project with documented vars
only; then the messages a user sees when a required column is missing."""

from __future__ import annotations

import json

import pytest

from tests.demo.conftest import run_dbt
from tests.sources import shapes
from tests.sources.conftest import MARTS, PresetBuild, build_preset, product_tables, write_tables

pytestmark = pytest.mark.slow

VARS = {
    "plg_event_source": "rudderstack",
    "plg_stripe_price_table": "plan",
    "plg_stripe_account_id_from": "customer_metadata",
    "plg_crm_source": "salesforce",
    "plg_helpdesk_source": "generic",
}


def _tables() -> dict:
    tables = product_tables()
    tables["tracks"] = (
        shapes.RUDDERSTACK_TRACKS,
        [
            # RudderStack appends: an SDK retry lands the same id twice
            {
                "id": "r1",
                "user_id": "u1",
                "event": "project_created",
                "channel": "web",
                "timestamp": "2026-10-20 10:00:00",
                "received_at": "2026-10-20 10:00:02",
                "uuid_ts": "2026-10-20 10:10:00",
            },
            {
                "id": "r1",
                "user_id": "u1",
                "event": "project_created",
                "channel": "web",
                "timestamp": "2026-10-20 10:00:00",
                "received_at": "2026-10-20 12:00:00",
                "uuid_ts": "2026-10-20 12:10:00",
            },
            {
                "id": "r2",
                "user_id": "u3",
                "event": "paywall_hit",
                "channel": "web",
                "timestamp": "2026-10-29 09:00:00",
                "received_at": "2026-10-29 09:00:01",
                "uuid_ts": "2026-10-29 09:10:00",
            },
        ],
    )
    tables["groups"] = (
        shapes.RUDDERSTACK_GROUPS,
        [
            {
                "id": "g1",
                "user_id": "u1",
                "group_id": "acc_1",
                "channel": "web",
                "timestamp": "2026-08-01 10:00:05",
                "received_at": "2026-08-01 10:00:06",
            }
        ],
    )
    sub = {
        "customer_id": "cus_1",
        "created": "2026-08-01 10:00:00",
        "livemode": "true",
        "metadata": "{}",
        "current_period_start": "2026-10-15 00:00:00",
        "current_period_end": "2026-11-15 00:00:00",
        "cancel_at_period_end": "false",
    }
    tables["subscription_history"] = (
        shapes.STRIPE_SUBSCRIPTION_HISTORY,
        [
            # history mode: 10 seats, then 4 seats from 2026-10-25 (a seat reduction)
            {
                **sub,
                "id": "sub_1",
                "_fivetran_active": "false",
                "quantity": 10,
                "status": "active",
                "_fivetran_start": "2026-08-01 10:00:00",
                "_fivetran_end": "2026-10-25 09:59:59.999",
            },
            {
                **sub,
                "id": "sub_1",
                "_fivetran_active": "true",
                "quantity": 4,
                "status": "active",
                "_fivetran_start": "2026-10-25 10:00:00",
                "_fivetran_end": "9999-12-31 23:59:59",
            },
            {
                **sub,
                "id": "sub_2",
                "customer_id": "cus_2",
                "_fivetran_active": "true",
                "quantity": 2,
                "status": "active",
                "created": "2026-09-01 10:00:00",
                "_fivetran_start": "2026-09-01 10:00:00",
                "_fivetran_end": "9999-12-31 23:59:59",
            },
        ],
        shapes.STRIPE_HISTORY_MODE,
    )
    tables["subscription_item"] = (
        shapes.STRIPE_SUBSCRIPTION_ITEM,
        [
            {
                "id": "si_1",
                "plan_id": "starter_quarterly",
                "quantity": 4,
                "subscription_id": "sub_1",
                "metadata": "{}",
            },
            {
                "id": "si_2",
                "plan_id": "pro_monthly",
                "quantity": 2,
                "subscription_id": "sub_2",
                "metadata": "{}",
            },
        ],
    )
    tables["plan"] = (
        shapes.STRIPE_PLAN,
        [
            # a plan without a nickname: its id is the plan key (plg_stripe_plan_name_columns)
            {
                "id": "starter_quarterly",
                "active": "true",
                "amount": 4500,
                "currency": "usd",
                "interval": "month",
                "interval_count": 3,
                "nickname": "Starter",
            },
            {
                "id": "pro_monthly",
                "active": "true",
                "amount": 4000,
                "currency": "usd",
                "interval": "month",
                "interval_count": 1,
            },
        ],
    )
    tables["customer"] = (
        shapes.STRIPE_CUSTOMER,
        [
            {"id": "cus_1", "metadata": '{"account_id": "acc_1"}'},
            {"id": "cus_2", "metadata": '{"account_id": "acc_2"}'},
        ],
    )
    tables["account"] = (
        shapes.SALESFORCE_ACCOUNT,
        [
            {
                "id": "001A",
                "name": "Acme",
                "type": "Customer",
                "owner_id": "005A",
                "is_deleted": "false",
                "_fivetran_synced": "2026-10-31 20:00:00",
                "_fivetran_active": "true",
                "plg_account_id_c": "acc_1",
            },
            # history mode: an older version of the same account is not active
            {
                "id": "001A",
                "name": "Acme (old name)",
                "type": "Prospect",
                "owner_id": "005A",
                "is_deleted": "false",
                "_fivetran_synced": "2026-09-01 20:00:00",
                "_fivetran_active": "false",
                "plg_account_id_c": "acc_1",
            },
            {
                "id": "001B",
                "name": "Globex",
                "type": "Prospect",
                "is_deleted": "true",
                "_fivetran_synced": "2026-10-31 20:00:00",
                "_fivetran_active": "true",
                "plg_account_id_c": "acc_2",
            },
        ],
        ["plg_account_id_c"],
    )
    tables["user"] = (
        shapes.SALESFORCE_USER,
        [
            {
                "_fivetran_deleted": "false",
                "id": "005A",
                "email": "Owner@Vendor.example",
                "first_name": "Olga",
                "is_active": "true",
                "_fivetran_active": "true",
            }
        ],
    )
    tables["support_tickets"] = (
        shapes.GENERIC_TICKETS,
        [
            {
                "ticket_id": "t1",
                "account_id": "acc_1",
                "requester_user_id": "u1",
                "created_at": "2026-10-20 09:00:00",
                "priority": "High",
                "status": "open",
                "sentiment_score": -3.5,
            }
        ],
    )
    return tables


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> PresetBuild:
    root = tmp_path_factory.mktemp("preset_rudderstack_salesforce")
    db_path = root / "warehouse.duckdb"
    write_tables(db_path, root, _tables())
    result = build_preset(root, db_path, VARS)
    return result


def test_every_mart_builds(build: PresetBuild):
    assert build.returncode == 0, build.output[-4000:]
    assert not build.failures()
    assert set(MARTS) <= build.built_models()


def test_rudderstack_retries_deduplicated_and_received_at_kept(build):
    rows = build.rows(
        "select event_id, event_account_id, received_at from main.stg_segment__tracks order by 1"
    )
    assert [(r[0], r[1], str(r[2])) for r in rows] == [
        ("r1", "acc_1", "2026-10-20 10:00:02"),
        ("r2", None, "2026-10-29 09:00:01"),
    ]


def test_stripe_history_versions_seats_plan_and_mrr_per_interval_count(build):
    rows = build.rows(
        "select subscription_id, account_id, plan, seats, round(mrr, 2), is_current_version"
        " from main.stg_stripe__subscription_history order by subscription_id, valid_from"
    )
    # starter: 45.00 per seat every 3 months = 15.00 per seat-month
    assert rows == [
        ("sub_1", "acc_1", "starter", 10, 150.0, False),
        ("sub_1", "acc_1", "starter", 4, 60.0, True),
        ("sub_2", "acc_2", "pro_monthly", 2, 80.0, True),
    ]


def test_the_seat_reduction_in_the_versions_is_a_downgrade(build):
    rows = build.rows(
        "select account_id, change_kind from main.int_subscription_changes"
        " where change_kind <> 'created'"
    )
    assert rows == [("acc_1", "seat_reduction")]


def test_salesforce_active_version_and_deleted_accounts(build):
    rows = build.rows(
        "select crm_company_id, account_id, crm_company_name, lifecycle_stage, owner_email,"
        " created_at from main.stg_crm__companies"
    )
    # created_date / last_modified_date are not in the published columns: created_at is null
    assert rows == [("001A", "acc_1", "Acme", "customer", "owner@vendor.example", None)]


def test_generic_helpdesk_sentiment_clamped(build):
    rows = build.rows(
        "select ticket_id, priority, sentiment_score from main.stg_helpdesk__support_tickets"
    )
    assert rows == [("t1", "high", -1.0)]


@pytest.mark.parametrize(
    ("broken_vars", "expected"),
    [
        (
            {"plg_salesforce_account_id_field": "product_account_c"},  # no such Account field
            '"account" has no column `product_account_c`, which stg_crm__companies needs; '
            "var plg_salesforce_account_id_field",
        ),
        (
            {"plg_stripe_price_table": "price"},  # this connector lands `plan`, not `price`
            'source table "warehouse"."raw"."price" does not exist; it is set by var '
            "plg_stripe_price_table (price)",
        ),
    ],
)
def test_a_missing_required_column_or_table_names_it_and_the_setting(
    build, tmp_path, broken_vars, expected
):
    completed = run_dbt(
        tmp_path,
        build.path,
        "compile",
        "--select",
        "staging",
        "--vars",
        json.dumps({"plg_as_of": "2026-11-01", **VARS, **broken_vars}),
        timeout=300,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert expected in output, output[-3000:]
