"""The incremental path is only worth having if it gives the same answer as a rebuild,
and signals are only worth having if a run minutes after the events sees them.

Build on generated data at midnight, then follow one day as a scheduler would:
- 12:15: the morning's events, late events of two days ago and a partial usage row have
  landed, and nine qualifying events at 12:01-12:09 for a free account below the PQL
  threshold (the scenario of issue 18). The run makes it a PQL with `pql_reached_at` at
  the event that crossed, one deal with plan and MRR, one owner and one Slack alert for
  its segment, and equals a rebuild for the same as-of time.
- 00:30 the next day: the rest of the day, its final usage and the first half hour after
  midnight; the incremental run equals a rebuild again.
Every rebuild starts the owner ledger from an empty table: the round-robin must hand out
the same owners from the same history.

The first build already holds events whose client clock ran days ahead (future-dated),
and the 12:15 load brings events that arrived late, some inside the lookback and some far
older than it (issue 17.2): incremental windows follow what the warehouse received
(`received_at`), so neither a future timestamp nor an old one can hide a late event.
Raw tables are in the shape Segment lands them (docs/sources.md; tests/sources/shapes.py).
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
MIDDAY = dt.datetime(2026, 11, 1, 12, 0)
SCENARIO_AT = dt.datetime(2026, 11, 1, 12, 1)
SCENARIO_RUN = dt.datetime(2026, 11, 1, 12, 15)
AFTER_MIDNIGHT = dt.datetime(2026, 11, 2, 0, 30)
COMPARED = [
    "stg_segment__tracks",
    "plg_data_quality",
    "int_user_event_daily",
    "int_user_daily_activity",
    "int_user_event_firsts",
    "int_account_daily_activity",
    "int_account_pql_signal_daily",
    "int_account_pql_crossings",
    "account_health_daily",
    "account_pql_scores",
    "account_churn_risk",
    "account_plan_limits",
    "user_milestones",
    "user_activation",
    "milestone_retention_lift",
    "account_signals",
    "account_handoffs",
    "account_usage_sparklines",
    "sync_signal_events",
    "sync_crm_deals",
    "sync_crm_tasks",
    "sync_slack_handoff_alerts",
    "account_risk_episode_log",
]
# the ledger's assigned_at is the run that assigned it, which a rebuild cannot know
LEDGER = "account_owner_assignments"
LEDGER_COLUMNS = (
    "handoff_id, handoff_kind, account_id, handoff_at, segment, plan_at_handoff, "
    "mrr_at_handoff, rotation_pool, owner_email, owner_name, crm_owner_id, "
    "assignment_source, rotation_slot, rotation_position"
)
# seeds/plg_pql_signals.csv: (event, signal_key) in the order the scenario's events come
SCENARIO_EVENTS = [("paywall_hit", "paywall_hits"), ("report_shared", "reports_shared"),
                   ("teammate_invited", "seat_invites")] * 3  # fmt: skip


def _vars(as_of: dt.datetime) -> str:
    return f'{{plg_as_of: "{as_of:%Y-%m-%d %H:%M:%S}"}}'


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


def _append_events(db: Path, start: dt.datetime, end: dt.datetime) -> None:
    """Events of [start, end): the same hours of the day before, shifted by a day, with
    new ids and received when they happened (the loader is minutes behind at most)."""
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
                "timestamp" + interval 1 day + interval 1 minute as received_at,
                "timestamp" + interval 1 day + interval 21 minute as uuid_ts
            )
            from raw.tracks
            where "timestamp" >= ?::timestamp - interval 1 day
              and "timestamp" < ?::timestamp - interval 1 day
              and id not like '%scenario%'
              and id not like '%future%'
            """,
            [start, end],
        )
    finally:
        con.close()


def _append_late_events(db: Path, day: dt.date, received_at: dt.datetime, count: int) -> None:
    """`count` events of `day` that the loader delivers only at `received_at`.

    Events that feed no PQL signal: a late qualifying event can move a crossing that was
    already handed off, and the owner ledger then keeps the handoff as it happened (an
    assignment never moves), which a rebuild from an empty ledger cannot know."""
    con = duckdb.connect(str(db))
    try:
        con.execute(
            """
            insert into raw.tracks by name
            select * replace (
                md5(id || 'late' || ?::varchar) as id,
                ?::timestamp as received_at,
                ?::timestamp + interval 20 minute as uuid_ts
            )
            from raw.tracks
            where cast("timestamp" as date) = ?
              and event not in (
                  select source_name from main.plg_pql_signals where source_type = 'event'
              )
            order by id limit ?
            """,
            [received_at, received_at, received_at, day, count],
        )
    finally:
        con.close()


