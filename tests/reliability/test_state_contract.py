"""State tables altered by hand: a clear message naming table, column and fix, and a repair.

Issue 15, item 5: after a column of a state table was dropped or retyped by hand, every later
run failed with a raw DuckDB binder error ("Referenced column expires_at not found", exit 3).
Now every command that opens the state schema checks the five tables against the contract
in docs/state-tables.md first, and `plg-sync repair-state [--apply]` rebuilds what can be
rebuilt without resending anything (and says so when something cannot).
"""

from __future__ import annotations

import pytest

from tests.sync.conftest import Project


def _first_run(project: Project) -> None:
    project.cli("run")
    assert len(project.sent_lines()) == 50
    project.clear_sent()


@pytest.mark.parametrize(
    ("table", "column", "alter", "shown"),
    [
        (
            "sync_leases",
            "expires_at",
            "drop column expires_at",
            "expires_at (timestamp) is missing",
        ),
        ("sync_state", "synced_at", "alter column synced_at type varchar", "synced_at is VARCHAR"),
        ("sync_runs", "status", "drop column status", "status (string) is missing"),
        ("sync_errors", "attempt", "alter column attempt type varchar", "attempt is VARCHAR"),
        ("sync_plans", "hash_after", "drop column hash_after", "hash_after (string) is missing"),
    ],
)
@pytest.mark.parametrize("command", ["run", "plan", "status"])
def test_a_state_table_altered_by_hand_is_named_with_its_column_and_the_fix(
    project: Project, table: str, column: str, alter: str, shown: str, command: str
) -> None:
    _first_run(project)
    project.update_model("score < 5", "plan = 'pro'")
    project.sql(f"alter table plg_sync.{table} {alter}")

    result = project.cli(command, expect=3)

    assert f"plg_sync.{table}: column {shown}" in result.output, result.output
    assert "repair-state" in result.output
    assert "Binder Error" not in result.output and "Traceback" not in result.output
    assert project.sent_lines() == []


def test_repair_state_adds_a_dropped_column_and_resends_nothing(project: Project) -> None:
    _first_run(project)
    project.sql("alter table plg_sync.sync_leases drop column expires_at")
    project.sql("alter table plg_sync.sync_state drop column synced_at")

    dry = project.cli("repair-state")
    assert "plg_sync.sync_leases: column expires_at (timestamp) is missing" in dry.output
    assert "plg_sync.sync_state: column synced_at (timestamp) is missing" in dry.output
    assert "nothing is resent" in dry.output and "--apply" in dry.output
    project.cli("run", expect=3)  # the dry run changed nothing

    project.cli("repair-state", "--apply")
    project.cli("run")
    assert project.sent_lines() == []  # state kept: no record resent
    assert len(project.state()) == 50
    project.cli("repair-state").output.startswith("state tables match the contract")


def test_repair_state_casts_a_retyped_column_back_and_keeps_a_copy(project: Project) -> None:
    _first_run(project)
    project.sql("alter table plg_sync.sync_state alter column synced_at type varchar")
    project.sql("alter table plg_sync.sync_runs alter column planned type double")

    out = project.cli("repair-state", "--apply").output

    assert "sync_state__before_repair_" in out and "Nothing is resent" in out
    types = dict(
        project.sql(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'plg_sync' and table_name = 'sync_state'"
        )
    )
    assert types["synced_at"] == "TIMESTAMP"
    backups = project.sql(
        "select table_name from information_schema.tables where table_schema = 'plg_sync'"
        " and table_name like 'sync_state__before_repair_%'"
    )
    assert len(backups) == 1
    project.cli("run")
    assert project.sent_lines() == []
    assert len(project.state()) == 50


def test_a_lost_hash_column_cannot_be_rebuilt_and_the_next_run_is_a_guarded_mass_change(
    project: Project,
) -> None:
    _first_run(project)
    project.sql("alter table plg_sync.sync_state drop column sync_hash")

    out = project.cli("repair-state", "--apply").output
    assert "cannot be rebuilt" in out and "--full-resync" in out

    blocked = project.cli("run", expect=5)  # state is empty now: a mass change, not silent
    assert "--full-resync" in blocked.output
    assert project.sent_lines() == []
    project.cli("run", "--full-resync")
    assert len(project.sent_lines()) == 50


def test_repair_state_refuses_while_a_run_holds_a_lease(project: Project) -> None:
    _first_run(project)
    project.sql(
        "insert into plg_sync.sync_leases (sync_name, holder, acquired_at, expires_at)"
        " values ('people', 'other-run', now()::timestamp, now()::timestamp + interval 1 hour)"
    )
    project.sql("alter table plg_sync.sync_state drop column run_id")
    result = project.cli("repair-state", "--apply", expect=4)
    assert "repair-state changes nothing while a run is in progress" in result.output
    assert "run_id" not in {c for (c,) in project.sql(
        "select column_name from information_schema.columns where table_name = 'sync_state'"
    )}  # fmt: skip


@pytest.mark.parametrize(
    ("warehouse_type", "logical"),
    [
        ("VARCHAR", "string"), ("TEXT", "string"), ("STRING", "string"),
        ("BIGINT", "integer"), ("NUMBER(38,0)", "integer"), ("INTEGER", "integer"),
        ("INT64", "integer"), ("DOUBLE", "double"), ("FLOAT", "double"),
        ("FLOAT64", "double"), ("NUMBER(10,2)", "double"), ("BOOLEAN", "boolean"),
        ("BOOL", "boolean"), ("TIMESTAMP", "timestamp"), ("TIMESTAMP_NTZ", "timestamp"),
    ],
)  # fmt: skip
def test_the_type_names_of_each_warehouse_map_to_the_contract_types(
    warehouse_type: str, logical: str
) -> None:
    """DuckDB, Snowflake and BigQuery spellings of the types in docs/state-tables.md."""
    from sync.state_sql import type_family

    assert type_family(warehouse_type) == logical


def test_a_zoned_timestamp_is_not_the_contract_type() -> None:
    # naive-UTC comparisons against a zoned column shift by the session's time zone
    from sync.state_sql import type_family

    assert type_family("TIMESTAMP WITH TIME ZONE") != "timestamp"
    assert type_family("TIMESTAMP_LTZ") != "timestamp"


def test_every_contract_table_is_documented() -> None:
    from sync.state_sql import STATE_TABLES
    from tests.reliability.conftest import REPO

    doc = (REPO / "docs" / "state-tables.md").read_text()
    for table, columns in STATE_TABLES.items():
        assert f"`{table}`" in doc
        for column, _ in columns:
            assert f"`{column}`" in doc, (table, column)
