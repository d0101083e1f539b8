"""What the state tables mean: leases, runs, the diff work table and checkpoints.

This is the only module that decides *when* state changes; `state_sql` says *how* in SQL and
the backend runs it. A checkpoint writes state rows (acknowledged records only) and error
rows in one transaction, so a crash between checkpoints only causes re-sends, never loss.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.backends.base import Backend
from sync.errors import LockHeldError, WarehouseError
from sync.state_sql import STATE_TABLES
from sync.types import DiffCounts

Clock = Callable[[], datetime]
_IN_LIST_MAX = 1000  # keys per `in (...)` list; Snowflake and DuckDB are happy with this


def utc_now() -> datetime:
    """Naive UTC: every timestamp column in the state schema is UTC without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def _naive_utc(ts: Any) -> Any:
    if isinstance(ts, datetime) and ts.tzinfo is not None:
        return ts.astimezone(UTC).replace(tzinfo=None)
    return ts


@dataclass(frozen=True)
class Acked:
    """A record the destination accepted: its state row is upserted (or deleted if removed)."""

    op: str
    key: str
    hash: str | None


@dataclass(frozen=True)
class Rejected:
    """A record the destination refused: logged, state untouched, resent next run."""

    op: str
    key: str
    code: str | None
    message: str | None


class StateStore:
    """State-schema operations for one backend."""

    def __init__(self, backend: Backend, clock: Clock = utc_now) -> None:
        self.backend = backend
        self.sql = backend.sql
        self.clock = clock

    def ensure_tables(self) -> None:
        for stmt in [self.sql.create_schema(), *self.sql.create_tables()]:
            try:
                self.backend.execute(stmt)
            except WarehouseError:  # two first runs racing on `create ... if not exists`
                time.sleep(0.2)
                self.backend.execute(stmt)
        runs = self.sql.table("sync_runs")  # tables made by an older version: add new columns
        for stmt in self.sql.add_columns("sync_runs", self.backend.column_names(runs)):
            self.backend.execute(stmt)

    # --- leases ---------------------------------------------------------------------------

    def acquire_lease(self, sync_name: str, holder: str, ttl_s: int) -> None:
        """Take the sync's lease or raise LockHeldError; an expired lease is taken over."""
        b, now = self.backend, self.clock()
        p1, p2 = b.params(), b.params()
        b.transaction(
            [
                (self.sql.delete_expired_lease(p1, sync_name, now), p1),
                (
                    self.sql.insert_lease_if_free(
                        p2, sync_name, holder, now, now + timedelta(seconds=ttl_s)
                    ),
                    p2,
                ),
            ]
        )
        p = b.params()
        rows = b.query(self.sql.lease_holders(p, sync_name), p)
        if rows and rows[0][0] == holder:
            return
        if any(r[0] == holder for r in rows):  # lost a race on a warehouse without locks
            self.release_lease(sync_name, holder)
        other = rows[0] if rows else ("?", None)
        raise LockHeldError(
            f"sync {sync_name!r}: another run ({other[0]}) holds the lease until "
            f"{_naive_utc(other[1])} UTC; nothing was sent. If that run died, the lease "
            "expires by itself (lease_ttl_seconds in sync.yml)."
        )

    def renew_lease(self, sync_name: str, holder: str, ttl_s: int) -> None:
        """Push the expiry forward; raise LockHeldError if another run took the lease over."""
        b = self.backend
        p = b.params()
        expires = self.clock() + timedelta(seconds=ttl_s)
        b.execute(self.sql.renew_lease(p, sync_name, holder, expires), p)
        p = b.params()
        rows = b.query(self.sql.lease_holders(p, sync_name), p)
        if not rows or rows[0][0] != holder:
            raise LockHeldError(
                f"sync {sync_name!r}: this run's lease expired and another run took it over; "
                "stopping (state up to the last checkpoint is kept)"
            )

    def release_lease(self, sync_name: str, holder: str) -> None:
        p = self.backend.params()
        self.backend.execute(self.sql.release_lease(p, sync_name, holder), p)

    # --- runs -----------------------------------------------------------------------------

    def start_run(self, run_id: str, sync_name: str, dry_run: bool, started_at: datetime) -> None:
        b = self.backend
        p = b.params()
        b.execute(self.sql.abandon_runs(p, sync_name, started_at), p)
        row = [run_id, sync_name, started_at, None, "running", dry_run]
        row += [None] * (len(STATE_TABLES["sync_runs"]) - len(row))
        p = b.params()
        b.execute(self.sql.insert(p, "sync_runs", [row]), p)

    def finish_run(self, run_id: str, values: dict[str, Any]) -> None:
        p = self.backend.params()
        self.backend.execute(self.sql.finish_run(p, run_id, values), p)

    def last_success_model_rows(self, sync_name: str) -> int | None:
        p = self.backend.params()
        rows = self.backend.query(self.sql.last_success_model_rows(p, sync_name), p)
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def last_success_model_columns(self, sync_name: str) -> str | None:
        """The column signature of the sync's last successful run (None before any)."""
        p = self.backend.params()
        rows = self.backend.query(self.sql.last_success_model_columns(p, sync_name), p)
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def recent_runs(self, per_sync: int = 5) -> list[dict[str, Any]]:
        p = self.backend.params()
        rows = self.backend.query(self.sql.recent_runs(p, per_sync), p)
        cols = [
            "sync_name", "run_id", "started_at", "finished_at", "status", "dry_run",
            "planned", "succeeded", "failed", "skipped", "duration_s", "error",
        ]  # fmt: skip
        return [{c: _naive_utc(v) for c, v in zip(cols, r, strict=True)} for r in rows]

    # --- diff -----------------------------------------------------------------------------

    def work_table(self, sync_name: str) -> str:
        """The sync's diff table; one per sync is enough because the lease serialises runs."""
        return self.sql.table(f"_plg_diff__{sync_name}")

    def build_diff(
        self, sync_name: str, model: str, columns: Sequence[str], full_resync: bool
    ) -> tuple[str, DiffCounts]:
        """Materialise the diff (with the columns to send) and count it."""
        b, work = self.backend, self.work_table(sync_name)
        p = b.params()
        b.materialize(work, self.sql.diff_select(p, sync_name, model, columns, full_resync), p)
        counts = {op: int(n) for op, n in b.query(self.sql.diff_counts(work))}
        p = b.params()
        state_rows = int(b.query(self.sql.state_rows(p, sync_name), p)[0][0])
        model_rows = int(b.query(self.sql.model_rows(model))[0][0])
        return work, DiffCounts(
            added=counts.get("add", 0),
            changed=counts.get("change", 0),
            removed=counts.get("remove", 0),
            model_rows=model_rows,
            state_rows=state_rows,
        )

    def stream_changes(
        self, work: str, n_columns: int, include_removes: bool, chunk: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        sql = self.sql.changes_select(work, n_columns, include_removes)
        return self.backend.stream(sql, None, chunk)

    def sample(self, work: str, n_columns: int, n: int) -> list[tuple[Any, ...]]:
        return self.backend.query(self.sql.sample_select(work, n_columns, n))

    def write_plans(self, run_id: str, sync_name: str, work: str) -> None:
        p = self.backend.params()
        self.backend.execute(self.sql.insert_plans(p, run_id, sync_name, work, self.clock()), p)

    def drop_removed_state(self, sync_name: str, work: str) -> None:
        p = self.backend.params()
        self.backend.execute(self.sql.drop_removed_state(p, sync_name, work), p)

    def drop_work(self, work: str) -> None:
        self.backend.execute(self.sql.drop_table(work))

    # --- checkpoints ----------------------------------------------------------------------

    def checkpoint(
        self, sync_name: str, run_id: str, acked: Sequence[Acked], rejected: Sequence[Rejected]
    ) -> None:
        """Persist one batch of outcomes atomically."""
        if not acked and not rejected:
            return
        b, now = self.backend, self.clock()
        attempts = self._previous_attempts(sync_name, [r.key for r in rejected])
        stmts = []
        for part in _chunks(acked, _IN_LIST_MAX):
            p = b.params()
            stmts.append((self.sql.delete_state(p, sync_name, [a.key for a in part]), p))
            rows = [[sync_name, a.key, a.hash, now, run_id] for a in part if a.op != "remove"]
            if rows:
                p = b.params()
                stmts.append((self.sql.insert(p, "sync_state", rows), p))
        for part in _chunks(rejected, _IN_LIST_MAX):
            rows = [
                [run_id, sync_name, r.key, r.op, r.code, r.message, attempts.get(r.key, 0) + 1, now]
                for r in part
            ]
            p = b.params()
            stmts.append((self.sql.insert(p, "sync_errors", rows), p))
        b.transaction(stmts)

    def _previous_attempts(self, sync_name: str, keys: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in _chunks(keys, _IN_LIST_MAX):
            p = self.backend.params()
            for key, n in self.backend.query(self.sql.previous_errors(p, sync_name, part), p):
                out[key] = int(n)
        return out


def _chunks(items: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