def _write_usage(db: Path, day: dt.date, share: float) -> None:
    """The app's usage row for `day`: `share` of the day before's values (a partial day
    while the day runs, then the final figure)."""
    con = duckdb.connect(str(db))
    try:
        con.execute("delete from raw.usage_daily where usage_date = ?", [day])
        con.execute(
            "insert into raw.usage_daily select account_id, usage_date + 1, metric, "
            "round(value * ?) from raw.usage_daily where usage_date = ?",
            [share, day - dt.timedelta(days=1)],
        )
    finally:
        con.close()


def _rows(db: Path, table: str, columns: str = "*") -> set[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(f"select {columns} from main.{table}")
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


def _assert_equals_rebuild(root: Path, incremental_db: Path, as_of: dt.datetime) -> None:
    rebuilt_db = root / f"rebuilt_{as_of:%d_%H%M}.duckdb"
    shutil.copy(incremental_db, rebuilt_db)
    con = duckdb.connect(str(rebuilt_db))
    con.execute(f"drop table main.{LEDGER}")  # --full-refresh leaves the ledger alone
    con.close()
    _dbt(root, rebuilt_db, "run", "--full-refresh", "--vars", _vars(as_of))
    for table, columns in [*((t, "*") for t in COMPARED), (LEDGER, LEDGER_COLUMNS)]:
        incremental = _rows(incremental_db, table, columns)
        rebuilt = _rows(rebuilt_db, table, columns)
        assert incremental == rebuilt, (
            f"as of {as_of}: {table}: {len(incremental - rebuilt)} rows only in the "
            f"incremental build, {len(rebuilt - incremental)} only in the rebuild: "
            f"{_differences(incremental, rebuilt)}"
        )
    rebuilt_db.unlink()


def _score(units: dict[str, float], signals: dict[str, tuple]) -> float:
    """seeds/plg_pql_signals.csv, as docs/configuration.md states it: per signal
    least(cap, points_per_unit x units / unit_size), summed, at most 100, one decimal."""
    total = sum(
        min(cap, per_unit * units.get(key, 0) / size)
        for key, (per_unit, size, cap) in signals.items()
    )
    return round(min(100.0, total), 1)


def _signals(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    return {
        key: (per_unit, size, cap)
        for key, per_unit, size, cap in con.execute(
            "select signal_key, points_per_unit, unit_size, cap_points from main.plg_pql_signals"
        ).fetchall()
    }


def _replay(units: dict[str, float], signals: dict[str, tuple]) -> tuple[float, int | None]:
    """The score before the scenario and the index of the event that crosses 60, if any."""
    units = dict(units)
    start = _score(units, signals)
    for number, (_, key) in enumerate(SCENARIO_EVENTS):
        units[key] = units.get(key, 0) + 1
        if _score(units, signals) >= 60:
            return start, number
    return start, None


def _plant_scenario(db: Path, at: dt.datetime) -> str:
    """Nine qualifying events a minute apart from `at` for the eligible account below the
    threshold that they push furthest across it (judged on the last complete day)."""
    con = duckdb.connect(str(db))
    try:
        signals = _signals(con)
        candidates = con.execute(
            """
            select scores.account_id, min(users.user_id) as user_id,
                   list(struct_pack(k := signals.signal_key, u := signals.window_units))
            from main.account_pql_scores as scores
            inner join main.stg_app__users as users on users.account_id = scores.account_id
            inner join main.int_account_pql_signal_daily as signals
                on signals.account_id = scores.account_id and signals.day = ?
            where scores.is_pql_eligible and not scores.is_pql
            group by scores.account_id
            order by scores.account_id
            """,
            [at.date() - dt.timedelta(days=1)],
        ).fetchall()
        best = max(
            candidates,
            key=lambda c: (_replay({s["k"]: s["u"] for s in c[2]}, signals)[1] is not None,
                           -(_replay({s["k"]: s["u"] for s in c[2]}, signals)[1] or 0)),
        )  # fmt: skip
        account_id, user_id, _ = best
        for i, (event, _) in enumerate(SCENARIO_EVENTS):
            occurred = at + dt.timedelta(minutes=i)
            received = at + dt.timedelta(minutes=10)
            con.execute(
                "insert into raw.tracks (id, user_id, event, event_text, \"timestamp\", "
                "original_timestamp, sent_at, received_at, uuid_ts, context_library_name) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'analytics.js')",
                [f"scenario-{i}", user_id, event, event, occurred, occurred, occurred,
                 received, received + dt.timedelta(minutes=20)],
            )  # fmt: skip
        return account_id
    finally:
        con.close()


def _expected_crossing(db: Path, account_id: str, day: dt.date) -> tuple[float, dt.datetime]:
    """From the built day's window units minus the scenario's own events (the morning's
    events come before 12:01): the score before the scenario and the event that crossed."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        units = dict(
            con.execute(
                "select signal_key, window_units from main.int_account_pql_signal_daily "
                "where account_id = ? and day = ?",
                [account_id, day],
            ).fetchall()
        )
        signals = _signals(con)
    finally:
        con.close()
    for _, key in SCENARIO_EVENTS:
        units[key] -= 1
    start, number = _replay(units, signals)
    assert number is not None, f"the nine events do not take {account_id} from {start} to 60"
    return start, SCENARIO_AT + dt.timedelta(minutes=number)


@pytest.mark.slow
def test_incremental_runs_through_a_day_equal_rebuilds_and_see_intraday_events(
    tmp_path: Path,
) -> None:
    db = tmp_path / "incremental.duckdb"
    generate(db, scale="tiny", seed=5, as_of=AS_OF)
    _add_future_dated_events(db, AS_OF)
    _dbt(tmp_path, db, "build", "--vars", f'{{plg_as_of: "{AS_OF}"}}')

    # 12:15: the morning, late events of two days ago, partial usage, and nine qualifying
    # events at 12:01-12:09 for a free account below the threshold
    _append_events(db, dt.datetime(2026, 11, 1), MIDDAY)
    # late: 50 events of two days ago (inside the lookback), 20 of six days ago (outside it)
    _append_late_events(db, AS_OF - dt.timedelta(days=2), dt.datetime(2026, 11, 1, 10), 50)
    _append_late_events(db, AS_OF - dt.timedelta(days=6), dt.datetime(2026, 11, 1, 11), 20)
    _write_usage(db, AS_OF, share=0.5)
    account_id = _plant_scenario(db, SCENARIO_AT)
    _dbt(tmp_path, db, "run", "--vars", _vars(SCENARIO_RUN))
    start, crossing = _expected_crossing(db, account_id, AS_OF)
    con = duckdb.connect(str(db), read_only=True)
    try:
        score, is_pql, reached_at = con.execute(
            "select pql_score, is_pql, pql_reached_at from main.account_pql_scores "
            "where account_id = ?",
            [account_id],
        ).fetchone()
        deals = con.execute(
            "select deal_kind, plan, mrr, amount, owner_email from main.sync_crm_deals "
            "where plg_account_id = ? and handoff_at = ?",
            [account_id, crossing],
        ).fetchall()
        owners = con.execute(
            "select owner_email from main.account_owner_assignments where account_id = ?",
            [account_id],
        ).fetchall()
        alerts = con.execute(
            "select route_key, segment, owner_email from main.sync_slack_handoff_alerts "
            "where account_id = ? and alert_kind = 'pql' and occurred_at = ?",
            [account_id, crossing],
        ).fetchall()
    finally:
        con.close()
    assert start < 60 <= score, (account_id, start, score)
    assert is_pql and reached_at == crossing, (account_id, reached_at, crossing)
    assert len(deals) == 1 and deals[0][0] == "pql" and deals[0][1] is not None, deals
    assert deals[0][3] > 0 and deals[0][4] == owners[0][0], (deals, owners)
    assert len(owners) == 1, owners
    assert len(alerts) == 1 and alerts[0][0] == alerts[0][1], alerts
    _assert_equals_rebuild(tmp_path, db, SCENARIO_RUN)

    # 00:30 the next day: the rest of the day, its final usage and half an hour more
    _append_events(db, MIDDAY, AFTER_MIDNIGHT)
    _write_usage(db, AS_OF, share=1.0)
    _dbt(tmp_path, db, "run", "--vars", _vars(AFTER_MIDNIGHT))
    _assert_equals_rebuild(tmp_path, db, AFTER_MIDNIGHT)
    assert len(_rows(db, "stg_segment__tracks")) > 0
