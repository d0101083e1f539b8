"""Each source preset (docs/sources.md) builds staging on DuckDB from small hand-made tables
in that loader's shape: Segment and RudderStack `tracks`; a generic CRM table, HubSpot
`company` + `owner` and Salesforce `account` + `user` as Fivetran lands them. Staging
output is the same whatever the preset, so every model downstream is unaware of it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sync.demo.generator import generate
from tests.demo.conftest import run_dbt

REPO = Path(__file__).resolve().parents[2]

SEGMENT_TRACKS = """
create table raw.tracks as select * from (values
    ('m1', 'anon1', 'u1', 'acc_1', 'project_created', 'Project Created',
     timestamp '2026-10-01 10:00:00', timestamp '2026-10-01 10:00:02', '{"plan": "free"}'),
    ('m1', 'anon1', 'u1', 'acc_1', 'project_created', 'Project Created',
     timestamp '2026-10-01 10:00:00', timestamp '2026-10-01 11:00:00', '{"plan": "free"}'),
    ('m2', 'anon2', null, null, 'page_viewed', 'Page Viewed',
     timestamp '2026-10-01 10:05:00', timestamp '2026-10-01 10:05:01', null)
) t(id, anonymous_id, user_id, context_group_id, event, event_text, "timestamp", received_at,
    properties)
"""

# RudderStack: same flattened context_* columns, no properties column (custom properties go
# to per-event tables), plus sent_at / original_timestamp / uuid_ts.
RUDDERSTACK_TRACKS = """
create table raw.tracks as select * from (values
    ('r1', 'anon1', 'u1', 'acc_1', 'project_created', 'Project Created',
     timestamp '2026-10-01 10:00:00', timestamp '2026-10-01 10:00:02',
     timestamp '2026-10-01 10:00:01', timestamp '2026-10-01 10:00:00',
     timestamp '2026-10-01 10:10:00'),
    ('r1', 'anon1', 'u1', 'acc_1', 'project_created', 'Project Created',
     timestamp '2026-10-01 10:00:00', timestamp '2026-10-01 12:00:00',
     timestamp '2026-10-01 10:00:01', timestamp '2026-10-01 10:00:00',
     timestamp '2026-10-01 12:10:00')
) t(id, anonymous_id, user_id, context_group_id, event, event_text, "timestamp", received_at,
    sent_at, original_timestamp, uuid_ts)
"""

GENERIC_CRM = """
create table raw.crm_companies as select * from (values
    ('c1', 'acc_1', 'Acme', 'Customer', 'Owner@Example.com',
     timestamp '2026-01-01', timestamp '2026-09-01'),
    ('c2', 'acc_1', 'Acme (old)', 'lead', 'x@example.com',
     timestamp '2025-01-01', timestamp '2025-02-01')
) t(company_id, account_id, name, lifecycle_stage, owner_email, created_at, updated_at)
"""

HUBSPOT_CRM = """
create table raw.company as select * from (values
    (101::bigint, 'Acme', 'customer', '9001', timestamp '2026-01-01', timestamp '2026-09-01',
     'acc_1', false, false),
    (102::bigint, 'Acme dup', 'lead', '9002', timestamp '2026-01-01', timestamp '2026-10-01',
     'acc_1', true, false),
    (103::bigint, 'Globex', 'opportunity', null, timestamp '2026-02-01', timestamp '2026-03-01',
     'acc_2', false, false)
) t(id, property_name, property_lifecyclestage, property_hubspot_owner_id, property_createdate,
    property_hs_lastmodifieddate, property_plg_account_id, is_deleted, _fivetran_deleted);
create table raw.owner as select * from (values
    ('9001', 'Owner@Example.com', 'Olga', 'Owner'), ('9002', 'x@example.com', 'X', 'Y')
) t(owner_id, email, first_name, last_name);
"""

SALESFORCE_CRM = """
create table raw.account as select * from (values
    ('001A', 'Acme', 'Customer', '005A', timestamp '2026-01-01', timestamp '2026-09-01',
     'acc_1', false, false),
    ('001B', 'Acme gone', 'Prospect', '005A', timestamp '2026-01-01', timestamp '2026-10-01',
     'acc_1', false, true),
    ('001C', 'No product account', 'Prospect', '005A', timestamp '2026-01-01',
     timestamp '2026-10-01', null, false, false)
) t(id, name, type, owner_id, created_date, last_modified_date, plg_account_id_c, is_deleted,
    _fivetran_deleted);
