"""Issue 17.1: one odd raw row must not stop every signal. The Segment + Stripe + HubSpot +
Zendesk fixture of test_preset_segment_stripe_hubspot_zendesk.py (the loaders' published
column sets), built clean (shared with that module) and with dirty rows added: null keys,
event names and timestamps, a future-dated event, ids repeated with different payloads,
users without an account or with an unknown one, a plan missing from plg_plan_limits,
negative and absurd usage, strings that look like broken encodings. The dirty build runs
to the end with every mart built, plg_data_quality counts each bad row by reason, and the
clean accounts' signals are exactly those of the clean build."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.sources.conftest import (
    MARTS,
    SEGMENT_HUBSPOT_ZENDESK_VARS,
    PresetBuild,
    build_preset,
    segment_hubspot_zendesk_tables,
    write_tables,
)

pytestmark = pytest.mark.slow

# The fixture is tiny, so a few bad rows are a large share: the error share is raised so
# the build's outcome reflects the models; the warning is checked below.
VARS = {**SEGMENT_HUBSPOT_ZENDESK_VARS, "plg_quarantine_error_pct": 0.9}
MOJIBAKE = "M\u00c3\u00bcnchen GmbH \ufffd \u00e2\u20ac\u201d"


def _dirty_tables() -> dict:
    tables = segment_hubspot_zendesk_tables()

    def add(name: str, *rows: dict) -> None:
        spec = tables[name]
        tables[name] = (spec[0], spec[1] + list(rows), *spec[2:])

    event = {"received_at": "2026-10-28 09:00:01", "timestamp": "2026-10-28 09:00:00"}
    add(
        "tracks",
        {**event, "id": None, "user_id": "u1", "event": "project_created"},  # missing_key
        {**event, "id": "d1", "user_id": "u1", "event": None},  # missing_event_name
        {"id": "d2", "user_id": "u1", "event": "project_created", "timestamp": None,
         "received_at": "2026-10-28 09:00:01"},
        # stamped 3 days after plg_as_of (tolerance 24 h): a client clock in the future
        {"id": "d3", "user_id": "u1", "event": "project_created",
         "timestamp": "2026-11-04 09:00:00", "received_at": "2026-10-31 09:00:00"},
        # m3 again, received later, with another payload: the first received copy is kept
        {"id": "m3", "user_id": "u2", "event": "teammate_invited_v2",
         "timestamp": "2026-10-28 09:30:00", "received_at": "2026-10-28 10:00:00"},
        # a new account's user with broken-looking strings: used, counted for acc_3 only
        {**event, "id": "d4", "user_id": "u4", "event": "caf\u00c3\u00a9_opened",
         "event_text": MOJIBAKE},
    )  # fmt: skip
    add(
        "accounts",
        {"account_id": None, "name": "no id", "created_at": "2026-09-01 10:00:00"},
        # acc_2 again, created later, with another payload: the earliest created is kept
        {"account_id": "acc_2", "name": "Globex (dup)", "domain": "globex.example",
         "created_at": "2026-09-05 10:00:00"},
        {"account_id": "acc_3", "name": MOJIBAKE, "domain": "muenchen.example",
         "created_at": "2026-09-10 10:00:00"},
    )  # fmt: skip
    add(
        "users",
        {"user_id": None, "account_id": "acc_1", "created_at": "2026-09-01 10:00:00"},
        {"user_id": "u4", "account_id": "acc_3", "email": "jos\u00c3\u00a9@muenchen.example",
         "name": "Jos\u00c3\u00a9 \ufffd", "role": "admin", "created_at": "2026-09-10 10:00:00",
         "updated_at": "2026-09-10 10:00:00"},
        {"user_id": "u5", "account_id": None, "email": "solo@example.com", "role": "member",
         "created_at": "2026-09-12 10:00:00", "updated_at": "2026-09-12 10:00:00"},
        {"user_id": "u6", "account_id": "acc_404", "role": "member",
         "created_at": "2026-09-12 10:00:00", "updated_at": "2026-09-12 10:00:00"},
    )  # fmt: skip
    add(
        "usage_daily",
        {"account_id": "acc_1", "usage_date": "2026-10-21", "metric": "api_calls", "value": -50},
        {"account_id": "acc_1", "usage_date": "2026-10-22", "metric": "api_calls",
         "value": 10**15},
        {"account_id": "acc_1", "usage_date": "2026-10-23", "metric": None, "value": 5},
        # the same key with a lower value: the largest is kept, as before
        {"account_id": "acc_1", "usage_date": "2026-10-20", "metric": "api_calls", "value": 900},
    )  # fmt: skip
    sub = {"_fivetran_active": "true", "created": "2026-09-10 10:00:00", "livemode": "true",
           "status": "active", "current_period_start": "2026-10-10 00:00:00",
           "current_period_end": "2026-11-10 00:00:00"}  # fmt: skip
    add(
        "subscription_history",
        {**sub, "id": "sub_3", "customer_id": "cus_3", "metadata": '{"account_id": "acc_3"}',
         "quantity": 1},
        {**sub, "id": "sub_x", "customer_id": "cus_x", "metadata": "{}", "quantity": 1},
    )  # fmt: skip
    add(
        "subscription_item",
        {"id": "si_3", "plan_id": "price_gold", "quantity": 1, "subscription_id": "sub_3"},
        {"id": "si_x", "plan_id": "price_pro_m", "quantity": 1, "subscription_id": "sub_x"},
    )
    add(
        "price",
        {"id": "price_gold", "nickname": "Legacy Gold", "recurring_interval": "month",
         "recurring_interval_count": 1, "unit_amount": 99900},
    )  # fmt: skip
    # no organization and an unknown requester: the account cannot be resolved
    add("ticket", {"id": 9, "created_at": "2026-10-22 09:00:00", "requester_id": 999})
    return tables


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> PresetBuild:
    root = tmp_path_factory.mktemp("dirty")
    db_path = root / "warehouse.duckdb"
    write_tables(db_path, root, _dirty_tables())
    return build_preset(root, db_path, VARS)


def test_the_dirty_build_runs_to_the_end_with_every_mart(dirty: PresetBuild):
    assert dirty.returncode == 0, dirty.output[-4000:]
    assert not dirty.failures()
    assert set(MARTS) <= dirty.built_models()
    assert "plg_data_quality" in dirty.built_models()
    # the share test warns: this tiny fixture is far above 1% quarantined
    warned = [node for node, status in dirty.statuses.items() if status == "warn"]
    assert any("data_quality_quarantine_share_warn" in node for node in warned), warned


def test_bad_rows_are_counted_by_reason(dirty: PresetBuild):
    rows = dirty.rows(
        "select table_name, reason, action, record_key, row_count from main.plg_data_quality"
    )
    counted: Counter[tuple[str, str, str]] = Counter()
    for table, reason, action, _key, count in rows:
        counted[(table, reason, action)] += count
    assert counted == {
        ("tracks", "missing_key", "quarantined"): 1,
        ("tracks", "missing_event_name", "quarantined"): 1,
        ("tracks", "missing_timestamp", "quarantined"): 1,
        ("tracks", "future_timestamp", "quarantined"): 1,
        ("tracks", "duplicate_id_different_payload", "deduplicated"): 1,
        ("accounts", "missing_key", "quarantined"): 1,
        ("accounts", "duplicate_id_different_payload", "deduplicated"): 1,
        ("users", "missing_key", "quarantined"): 1,
        ("users", "user_without_account", "kept"): 1,
        ("users", "account_not_found", "kept"): 1,
        ("usage_daily", "negative_value", "quarantined"): 1,
        ("usage_daily", "absurd_value", "quarantined"): 1,
        ("usage_daily", "missing_metric", "quarantined"): 1,
        ("usage_daily", "duplicate_key_different_value", "deduplicated"): 1,
        ("subscription_history", "unresolved_account", "quarantined"): 1,
        ("subscription_history", "plan_not_in_plg_plan_limits", "kept"): 1,
        ("tickets", "unresolved_account", "quarantined"): 1,
    }
    keys = {(r[0], r[1]): r[3] for r in rows}
    assert keys[("tracks", "future_timestamp")] == "d3"
    assert keys[("tracks", "duplicate_id_different_payload")] == "m3"
    assert keys[("users", "user_without_account")] == "u5"
    assert keys[("subscription_history", "plan_not_in_plg_plan_limits")] == "sub_3"


def test_clean_accounts_signals_are_unchanged(
    segment_hubspot_zendesk_build: PresetBuild, dirty: PresetBuild
):
    clean = segment_hubspot_zendesk_build
    assert clean.returncode == 0, clean.output[-4000:]
    for model in (
        "account_signals",
        "account_pql_scores",
        "account_churn_risk",
        "account_plan_limits",
        "user_activation",
    ):
        sql = f"select * from main.{model} where account_id in ('acc_1', 'acc_2') order by all"
        assert dirty.rows(sql) == clean.rows(sql), model
    # the kept copy of m3 is the first received one
    kept = dirty.rows("select event_name from main.stg_segment__tracks where event_id = 'm3'")
    assert kept == [("teammate_invited",)]


def test_users_without_an_account_are_kept(dirty: PresetBuild):
    rows = dirty.rows(
        "select user_id, account_id from main.stg_app__users where user_id in ('u5', 'u6')"
        " order by 1"
    )
    assert rows == [("u5", None), ("u6", "acc_404")]
