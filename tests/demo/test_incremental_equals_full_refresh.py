"""The incremental path is only worth having if it gives the same answer as a rebuild.

Build on generated data, append one new day of events and usage, build incrementally,
then rebuild a copy from scratch for the same as-of day: every incremental model and
every mart must hold exactly the same rows.

The first build already holds events whose client clock ran days ahead (future-dated),
and the new load brings events that arrived late, one inside the lookback and one far
older than it (issue 17.2): incremental windows follow what the warehouse received
(`received_at`), so neither a future timestamp nor an old one can hide a late event.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from sync.demo.generator import generate
from tests.demo.conftest import run_dbt

AS_OF = dt.date(2026, 11, 1)
COMPARED = [
    "stg_segment__tracks",
    "int_user_event_daily",
    "int_user_daily_activity",
    "int_account_daily_activity",
    "int_account_pql_signal_daily",
    "account_health_daily",
    "account_pql_scores",
    "account_churn_risk",
    "account_plan_limits",
    "account_signals",
    "sync_signal_events",
]


def _dbt(root: Path, db: Path, *args: str) -> None:
    completed = run_dbt(root, db, *args)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]


def _add_future_dated_events(db: Path, day: dt.date) -> None:
    """Five events received the day before `day` whose client clock ran three days
    ahead: their `timestamp` lies two days after `day`, the as-of date of the first build."""
    con = duckdb.connect(str(db))
    try:
        con.execute(
            """
            insert into raw.tracks by name
            select * replace (
                md5(id || 'future') as id,
                "timestamp" + interval 3 day as "timestamp",
                original_timestamp + interval 3 day as original_timestamp,
                sent_at + interval 3 day as sent_at
            )
            from raw.tracks where cast(received_at as date) = ? order by id limit 5
            """,
            [day - dt.timedelta(days=1)],
        )
    finally:
        con.close()


def _append_day(db: Path, day: dt.date) -> None:
    """One more day of events and usage: yesterday's, shifted by a day, with new ids;
    plus late events received on `day`: 50 that happened two days earlier (inside the
    lookback) and 20 that happened six days earlier (outside it)."""
    con = duckdb.connect(str(db))
    try:
        con.execute(
            """
            insert into raw.tracks by name
            select * replace (
                md5(id || 'next') as id,
                "timestamp" + interval 1 day as "timestamp",
                original_timestamp + interval 1 day as original_timestamp,
                sent_at + interval 1 day as sent_at,
                received_at + interval 1 day as received_at,
                uuid_ts + interval 1 day as uuid_ts
            )
            from raw.tracks where cast("timestamp" as date) = ?
            """,
            [day - dt.timedelta(days=1)],
        )
        con.execute(
            """
            insert into raw.tracks by name
            select * replace (
                md5(id || 'late') as id,
                ?::timestamp + interval 2 hour as received_at,
                ?::timestamp + interval 3 hour as uuid_ts
            )
            from raw.tracks where cast("timestamp" as date) = ? limit 50
            """,
            [day, day, day - dt.timedelta(days=2)],
        )
        con.execute(
            """
            insert into raw.tracks by name
            select * replace (
                md5(id || 'very late') as id,
                ?::timestamp + interval 3 hour as received_at,
                ?::timestamp + interval 4 hour as uuid_ts
            )
            from raw.tracks where cast("timestamp" as date) = ? order by id limit 20
            """,
            [day, day, day - dt.timedelta(days=6)],
        )
        con.execute(
            "insert into raw.usage_daily select account_id, usage_date + 1, metric, value "
            "from raw.usage_daily where usage_date = ?",
            [day - dt.timedelta(days=1)],
        )
    finally:
        con.close()


def _rows(db: Path, table: str) -> set[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(f"select * from main.{table}")
        names = [d[0] for d in cursor.description]
        return {tuple(zip(names, row, strict=True)) for row in cursor.fetchall()}
    finally:
        con.close()


def _differences(left: set[tuple], right: set[tuple]) -> list[str]:
    """For rows whose first column (the key) matches, the columns that differ."""
    by_key = {row[0][1]: dict(row) for row in right}
    out = []
    for row in left - right:
        other = by_key.get(row[0][1])
        if other is None:
            out.append(f"{row[0][1]}: only on one side")
            continue
        out += [f"{row[0][1]}.{k}: {v!r} != {other[k]!r}" for k, v in row if other[k] != v]
    return out[:10]


@pytest.mark.slow
def test_one_new_day_incremental_build_equals_a_full_rebuild(tmp_path: Path) -> None:
    incremental_db = tmp_path / "incremental.duckdb"
    generate(incremental_db, scale="tiny", seed=5, as_of=AS_OF)
    _add_future_dated_events(incremental_db, AS_OF)
    _dbt(tmp_path, incremental_db, "build", "--vars", f'{{plg_as_of: "{AS_OF}"}}')

    _append_day(incremental_db, AS_OF)
    next_day = f'{{plg_as_of: "{AS_OF + dt.timedelta(days=1)}"}}'
    _dbt(tmp_path, incremental_db, "run", "--vars", next_day)

    rebuilt_db = tmp_path / "rebuilt.duckdb"
    shutil.copy(incremental_db, rebuilt_db)
    _dbt(tmp_path, rebuilt_db, "run", "--full-refresh", "--vars", next_day)

    for table in COMPARED:
        incremental, rebuilt = _rows(incremental_db, table), _rows(rebuilt_db, table)
        assert incremental == rebuilt, (
            f"{table}: {len(incremental - rebuilt)} rows only in the incremental build, "
            f"{len(rebuilt - incremental)} only in the rebuild: "
            f"{_differences(incremental, rebuilt)}"
        )
    assert len(_rows(incremental_db, "stg_segment__tracks")) > 0
