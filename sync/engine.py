"""The sync engine: decides what to send and when state may move forward.

For one sync: take the lease, diff in the warehouse, check guardrails, stream only the
differing rows, send them in batches, and checkpoint acknowledged records (state) and
rejected ones (errors) every `checkpoint_every` records. State is written only for `ok`
outcomes, so a crash at any point means re-sending, never losing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sync import interrupt
from sync.backends import Backend, connect
from sync.config import Config, SyncConfig
from sync.dbt_project import Manifest, ModelRelation, load_profile
from sync.destinations import Destination, destination_types
from sync.errors import (
    ConfigError,
    FailedRecordsError,
    GuardrailError,
    InterruptedRunError,
    LockHeldError,
    PlgSyncError,
    WarehouseError,
)
from sync.output import Reporter
from sync.planning import (
    ColumnMapping,
    column_signature,
    failures_over_threshold,
    guardrail_problems,
    redacted_sample,
    resolve_mapping,
    row_to_change,
    schema_drift,
    state_loss_problem,
)
from sync.records import Change, Frame, Outcome, Outcomes
from sync.secrets import redact
from sync.state import CheckpointWriter, Clock, Pending, Rejected, StateStore, utc_now
from sync.types import DiffCounts, RunOptions, SyncResult

T = TypeVar("T")
DEFAULT_BATCH_SIZE = 100
SAMPLE_SIZE = 3


class Workspace:
    """Everything a command needs, opened lazily from one config: profile, manifest,
    backend, destinations. Commands use what they need (validate may never connect)."""

    def __init__(self, config: Config, clock: Clock = utc_now) -> None:
        self.config = config
        self.clock = clock
        self.profile = load_profile(
            config.project_dir,
            config.dbt.profiles_dir and (config.path.parent / config.dbt.profiles_dir),
            config.dbt.target,
            config.dbt.profile,
        )
        self._manifest: Manifest | None = None
        self._backend: Backend | None = None
        self._destinations: dict[str, Destination] = {}

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = Manifest(self.config.project_dir, self.config.target_path)
        return self._manifest

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = connect(self.profile, self.config.state_schema)
        return self._backend

    @property
    def state(self) -> StateStore:
        return StateStore(self.backend, self.clock)

    def destination(self, name: str) -> Destination:
        if name not in self._destinations:
            dc = self.config.resolved_destinations[name]
            self._destinations[name] = destination_types()[dc.type](name, dc.options)
        return self._destinations[name]

    def relation(self, sync: SyncConfig) -> ModelRelation:
        rel = self.manifest.relation(sync.model)
        # what the model can emit per enumerated column: destination setup declares these
        sync._enumerations = {c.lower(): list(v) for c, v in rel.enumerations.items()}
        return rel

    def model_columns(self, sync: SyncConfig) -> dict[str, str | None]:
        """Contract columns from the manifest when declared, else asked of the warehouse."""
        rel = self.relation(sync)
        if rel.columns and {"sync_key", "sync_hash"} <= {c.lower() for c in rel.columns}:
            return {c.lower(): t for c, t in rel.columns.items()}
        names = self.backend.column_names(self.backend.model_relation(rel))
        return dict.fromkeys(names)

    def warehouse_problems(self, sync: SyncConfig) -> list[str]:
        """Is the sync's model built in the warehouse, with sync_key and sync_hash and every
        column its manifest declares? Each problem says which `dbt build` fixes it.

        Raises WarehouseError when the warehouse itself cannot be reached (one message for
        all syncs, not one per model)."""
        rel = self.relation(sync)
        backend = self.backend  # connection errors propagate
        relation = backend.model_relation(rel)
        try:
            found = {c.lower() for c in backend.column_names(relation)}
        except WarehouseError as e:
            return [
                f"model {sync.model!r} is not built in the warehouse ({relation}: {e}); run "
                f"`dbt build --select +{sync.model}` (the model and what it depends on)"
            ]
        problems = []
        missing = [c for c in ("sync_key", "sync_hash") if c not in found]
        if missing:
            problems.append(
                f"model {sync.model!r} in the warehouse ({relation}) has no {missing} "
                f"column; every sync model needs sync_key and sync_hash: add them to the "
                f"model (see docs/sync.md) and run `dbt build --select {sync.model}`"
            )
        stale = [c for c in (c.lower() for c in rel.columns) if c not in found]
        if stale and not missing:
            problems.append(
                f"model {sync.model!r} in the warehouse ({relation}) lacks {stale}, which the "
                f"dbt manifest declares: the table is older than the project; run "
                f"`dbt build --select {sync.model}`"
            )
        return problems

    def mapping(self, sync: SyncConfig) -> ColumnMapping:
        return resolve_mapping(sync, list(self.model_columns(sync)), str(self.config.path))

    def close(self) -> None:
        for d in self._destinations.values():
            d.close()
        if self._backend is not None:
            self._backend.close()


class Engine:
    """Runs syncs one after another; one sync's failure does not stop the others."""

    def __init__(self, ws: Workspace, reporter: Reporter | None = None) -> None:
        self.ws = ws
        self.reporter = reporter or Reporter()

    def run(self, syncs: Sequence[SyncConfig], options: RunOptions) -> list[SyncResult]:
        self.ws.state.ensure_tables()
        results = []
        for sync in syncs:
            result = SyncResult(
                sync_name=sync.name, run_id=uuid.uuid4().hex, dry_run=options.dry_run
            )
            if interrupt.requested():  # a stop arrived between syncs: start no other
                result.status = "interrupted"
                result.error = InterruptedRunError(
                    f"sync {sync.name!r}: not started: the run was stopped by "
                    f"{interrupt.reason()}; nothing was sent"
                )
                self.reporter.sync_finished(result)
                results.append(result)
                continue
            try:
                self._run_one(sync, options, result)
            except PlgSyncError as e:
                result.error = e
                if result.status == "running":
                    result.status = "locked" if isinstance(e, LockHeldError) else "failed"
            self.reporter.sync_finished(result)
            results.append(result)
        return results

    # --- one sync -------------------------------------------------------------------------

    def _run_one(self, sync: SyncConfig, options: RunOptions, result: SyncResult) -> None:
        ws, state = self.ws, self.ws.state
        ttl = ws.config.lease_ttl_seconds
        dest = ws.destination(sync.destination)
        mapping = ws.mapping(sync)
        columns = {k: v or "" for k, v in ws.model_columns(sync).items()}
        problems = dest.validate_sync(sync, columns)
        if problems:  # before the lease: a misconfigured sync sends nothing
            raise ConfigError(f"{ws.config.path}: sync {sync.name!r}: " + "; ".join(problems))
        model = ws.backend.model_relation(ws.relation(sync))
        started = time.monotonic()
        stats0 = (dest.stats.requests, dest.stats.retries, dest.stats.throttled)

        took_over = state.acquire_lease(sync.name, result.run_id, ttl)  # LockHeld: none sent
        if took_over:
            self.reporter.warning(took_over)
        work: str | None = None
        trusted_state = False  # passed the guardrails: its state count is the next baseline
        try:
            state.start_run(result.run_id, sync.name, options.dry_run, ws.clock())
            last_rows = state.last_success_model_rows(sync.name)
            self._stop_if_requested(sync, result)
            work, counts = state.build_diff(sync.name, model, mapping.columns, options.full_resync)
            self._stop_if_requested(sync, result)
            result.counts = counts
            self.reporter.plan_computed(sync.name, counts)
            problems = guardrail_problems(sync, counts, last_rows)
            if not options.full_resync:  # --full-resync resends everything on purpose
                lost = state_loss_problem(
                    sync,
                    counts.state_rows,
                    state.state_rows_baseline(sync.name),
                    f"{ws.config.state_schema}.sync_state",
                )
                if lost:
                    problems.append(lost)
            result.model_columns = column_signature(mapping.columns, columns)
            drift = schema_drift(state.last_success_model_columns(sync.name), result.model_columns)
            if drift:
                problems.append(
                    f"sync {sync.name!r}: the columns of model {sync.model!r} changed since the "
                    f"last successful run ({drift}); {counts.planned} of {counts.model_rows} "
                    "rows would be resent"
                )
            key_problem = self._key_problem(sync, model)
            if key_problem:  # never overridable: a null/duplicate key corrupts state
                result.status = "blocked"
                raise GuardrailError(key_problem)

            if options.dry_run:
                state.write_plans(result.run_id, sync.name, work)
                rows = state.sample(work, len(mapping.columns), SAMPLE_SIZE)
                result.samples = [redacted_sample(row_to_change(r, mapping)) for r in rows]
                note = dest.budget_note(counts.planned)
                result.notes = [note] if note else []
                result.status = "planned"
                if problems and not options.allow_mass_change:
                    result.status = "blocked"
                    raise GuardrailError(
                        "; ".join(problems) + ". A real run would refuse to apply this plan "
                        "(rerun with --allow-mass-change if the change is intended)."
                    )
            elif problems and not options.allow_mass_change:
                result.status = "blocked"
                raise GuardrailError(
                    "; ".join(problems) + ". Nothing was sent. If the change is intended, "
                    "rerun with --allow-mass-change."
                )
            else:
                trusted_state = not options.dry_run
                self._deliver(sync, dest, mapping, work, counts, result)
        except PlgSyncError as e:
            result.error = e
            if result.status == "running":
                result.status = "failed"
            raise
        except Exception as e:  # a bug or a destination crash: record it, keep the lease sane
            result.status = "failed"
            result.error = PlgSyncError(f"sync {sync.name!r}: unexpected error: {redact(str(e))}")
            raise
        finally:
            result.duration_s = round(time.monotonic() - started, 3)
            s = dest.stats
            result.requests = s.requests - stats0[0]
            result.retries = s.retries - stats0[1]
            result.throttled = s.throttled - stats0[2]
            self._finish(sync, result, work, trusted_state)

    def _stop_if_requested(self, sync: SyncConfig, result: SyncResult, total: int = 0) -> None:
        """Raise InterruptedRunError (status `interrupted`) once SIGTERM/SIGINT arrived."""
        if not interrupt.requested():
            return
        result.status = "interrupted"
        done = result.succeeded + result.failed
        progress = f" after {done} of {total} records" if total else ""
        raise InterruptedRunError(
            f"sync {sync.name!r}: stopped by {interrupt.reason()}{progress}; "
            f"{result.succeeded} acknowledged record(s) are kept in state and the lease is "
            "released; the next run sends the rest"
        )

    def _key_problem(self, sync: SyncConfig, model: str) -> str | None:
        """A message if the model's sync_key has nulls or duplicates (else None).

        Such rows cannot be tracked: a null key would be sent as the text "None", and two
        rows with one key overwrite each other at the destination and flip-flop in state.
        """
        k = self.ws.state.sql.col("sync_key")
        nulls, dupes = self.ws.backend.query(
            f"select count(*) - count({k}), count({k}) - count(distinct {k}) from {model}"
        )[0]
        if not nulls and not dupes:
            return None
        found = []
        if nulls:
            found.append(f"{nulls} row(s) with a null sync_key")
        if dupes:
            example = self.ws.backend.query(
                f"select {k} from {model} where {k} is not null group by {k}"
                f" having count(*) > 1 limit 1"
            )[0][0]
            found.append(f"{dupes} duplicate sync_key value(s), e.g. {str(example)[:80]!r}")
        return (
            f"sync {sync.name!r}: model {sync.model!r} has " + " and ".join(found) + "; sync_key "
            "must be unique and not null (add dbt's unique and not_null tests). Nothing was sent."
        )

    def _deliver(
        self,
        sync: SyncConfig,
        dest: Destination,
        mapping: ColumnMapping,
        work: str,
        counts: DiffCounts,
        result: SyncResult,
    ) -> None:
        state, ws = self.ws.state, self.ws
        ttl = ws.config.lease_ttl_seconds
        batch_size = sync.batch_size or DEFAULT_BATCH_SIZE
        checkpoint_every = sync.checkpoint_every or ws.backend.checkpoint_every
        send_removes = sync.on_remove != "ignore"
        total = counts.added + counts.changed + (counts.removed if send_removes else 0)
        fetch = ws.backend.fetch_size
        pending = Pending()
        renewed = time.monotonic()
        advance = self.reporter.progress(sync.name, total)

        def write(outcomes: Pending) -> None:  # on the checkpoint writer's thread
            nonlocal renewed
            state.checkpoint(sync.name, result.run_id, outcomes)
            # Renewing costs two statements; at tens of thousands of records/s checkpoints
            # come many times a second, so renew once a tenth of the TTL has passed: the
            # lease can still never lapse while this run is alive.
            if time.monotonic() - renewed >= ttl / 10:
                state.renew_lease(sync.name, result.run_id, ttl)
                renewed = time.monotonic()

        writer = CheckpointWriter(write)

        def consume(streams: Sequence[object], groups: Iterator[tuple[Any, Outcomes]]) -> None:
            try:
                for group, outcomes in groups:
                    self._record(group, outcomes, pending, result)
                    advance(len(group))
                    if len(pending) >= checkpoint_every:
                        writer.submit(pending.take())
            except interrupt.Interrupted:  # the HTTP layer stopped mid-batch: resent next run
                self._stop_if_requested(sync, result, total)
                raise
            finally:
                # Stop the destination's senders first (their unfinished batches are simply
                # resent next run), then close the result cursor: on DuckDB an open cursor
                # keeps the database file open in this process after the workspace closed.
                for stream in (groups, *streams):
                    close = getattr(stream, "close", None)
                    if close is not None:
                        close()
                # Whatever was acknowledged before an error is kept (the error propagates):
                # the checkpoint in flight commits, then the rest, on this thread.
                try:
                    writer.wait()
                finally:
                    state.checkpoint(sync.name, result.run_id, pending.take())

        def checked(items: Iterable[T]) -> Iterator[T]:
            # SIGTERM/SIGINT: nothing more is read once a stop is asked (raised through
            # `deliver`, which stops its senders; their batches are resent). The HTTP layer
            # also starts no request after a stop, so a frame read before it sends nothing.
            for item in items:
                if interrupt.requested():
                    self._stop_if_requested(sync, result, total)
                yield item

        built = self._payload_sql(sync, dest, mapping, work)
        chunks = None
        try:
            if built is not None:  # the warehouse builds each operation; Python only frames it
                frames = state.stream_frames(work, *built, fetch)
                consume([frames], dest.deliver_frames(sync, checked(frames)))
                if send_removes and counts.removed:  # removes: the destination's own logic
                    chunks = state.stream_changes(work, len(mapping.columns), True, fetch, True)
            else:
                chunks = state.stream_changes(work, len(mapping.columns), send_removes, fetch)
            if chunks is not None:
                changes = (row_to_change(row, mapping) for chunk in chunks for row in chunk)
                consume([chunks], dest.deliver(sync, checked(changes), batch_size))
        finally:
            writer.close()
        if not send_removes and counts.removed:
            state.drop_removed_state(sync.name, work)
            result.skipped = counts.removed
        attempted = result.succeeded + result.failed
        over = failures_over_threshold(sync, result.failed, attempted)
        result.status = "partial" if result.failed else "succeeded"
        if over:
            result.status = "failed"
            examples = f" First reasons: {'; '.join(result.reasons)}." if result.reasons else ""
            raise FailedRecordsError(
                over + ". They keep their old state and are sent again next run; reasons are "
                "in the sync_errors table." + examples
            )

    def _payload_sql(
        self, sync: SyncConfig, dest: Destination, mapping: ColumnMapping, work: str
    ) -> tuple[str, str] | None:
        """(payload, problem) SQL if both the warehouse and the destination can build this
        sync's operations in SQL, else None (rows are converted and encoded in Python)."""
        backend = self.ws.backend
        if backend.dialect.json_text is None:
            return None
        types = backend.column_types(work)
        if not types:
            return None
        columns = {col: (f"c{i}", types.get(f"c{i}", "")) for i, col in enumerate(mapping.columns)}
        return dest.payload_sql(sync, mapping.identifier, mapping.fields, columns, backend.dialect)

    def _record(
        self,
        group: Frame | Sequence[Change],
        outcomes: Outcomes,
        pending: Pending,
        result: SyncResult,
    ) -> None:
        """One outcome per record of `group` into the next checkpoint (missing = rejected).

        `outcomes` None: the destination's answers proved every record of the group, which
        is then acknowledged column by column, without an object per record."""
        if isinstance(group, Frame):
            ops, keys, hashes = group.ops, group.keys, group.hashes
        else:
            ops = [ch.op for ch in group]
            keys = [ch.key for ch in group]
            hashes = [ch.hash for ch in group]
        if outcomes is None:
            pending.acknowledge(ops, keys, hashes)  # type: ignore[arg-type]
            result.succeeded += len(keys)
            return
        by_key: dict[str, Outcome] = {o.key: o for o in outcomes}
        for op, key, hash_ in zip(ops, keys, hashes, strict=True):
            o = by_key.get(key)
            if o is None:
                o = Outcome(key, "permanent", "no_outcome", "destination returned no outcome")
            if o.ok:
                pending.ack(op, key, hash_)
                result.succeeded += 1
            else:
                msg = redact(o.message or "")[:1000] or None
                pending.rejected.append(Rejected(op, key, o.code or o.status, msg))
                result.failed += 1
                if len(result.reasons) < 3:
                    result.reasons.append(f"{o.code or o.status}: {(msg or '')[:200]}")

    def _finish(
        self, sync: SyncConfig, result: SyncResult, work: str | None, count_state: bool = False
    ) -> None:
        """Record the run row, drop the work table, release the lease: best effort each.

        `count_state`: the run passed the guardrails and sent, so its final state count is
        the baseline the state-loss guardrail of the next run compares with.
        """
        state = self.ws.state
        c = result.counts
        state_after: int | None = None
        if count_state:
            try:
                state_after = state.count_state(sync.name)
            except PlgSyncError as e:
                self.reporter.warning(f"sync {sync.name!r}: cannot count state: {e}")
        values = {
            "finished_at": self.ws.clock(),
            "status": result.status,
            "planned": c.planned if c else None,
            "added": c.added if c else None,
            "changed": c.changed if c else None,
            "removed": c.removed if c else None,
            "succeeded": result.succeeded,
            "failed": result.failed,
            "skipped": result.skipped,
            "requests": result.requests,
            "retries": result.retries,
            "throttled": result.throttled,
            "duration_s": result.duration_s,
            "error": redact(str(result.error))[:2000] if result.error else None,
            "model_rows": c.model_rows if c else None,
            "state_rows": c.state_rows if c else None,
            "model_columns": result.model_columns,
            "state_rows_after": state_after,
        }
        steps: list[Callable[[], None]] = [lambda: state.finish_run(result.run_id, values)]
        if work:
            steps.append(lambda: state.drop_work(work))
        steps.append(lambda: state.release_lease(sync.name, result.run_id))
        for step in steps:
            try:
                step()
            except PlgSyncError as e:  # the lease still expires by itself
                self.reporter.warning(f"sync {sync.name!r}: cleanup failed: {e}")