create table raw."user" as select * from (values ('005A', 'Owner@Example.com', 'Olga'))
    t(id, email, first_name);
"""


def _build_staging(
    tmp_path: Path, tables_sql: list[str], dbt_vars: str
) -> duckdb.DuckDBPyConnection:
    db_path = tmp_path / "presets.duckdb"
    con = duckdb.connect(str(db_path))
    con.execute("create schema raw")
    for sql in tables_sql:
        con.execute(sql)
    con.close()
    completed = run_dbt(
        tmp_path,
        db_path,
        "build",
        "--select",
        "stg_segment__tracks",
        "stg_crm__companies",
        "--indirect-selection",
        "cautious",
        "--vars",
        dbt_vars,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    return duckdb.connect(str(db_path), read_only=True)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


EVENTS = "select event_id, user_id, event_account_id, event_name, received_at, properties from main.stg_segment__tracks"
COMPANIES = "select crm_company_id, account_id, crm_company_name, lifecycle_stage, owner_email from main.stg_crm__companies order by account_id"


@pytest.mark.slow
def test_segment_and_generic_crm_default_preset(tmp_path):
    con = _build_staging(tmp_path, [SEGMENT_TRACKS, GENERIC_CRM], "{}")
    events = _rows(con, EVENTS)
    assert len(events) == 1  # redelivery deduplicated, anonymous event dropped
    assert events[0][:4] == ("m1", "u1", "acc_1", "project_created")
    assert events[0][5] == '{"plan": "free"}'
    assert _rows(con, COMPANIES) == [("c1", "acc_1", "Acme", "customer", "owner@example.com")]


@pytest.mark.slow
def test_rudderstack_events_and_hubspot_via_fivetran(tmp_path):
    con = _build_staging(
        tmp_path,
        [RUDDERSTACK_TRACKS, HUBSPOT_CRM],
        "{plg_event_source: rudderstack, plg_crm_source: hubspot}",
    )
    events = _rows(con, EVENTS)
    assert len(events) == 1
    assert events[0][:4] == ("r1", "u1", "acc_1", "project_created")
    assert str(events[0][4]) == "2026-10-01 10:00:02"  # first delivery kept
    assert events[0][5] is None  # RudderStack has no properties column
    # the deleted duplicate is dropped; the owner id resolves to an email; no owner -> null
    assert _rows(con, COMPANIES) == [
        ("101", "acc_1", "Acme", "customer", "owner@example.com"),
        ("103", "acc_2", "Globex", "opportunity", None),
    ]


@pytest.mark.slow
def test_salesforce_accounts_via_fivetran(tmp_path):
    con = _build_staging(tmp_path, [SEGMENT_TRACKS, SALESFORCE_CRM], "{plg_crm_source: salesforce}")
    # the _fivetran_deleted row and the account without a product account id are left out
    assert _rows(con, COMPANIES) == [("001A", "acc_1", "Acme", "customer", "owner@example.com")]


def test_the_demo_data_is_in_the_default_preset_shape(tmp_path):
    db = tmp_path / "demo.duckdb"
    generate(db, scale="tiny", seed=3)
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = {
            (t, c)
            for t, c in con.execute(
                "select table_name, column_name from information_schema.columns"
                " where table_schema = 'raw'"
            ).fetchall()
        }
    finally:
        con.close()
    segment = {
        "id",
        "user_id",
        "context_group_id",
        "event",
        "timestamp",
        "received_at",
        "properties",
    }
    generic_crm = {
        "company_id",
        "account_id",
        "name",
        "lifecycle_stage",
        "owner_email",
        "updated_at",
    }
    assert {("tracks", c) for c in segment} <= columns
    assert {("crm_companies", c) for c in generic_crm} <= columns


@pytest.mark.slow
def test_an_unknown_preset_stops_the_build_naming_the_valid_ones(tmp_path):
    completed = run_dbt(
        tmp_path,
        tmp_path / "x.duckdb",
        "compile",
        "--select",
        "stg_crm__companies",
        "--vars",
        "{plg_crm_source: pipedrive}",
        timeout=300,
    )
    assert completed.returncode != 0
    assert "plg_crm_source is pipedrive; use generic, hubspot or salesforce" in completed.stdout
