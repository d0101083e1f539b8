"""Segment + Stripe (price table, history mode off) + HubSpot + Zendesk, each table in
exactly the column set its loader publishes (tests/sources/shapes.py cites each one:
Segment's warehouse schema docs; fivetran/dbt_stripe, dbt_hubspot_source and
dbt_zendesk_source integration-test seeds), with our own rows. One `dbt build` of the
whole project, with only documented vars set, must build every mart; the rows that come
out of staging prove each documented mapping."""

from __future__ import annotations

import pytest

from tests.sources.conftest import MARTS, PresetBuild

pytestmark = pytest.mark.slow


@pytest.fixture
def build(segment_hubspot_zendesk_build: PresetBuild) -> PresetBuild:
    """The fixture's tables and rows: tests/sources/conftest.py
    (segment_hubspot_zendesk_tables), built once per session."""
    return segment_hubspot_zendesk_build


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
