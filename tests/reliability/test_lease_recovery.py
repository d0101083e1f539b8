"""A SIGKILLed run's lease is recoverable at once on the same host (issue 15, item 2).

Before: a run killed with SIGKILL (OOM killer, `kill -9`, a scheduler's hard timeout) left
its lease for `lease_ttl_seconds` (900 s by default), so every run in the next 15 minutes
exited 4. Now a lease records the holder's host and pid; a run on the same host takes over a
lease whose process no longer exists. A live holder, or a holder on another host (whose
process we cannot see), still blocks until the lease expires.

DuckDB admits one writing process per file, so two *processes* only race for a lease on a
server warehouse: the process trials here run on Snowflake (fakesnow); the BigQuery fake
runs in this process (docs/reliability.md).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import FIGURES, REPO
from tests.sync.conftest import Project, people

SLOW = REPO / "tests" / "sync" / "slow_destination.py"


def holder_host() -> str:
    from sync.state import holder_host as this_host

    return this_host()


def _start(project: Project, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(SLOW), "--config", str(project.config), "run", *args],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _wait_for(received: Path, n: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while len(_lines(received)) < n:
        assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the run never started sending"
        time.sleep(0.005)


def _slow_sync(project: Project, n: int, delay_s: float = 0.02) -> Path:
    """A sync of n people to the slow file destination, lease TTL left at its default."""
    received = project.root / "received.txt"
    project.set_model(people(n))
    project.write_config(
        [project.sync_entry(destination="slow", batch_size=20, checkpoint_every=40)],
        destinations={"slow": {"type": "slow", "received": str(received), "delay_s": delay_s}},
    )
    return received


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _insert_lease(project: Project, host: str | None, pid: int | None) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    project.sql(
        "insert into plg_sync.sync_leases values (?, ?, ?, ?, ?, ?)",
        ["people", "run-of-another-process", now, now + dt.timedelta(minutes=15), host, pid],
    )


def test_a_sigkilled_run_leaves_a_lease_the_next_run_on_this_host_takes_over(
    project: Project,
) -> None:
    received = _slow_sync(project, 400)
    proc = _start(project)
    _wait_for(received, 60, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lease = project.sql("select holder_host, holder_pid, expires_at from plg_sync.sync_leases")
    assert lease and lease[0][:2] == (holder_host(), proc.pid)

    rerun = _start(project)  # at once: no waiting for the 900 s TTL
    out, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out.decode()[-2000:]
    assert f"process {proc.pid} on this host no longer exists" in out.decode()
    assert set(_lines(received)) == {e for e, _, _ in people(400)}
    assert project.sql("select count(*) from plg_sync.sync_leases")[0][0] == 0
    statuses = [s for (s,) in project.sql("select status from plg_sync.sync_runs order by all")]
    assert statuses == ["abandoned", "succeeded"]


def test_a_live_holder_on_this_host_still_blocks(project: Project) -> None:
    project.cli("plan")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _insert_lease(project, holder_host(), holder.pid)
        result = project.cli("run", expect=4)
        assert f"pid {holder.pid} on {holder_host()}" in result.output
        assert project.sent_lines() == []
    finally:
        holder.kill()
        holder.wait()


def test_a_dead_holder_on_another_host_waits_for_the_ttl(project: Project) -> None:
    project.cli("plan")
    _insert_lease(project, "another-host pid:[1]", _dead_pid())
    project.cli("run", expect=4)  # its process may be alive there: we cannot know
    assert project.sent_lines() == []


def test_a_lease_without_host_from_an_older_version_waits_for_the_ttl(project: Project) -> None:
    project.cli("plan")
    _insert_lease(project, None, None)
    project.cli("run", expect=4)


def test_a_dead_holder_on_this_host_is_taken_over_in_process(project: Project) -> None:
    project.cli("plan")
    pid = _dead_pid()
    _insert_lease(project, holder_host(), pid)
    result = project.cli("run")
    assert "took over the lease of run run-of-another-process" in result.output
    assert len(project.sent_lines()) == 50


# --- two processes racing on Snowflake (fakesnow) --------------------------------------------

snowflake_connector = pytest.importorskip("snowflake.connector")


@pytest.fixture(scope="module")
def fakesnow_port() -> Iterator[int]:
    from tests.sync.test_sync_snowflake import fakesnow_port as start

    yield from start.__wrapped__()  # type: ignore[attr-defined]


@pytest.fixture
def sf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakesnow_port: int) -> Any:
    from tests.sync.test_sync_snowflake import SnowProject

    monkeypatch.setenv("T_SF_PASSWORD", "x")
    monkeypatch.chdir(tmp_path)
    return SnowProject(tmp_path, fakesnow_port)


def test_two_processes_on_snowflake_one_runs_one_exits_4_and_a_sigkill_is_taken_over(
    sf: Any,
) -> None:
    received = _slow_sync(sf, 300, delay_s=0.4)  # 15 batches: about 6 s
    first = _start(sf)
    _wait_for(received, 40, first)

    second = _start(sf)
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 4, out.decode()[-2000:]
    assert "holds the lease" in out.decode()

    first.send_signal(signal.SIGKILL)
    first.wait()
    third = _start(sf)
    out, _ = third.communicate(timeout=120)
    assert third.returncode == 0, out.decode()[-2000:]
    assert f"process {first.pid} on this host no longer exists" in out.decode()
    assert set(_lines(received)) == {e for e, _, _ in people(300)}
    leases = sf.sql(f"select count(*) from {sf.database}.plg_sync.sync_leases")
    assert leases[0][0] == 0


# --- the BigQuery fake (runs in this process) -------------------------------------------------


@pytest.fixture
def bq(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from tests.sync.test_sync_bigquery import bq as make

    return make.__wrapped__(tmp_path, monkeypatch)  # type: ignore[attr-defined]


def test_bigquery_a_dead_holder_on_this_host_is_taken_over_a_live_one_blocks(bq: Any) -> None:
    bq.cli("plan")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _insert_lease(bq, holder_host(), holder.pid)
        bq.cli("run", expect=4)
        assert bq.sent_lines() == []
    finally:
        holder.kill()
        holder.wait()
    assert "took over the lease" in bq.cli("run").output
    assert len(bq.sent_lines()) == 30


@pytest.mark.reliability_full
def test_snowflake_sigterm_releases_the_lease_seen_from_another_connection(sf: Any) -> None:
    """The figure in docs/reliability.md: SIGTERM -> lease row gone, polled on fakesnow."""
    received = _slow_sync(sf, 300, delay_s=0.4)
    proc = _start(sf)
    _wait_for(received, 40, proc)
    leases = f"{sf.database}.plg_sync.sync_leases"
    assert sf.sql(f"select count(*) from {leases}")[0][0] == 1
    sent_at = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    while sf.sql(f"select count(*) from {leases}")[0][0] == 1:
        assert time.monotonic() - sent_at < 60
        time.sleep(0.02)
    released = time.monotonic() - sent_at
    proc.communicate(timeout=60)
    assert proc.returncode == 8
    statuses = [s for (s,) in sf.sql(f"select status from {sf.database}.plg_sync.sync_runs")]
    assert statuses == ["interrupted"]
    FIGURES.setdefault("signals", []).append(
        {
            "signal": "SIGTERM, Snowflake (fakesnow), lease row polled",
            "seconds_to_release": round(released, 2),
        }
    )
