"""Segment + Stripe (price table, history mode off) + HubSpot + Zendesk, each table in
exactly the column set its loader publishes (tests/sources/shapes.py cites each one:
Segment's warehouse schema docs; fivetran/dbt_stripe, dbt_hubspot_source and
dbt_zendesk_source integration-test seeds), with our own rows. One `dbt build` of the
whole project, with only documented vars set, must build every mart; the rows that come
out of staging prove each documented mapping."""

from __future__ import annotations

import pytest

from tests.sources import shapes
from tests.sources.conftest import MARTS, PresetBuild, build_preset, product_tables, write_tables

pytestmark = pytest.mark.slow


def _tables() -> dict:
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


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> PresetBuild:
    root = tmp_path_factory.mktemp("preset_segment_hubspot_zendesk")
    db_path = root / "warehouse.duckdb"
    write_tables(db_path, root, _tables())
    return build_preset(
        root,
        db_path,
        {
            # documented vars only (docs/sources.md); segment, hubspot and zendesk are defaults
            "plg_stripe_price_table": "price",
            "plg_zendesk_ratings_from": "ticket_field_history",
        },
    )


def test_every_mart_builds(build: PresetBuild):
    assert build.returncode == 0, build.output[-4000:]
    assert not build.failures()
    assert set(MARTS) <= build.built_models()


def test_segment_events_deduplicated_with_the_account_from_the_latest_group_call(build):
    rows = build.rows(
        "select event_id, user_id, event_account_id, properties from main.stg_segment__tracks"
        " order by event_id"
    )
    assert [r[0] for r in rows] == ["m1", "m3", "m4", "m5", "m6"]  # redelivery, anonymous gone
    by_id = {r[0]: r for r in rows}
    assert by_id["m1"][2] == "acc_1"
    assert by_id["m6"][2] == "acc_2"  # latest group call wins over acc_old
    assert by_id["m3"][2] is None  # u2 made no group call: users.account_id is used downstream
    assert all(r[3] is None for r in rows)  # Segment's tracks has no properties column


def test_stripe_mrr_sums_items_normalised_to_a_month_and_plan_is_the_main_item(build):
    rows = build.rows(
        "select subscription_id, account_id, status, plan, plan_interval, seats, round(mrr, 2),"
        " is_cancel_at_period_end, is_current_version from main.stg_stripe__subscription_history"
        " order by 1"
    )
    # sub_1: 5 x 40.00 per month + 240.00 per year / 12 = 220.00; account from metadata JSON
    assert rows == [
        ("sub_1", "acc_1", "active", "pro", "month", 5, 220.0, True, True),
        ("sub_2", "acc_2", "trialing", "pro", "month", 3, 0.0, False, True),
    ]


def test_hubspot_absent_properties_are_null_and_deleted_companies_dropped(build):
    rows = build.rows(
        "select crm_company_id, account_id, crm_company_name, lifecycle_stage, owner_email"
        " from main.stg_crm__companies order by account_id"
    )
    assert rows == [("101", "acc_1", "Acme", None, None), ("103", "acc_2", "Globex", None, None)]


def test_zendesk_tickets_map_to_accounts_users_and_ratings(build):
    rows = build.rows(
        "select ticket_id, account_id, requester_user_id, priority, status, sentiment_score"
        " from main.stg_helpdesk__support_tickets order by ticket_id"
    )
    assert rows == [
        ("1", "acc_1", "u1", "high", "solved", -1.0),  # latest rating: bad
        ("2", "acc_1", "u1", "normal", "open", None),
        ("3", "acc_2", "u3", "low", "solved", 1.0),  # organization from the requester
    ]


def test_signals_cover_both_accounts(build):
    rows = build.rows("select account_id, plan, mrr from main.account_signals order by 1")
    assert [(a, p) for a, p, _ in rows] == [("acc_1", "pro"), ("acc_2", "pro")]
