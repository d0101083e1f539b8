"""Leases and streaming at the state-store level, with a fake clock instead of sleeps."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from sync.backends.duckdb import DuckDBBackend
from sync.dbt_project import Profile
from sync.errors import LockHeldError, WarehouseError
from sync.state import CheckpointWriter, Pending, Rejected, StateStore, read_ahead


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, 12, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    profile = Profile("t", "dev", "duckdb", {"path": str(tmp_path / "w.duckdb")}, tmp_path)
    s = StateStore(DuckDBBackend(profile, "plg_sync"), FakeClock())
    s.ensure_tables()
    return s


def test_a_lease_is_exclusive_until_it_expires(store: StateStore) -> None:
    clock: FakeClock = store.clock  # type: ignore[assignment]
    store.acquire_lease("s", "run-a", ttl_s=60)
    with pytest.raises(LockHeldError, match="run-a"):
        store.acquire_lease("s", "run-b", ttl_s=60)
    clock.advance(61)
    store.acquire_lease("s", "run-b", ttl_s=60)  # run-a died: taken over


def test_leases_of_different_syncs_do_not_interfere(store: StateStore) -> None:
    store.acquire_lease("s1", "run-a", ttl_s=60)
    store.acquire_lease("s2", "run-b", ttl_s=60)


def test_renewing_keeps_the_lease_alive(store: StateStore) -> None:
    clock: FakeClock = store.clock  # type: ignore[assignment]
    store.acquire_lease("s", "run-a", ttl_s=60)
    for _ in range(5):
        clock.advance(50)
        store.renew_lease("s", "run-a", ttl_s=60)
    with pytest.raises(LockHeldError):
        store.acquire_lease("s", "run-b", ttl_s=60)


def test_a_run_whose_lease_was_taken_over_stops_at_its_next_checkpoint(store: StateStore) -> None:
    clock: FakeClock = store.clock  # type: ignore[assignment]
    store.acquire_lease("s", "run-a", ttl_s=60)
    clock.advance(120)
    store.acquire_lease("s", "run-b", ttl_s=60)
    with pytest.raises(LockHeldError, match="took it over"):
        store.renew_lease("s", "run-a", ttl_s=60)


def test_release_frees_the_lease_only_for_its_holder(store: StateStore) -> None:
    store.acquire_lease("s", "run-a", ttl_s=60)
    store.release_lease("s", "run-b")
    with pytest.raises(LockHeldError):
        store.acquire_lease("s", "run-b", ttl_s=60)
    store.release_lease("s", "run-a")
    store.acquire_lease("s", "run-b", ttl_s=60)


def test_a_checkpoint_upserts_acknowledged_and_deletes_acknowledged_removes(
    store: StateStore,
) -> None:
    b = store.backend
    store.checkpoint("s", "r1", Pending(["add", "add"], ["k1", "k2"], ["h1", "h2"]))
    store.checkpoint(
        "s", "r2", Pending(["change", "remove"], ["k1", "k2"], ["h1b", None],
                           [Rejected("add", "k3", "bad", "no")]),
    )  # fmt: skip
    assert b.query("select sync_key, sync_hash, run_id from plg_sync.sync_state") == [
        ("k1", "h1b", "r2")
    ]
    assert b.query("select sync_key, error_code, attempt from plg_sync.sync_errors") == [
        ("k3", "bad", 1)
    ]


def test_duckdb_streams_in_chunks(store: StateStore) -> None:
    chunks = list(store.backend.stream("select * from range(12000)", None, 5000))
    assert sum(len(c) for c in chunks) == 12000
    assert len(chunks) >= 3 and max(len(c) for c in chunks) <= 5000


def test_the_checkpoint_writer_commits_in_order_and_hands_back_a_failure() -> None:
    written: list[list[str]] = []
    release = threading.Event()

    def write(pending: Pending) -> None:
        release.wait(5)
        if pending.keys == ["bad"]:
            raise WarehouseError("disk full")
        written.append(pending.keys)

    writer = CheckpointWriter(write, depth=2)
    writer.submit(Pending(["add"], ["k1"], ["h1"]))
    writer.submit(Pending(["add"], ["bad"], ["h"]))  # returns: two may be pending
    release.set()
    writer.submit(Pending(["add"], ["k3"], ["h3"]))  # first waits for the oldest (k1)
    with pytest.raises(WarehouseError, match="disk full"):
        writer.wait()  # every pending one finishes, then the failure is raised
    writer.close()
    assert written == [["k1"], ["k3"]]


def test_read_ahead_hands_over_items_and_errors_and_closes_its_source_when_stopped() -> None:
    closed = threading.Event()

    def numbers():
        try:
            yield from range(100)
        finally:
            closed.set()

    ahead = read_ahead(numbers, 2)
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()  # the caller stops early: the reader stops and closes the source
    assert closed.wait(2)

    def broken():
        yield 1
        raise WarehouseError("connection lost")

    with pytest.raises(WarehouseError, match="connection lost"):
        list(read_ahead(broken, 2))
