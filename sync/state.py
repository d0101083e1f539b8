"""What the state tables mean: leases, runs, the diff work table and checkpoints.

This is the only module that decides *when* state changes; `state_sql` says *how* in SQL and
the backend runs it. A checkpoint writes state rows (acknowledged records only) and error
rows in one transaction, so a crash between checkpoints only causes re-sends, never loss.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sync.backends.base import Backend
from sync.errors import LockHeldError, WarehouseError
from sync.records import Frame
from sync.state_sql import STATE_TABLES, ColumnProblem, contract_problems
from sync.types import DiffCounts

Clock = Callable[[], datetime]
T = TypeVar("T")
# sync_runs columns added after the first release: created by `alter table` on old schemas.
_LATER_COLUMNS = {
    "sync_runs": ("model_rows", "state_rows", "model_columns", "state_rows_after"),
    "sync_leases": ("holder_host", "holder_pid"),
}
_IN_LIST_MAX = 1000  # keys per `in (...)` list; Snowflake and DuckDB are happy with this


def holder_host() -> str:
    """This machine as a lease records it: host name, plus the PID namespace on Linux.

    The namespace keeps two containers that share a host name from judging each other's
    process ids (pid 7 in one is not pid 7 in the other).
    """
    host = socket.gethostname()
    try:
        return f"{host} {os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return host


def process_alive(pid: Any) -> bool:
    """False only when process `pid` certainly does not exist here (or is a zombie)."""
    if os.name != "posix" or not isinstance(pid, int) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:  # killed but not yet reaped by its parent
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def utc_now() -> datetime:
    """Naive UTC: every timestamp column in the state schema is UTC without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def _naive_utc(ts: Any) -> Any:
    if isinstance(ts, datetime) and ts.tzinfo is not None:
        return ts.astimezone(UTC).replace(tzinfo=None)
    return ts


@dataclass(frozen=True)
class RepairStep:
    """What `plg-sync repair-state` does to one state table, and what the user should know."""

    table: str
    problems: str
    action: str  # add_columns | rebuild | recreate
    rows: int
    backup: str | None  # the copy kept of the old table, if any
    consequence: str


@dataclass(frozen=True)
class Rejected:
    """A record the destination refused: logged, state untouched, resent next run."""

    op: str
    key: str
    code: str | None
    message: str | None


@dataclass
class Pending:
    """Outcomes not yet checkpointed: acknowledged records column by column, rejections.

    Columns, not an object per record: at tens of thousands of records a second, one
    object per acknowledged record cost more than the checkpoint itself. An acknowledged
    record's state row is upserted (deleted if it was a remove)."""

    ops: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    hashes: list[str | None] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys) + len(self.rejected)

    def acknowledge(self, ops: list[str], keys: list[str], hashes: list[str | None]) -> None:
        """A whole group the destination proved accepted."""
        self.ops += ops
        self.keys += keys
        self.hashes += hashes

    def ack(self, op: str, key: str, hash_: str | None) -> None:
        self.ops.append(op)
        self.keys.append(key)
        self.hashes.append(hash_)

    def clear(self) -> None:
        self.ops, self.keys, self.hashes, self.rejected = [], [], [], []

    def take(self) -> Pending:
        """Everything pending, handed over; this buffer starts empty again."""
        taken = Pending(self.ops, self.keys, self.hashes, self.rejected)
        self.clear()
        return taken


