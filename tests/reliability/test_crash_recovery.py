"""Crash recovery: SIGKILL the real CLI at random moments of a 3,000-record run, then rerun.

The subprocess runs `plg-sync run` with the slow file destination of tests/sync (it appends
every acknowledged key to a file before returning). After each kill: sync_state holds only
acknowledged keys, the lease expires by its short TTL, and the rerun converges.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.reliability.conftest import FIGURES, FULL, REPO
from tests.sync.conftest import Project, people

SLOW = REPO / "tests" / "sync" / "slow_destination.py"
RECORDS = 3000
TRIALS = 20 if FULL else 3
TTL = 1


def _start(project: Project) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(SLOW), "--config", str(project.config), "run"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _lines(path: os.PathLike[str]) -> list[str]:
    try:
        with open(path) as fh:
            return fh.read().splitlines()
    except FileNotFoundError:
        return []


@pytest.mark.parametrize("trial", range(TRIALS))
def test_sigkill_at_a_random_moment_loses_nothing_and_frees_the_lease(
    project: Project, trial: int
) -> None:
    rnd = random.Random(1000 + trial)
    received = project.root / "received.txt"
    project.set_model(people(RECORDS))
    project.write_config(
        [project.sync_entry(destination="slow", batch_size=50, checkpoint_every=100)],
        destinations={"slow": {"type": "slow", "received": str(received), "delay_s": 0.003}},
        lease_ttl_seconds=TTL,
    )
    # Kill after a random share of records was acknowledged (0 = as soon as sending starts).
    kill_at = rnd.randint(0, RECORDS - 200)
    proc = _start(project)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if len(_lines(received)) >= kill_at and received.exists():
            break
        time.sleep(0.002)
    assert proc.poll() is None, "the run finished before the kill: make it slower"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = time.time()

    acked_first = set(_lines(received))
    state = {k for (k,) in project.sql("select sync_key from plg_sync.sync_state")}
    assert state <= acked_first, "sync_state claims a record the destination never acknowledged"
    leases = project.sql("select expires_at from plg_sync.sync_leases")
    for (expires_at,) in leases:  # stored as naive UTC
        now = datetime.now(UTC).replace(tzinfo=None)
        assert expires_at - now <= timedelta(seconds=TTL + 1)

    time.sleep(max(0.0, TTL + 0.1 - (time.time() - killed_at)))
    proc = _start(project)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out.decode()[-2000:]
    all_received = _lines(received)
    assert set(all_received) == {e for e, _, _ in people(RECORDS)}
    final = project.sql(
        "select count(*), count(*) filter (where s.sync_hash = m.sync_hash)"
        " from plg_sync.sync_state s join sync_people m using (sync_key)"
    )[0]
    assert final == (RECORDS, RECORDS)
    assert project.sql("select count(*) from plg_sync.sync_leases")[0][0] == 0
    FIGURES["crashes"].append(
        {
            "trial": trial,
            "acked_before_kill": len(acked_first),
            "state_before_rerun": len(state),
            "resent_duplicates": len(all_received) - RECORDS,
            "converged": True,
        }
    )