class CheckpointWriter:
    """Writes checkpoints on one background thread while the run reads and sends on.

    A checkpoint is a commit (on DuckDB: list binds, a WAL write, an fsync). Written by the
    thread that reads rows and packs requests, checkpoints took over half of its time in a
    Customer.io people run and starved the senders (issue 19). `submit` hands one over and
    returns; at most `depth` are queued or in flight (`submit` waits for the oldest and
    re-raises its error), so checkpoints commit in order, a failure stops the run at the
    next submit, and memory holds a bounded number of outcomes. The writer uses the
    warehouse connection while checkpoints are pending: `wait` before using it elsewhere.
    """

    def __init__(self, write: Callable[[Pending], None], depth: int = 2) -> None:
        self._write = write
        self._depth = depth
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plg-sync-checkpoint")
        self._futures: deque[Future[None]] = deque()

    def submit(self, pending: Pending) -> None:
        while len(self._futures) >= self._depth:
            self._futures.popleft().result()
        self._futures.append(self._pool.submit(self._write, pending))

    def wait(self) -> None:
        """Block until every pending checkpoint finished; then raise the first error."""
        error: BaseException | None = None
        while self._futures:
            future = self._futures.popleft()
            exc = future.exception()  # waits; each checkpoint stands on its own
            error = error or exc
        if error is not None:
            raise error

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


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
        for table, later in _LATER_COLUMNS.items():  # made by an older version: add columns
            have = self.backend.column_names(self.sql.table(table))
            for stmt in self.sql.add_columns(table, have, later):
                self.backend.execute(stmt)
        self.check_tables()

    # --- the contract (docs/state-tables.md) ------------------------------------------------

    def contract_problems(self) -> list[ColumnProblem]:
        """Missing or retyped columns of every state table (tables are assumed to exist)."""
        out: list[ColumnProblem] = []
        for table in STATE_TABLES:
            out += contract_problems(table, self.backend.column_types(self.sql.table(table)))
        return out

    def check_tables(self) -> None:
        """Refuse to start on state tables altered by hand, naming table, column and fix.

        Without this, a dropped or retyped column surfaces as a raw binder error from deep
        inside a run (e.g. "Referenced column expires_at not found") on every later run.
        """
        problems = self.contract_problems()
        if not problems:
            return
        lines = "; ".join(f"{self._name(p.table)}: {p.describe()}" for p in problems)
        raise WarehouseError(
            f"the plg-sync state tables do not match their documented contract "
            f"(docs/state-tables.md): {lines}. Were they altered by hand? Nothing was sent. "
            "Run `plg-sync repair-state` to see how each table would be rebuilt, then "
            "`plg-sync repair-state --apply` (it keeps a backup copy and resends nothing "
            "unless it says so)."
        )

    def _name(self, table: str) -> str:
        return f"{self.sql.schema}.{table}"

    def repair_plan(self) -> list[RepairStep]:
        """How each state table that breaks the contract would be rebuilt (nothing runs)."""
        for stmt in [self.sql.create_schema(), *self.sql.create_tables()]:
            self.backend.execute(stmt)  # a missing table is simply created
        by_table: dict[str, list[ColumnProblem]] = {}
        for p in self.contract_problems():
            by_table.setdefault(p.table, []).append(p)
        stamp = self.clock().strftime("%Y%m%d%H%M%S")
        steps = []
        for table, problems in by_table.items():
            missing = {p.column for p in problems if p.found is None}
            retyped = {p.column for p in problems if p.found is not None}
            rows = int(self.backend.query(self.sql.count_rows(table))[0][0])
            what = "; ".join(p.describe() for p in problems)
            backup = f"{table}__before_repair_{stamp}"
            if table == "sync_leases":
                steps.append(
                    RepairStep(table, what, "recreate", rows, None, "leases are transient; "
                               "the table is recreated empty (no run can hold one now)")
                )  # fmt: skip
            elif table == "sync_state" and missing & {"sync_name", "sync_key", "sync_hash"}:
                steps.append(
                    RepairStep(
                        table, what, "recreate", rows, backup,
                        f"which record holds which hash cannot be rebuilt; the table is "
                        f"recreated empty (the {rows} old rows are kept in {self._name(backup)}"
                        "). The next run of each sync finds its state lost and stops (exit 5) "
                        "until you rerun it with --full-resync, which resends every record",
                    )
                )  # fmt: skip
            elif not retyped:
                steps.append(
                    RepairStep(table, what, "add_columns", rows, None,
                               f"the missing column(s) are added, null in the {rows} existing "
                               "rows; nothing is resent")
                )  # fmt: skip
            else:
                resend = (
                    " Records whose sync_key or sync_hash no longer match after the cast "
                    "are sent again."
                    if table == "sync_state" and retyped & {"sync_name", "sync_key", "sync_hash"}
                    else " Nothing is resent."
                )
                steps.append(
                    RepairStep(
                        table, what, "rebuild", rows, backup,
                        f"the table is rebuilt with the contract's types, its {rows} rows copied "
                        f"with each value cast back (missing columns null); the old table is "
                        f"kept as {self._name(backup)}.{resend}",
                    )
                )  # fmt: skip
        return steps

    def repair(self, steps: Sequence[RepairStep]) -> None:
        """Apply a repair plan; refuses while a run holds a lease (it would race the run)."""
        if not any(s.table == "sync_leases" for s in steps):
            now = self.clock()
            p = self.backend.params()
            live = self.backend.query(self.sql.live_leases(p, now), p)
            if live:
                raise LockHeldError(
                    f"a run holds the lease of sync(s) {sorted({r[0] for r in live})}; "
                    "repair-state changes nothing while a run is in progress. Try again when "
                    "it has finished."
                )
        b, sql = self.backend, self.sql
        for step in steps:
            t = step.table
            if step.action == "add_columns":
                have = b.column_names(sql.table(t))
                for stmt in sql.add_columns(t, have):
                    b.execute(stmt)
                continue
            if step.backup:
                b.execute(sql.copy_table(t, step.backup))
            if step.action == "rebuild":
                assert step.backup is not None
                rebuilt = f"{t}__rebuilt"
                b.execute(sql.drop_table(sql.table(rebuilt)))
                b.execute(sql.create_table(t, rebuilt))
                try:
                    present = b.column_names(sql.table(step.backup))
                    b.execute(sql.refill_from(t, step.backup, present, into=rebuilt))
                except WarehouseError as e:
                    b.execute(sql.drop_table(sql.table(rebuilt)))
                    raise WarehouseError(
                        f"{self._name(t)}: its values cannot be cast back to the contract's "
                        f"types ({e}); the table is unchanged (a copy is in "
                        f"{self._name(step.backup)}). Fix the column by hand: see "
                        "docs/state-tables.md for each column's type."
                    ) from None
                b.execute(sql.drop_table(sql.table(t)))
                b.execute(sql.create_table(t))
                b.execute(sql.refill_from(t, rebuilt, [c for c, _ in STATE_TABLES[t]]))
                b.execute(sql.drop_table(sql.table(rebuilt)))
            else:  # recreate empty
                b.execute(sql.drop_table(sql.table(t)))
                b.execute(sql.create_table(t))
        self.check_tables()

    # --- leases ---------------------------------------------------------------------------

    def acquire_lease(self, sync_name: str, holder: str, ttl_s: int) -> str | None:
        """Take the sync's lease or raise LockHeldError; an expired lease is taken over.

        So is the lease of a run on this host whose process no longer exists (killed with
        SIGKILL, OOM-killed, a crashed container): waiting `lease_ttl_seconds` for it would
        only delay the next run. Returns a note for the user when that happened.
        """
        b, here, pid = self.backend, holder_host(), os.getpid()
        note = None
        other: Sequence[Any] = ("?", None, None, None)
        for _ in range(2):
            now = self.clock()
            p1, p2 = b.params(), b.params()
            b.transaction(
                [
                    (self.sql.delete_expired_lease(p1, sync_name, now), p1),
                    (
                        self.sql.insert_lease_if_free(
                            p2, sync_name, holder, now, now + timedelta(seconds=ttl_s), here, pid
                        ),
                        p2,
                    ),
                ]
            )
            p = b.params()
            rows = b.query(self.sql.lease_holders(p, sync_name), p)
            if rows and rows[0][0] == holder:
                return note
            if any(r[0] == holder for r in rows):  # lost a race on a warehouse without locks
                self.release_lease(sync_name, holder)
            other = rows[0] if rows else ("?", None, None, None)
            if note is None and other[2] == here and not process_alive(_as_int(other[3])):
                self.release_lease(sync_name, str(other[0]))  # only that holder's row
                note = (
                    f"sync {sync_name!r}: took over the lease of run {other[0]} (process "
                    f"{other[3]} on this host no longer exists) instead of waiting for it "
                    f"to expire at {_naive_utc(other[1])} UTC"
                )
                continue
            break
        who = str(other[0]) + (f", pid {other[3]} on {other[2]}" if other[2] else "")
        raise LockHeldError(
            f"sync {sync_name!r}: another run ({who}) holds the lease until "
            f"{_naive_utc(other[1])} UTC; nothing was sent. If that run died, the lease "
            "expires by itself (lease_ttl_seconds in sync.yml); a run on the same host takes "
            "it over as soon as the holder's process is gone."
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

    def state_rows_baseline(self, sync_name: str) -> int | None:
        """How many state rows the sync had after its latest recorded run (None before a
        successful run): what the state-loss guardrail compares the current count with."""
        p = self.backend.params()
        rows = self.backend.query(self.sql.state_rows_baseline(p, sync_name), p)
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def count_state(self, sync_name: str) -> int:
        p = self.backend.params()
        return int(self.backend.query(self.sql.state_rows(p, sync_name), p)[0][0])

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
        self,
        work: str,
        n_columns: int,
        include_removes: bool,
        chunk: int,
        removes_only: bool = False,
    ) -> Iterator[list[tuple[Any, ...]]]:
        sql = self.sql.changes_select(work, n_columns, include_removes, removes_only)
        return self.backend.stream(sql, None, chunk)

    def stream_frames(self, work: str, payload: str, problem: str, chunk: int) -> Iterator[Frame]:
        """Added and changed rows with their operations built in SQL, as `Frame`s of about
        `chunk` rows (removes are streamed by `stream_changes(removes_only=True)`).

        Read two frames ahead on a thread of its own: the warehouse builds the next rows'
        JSON while the caller packs and sends the current ones."""
        sql = self.sql.frames_select(work, payload, problem)

        def frames() -> Iterator[Frame]:
            for columns in self.backend.stream_columns(sql, None, chunk):
                yield Frame(*columns)

        return read_ahead(frames, 2)

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

    def checkpoint(self, sync_name: str, run_id: str, pending: Pending) -> None:
        """Persist one batch of outcomes atomically."""
        if not len(pending):
            return
        b, now = self.backend, self.clock()
        rejected = pending.rejected
        attempts = self._previous_attempts(sync_name, [r.key for r in rejected])
        stmts = []
        ops, keys, hashes = pending.ops, pending.keys, pending.hashes
        # An `add` has no state row by definition of the diff (its key was not in state, and
        # the lease keeps other runs out), so only changes and removes need the delete.
        # Skipping it matters: the delete scans the sync's state rows, which made
        # checkpoints of a first big run grow slower as state filled up.
        adds = ops.count("add")
        stale = (
            [k for k, op in zip(keys, ops, strict=True) if op != "add"] if adds < len(ops) else []
        )
        if "remove" in ops:
            kept = [(k, h) for k, h, op in zip(keys, hashes, ops, strict=True) if op != "remove"]
            keys, hashes = [k for k, _ in kept], [h for _, h in kept]
        step = max(1, len(ops)) if self.sql.d.array_binds else _IN_LIST_MAX  # lists bind whole
        for part in _chunks(stale, step):
            p = b.params()
            stmts.append((self.sql.delete_state(p, sync_name, part), p))
        for i in range(0, len(keys), step):
            p = b.params()
            sql = self.sql.insert_state(
                p, sync_name, keys[i : i + step], hashes[i : i + step], now, run_id
            )
            stmts.append((sql, p))
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


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def read_ahead(make: Callable[[], Iterator[T]], depth: int) -> Iterator[T]:
    """Iterate `make()` on a background thread, at most `depth` items ahead of the caller.

    The iterator is created, read and closed on that thread (a warehouse cursor stays on
    one thread); its errors are raised here. Closing this generator stops the reader."""
    items: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        source = make()
        try:
            for item in source:
                if not put(item):
                    return
            put(_END)
        except BaseException as e:  # handed to the caller
            put(_Failed(e))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=run, name="plg-sync-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        reader.join()


def _chunks(items: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
