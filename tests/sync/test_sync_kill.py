"""A run killed with SIGKILL mid-way loses nothing: the rerun converges."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.sync.conftest import Project, people

HERE = Path(__file__).parent


def _start(project: Project) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    return subprocess.Popen(
        [sys.executable, str(HERE / "slow_destination.py"), "--config", str(project.config), "run"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_run_killed_mid_way_then_rerun_converges_with_nothing_lost(project: Project) -> None:
    received = project.root / "received.txt"
    project.set_model(people(400))
    project.write_config(
        [project.sync_entry(destination="slow", batch_size=10, checkpoint_every=20)],
        destinations={"slow": {"type": "slow", "received": str(received)}},
        lease_ttl_seconds=1,
    )
    proc = _start(project)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if received.exists() and len(received.read_text().splitlines()) >= 100:
            break
        assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    first = set(received.read_text().splitlines())
    state_keys = {r[1] for r in project.state()}
    assert 0 < len(state_keys) < 400
    assert state_keys <= first  # state only for what the destination acknowledged

    time.sleep(1.1)  # the dead run's lease (ttl 1s) expires; nothing else would free it
    proc = _start(project)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out.decode()
    assert set(received.read_text().splitlines()) == {e for e, _, _ in people(400)}
    assert len(project.state()) == 400
    statuses = sorted(s for (s,) in project.sql("select status from plg_sync.sync_runs"))
    assert statuses == ["abandoned", "succeeded"]


def test_a_duckdb_file_held_by_another_process_exits_4_sending_nothing(project: Project) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
            " time.sleep(30)",
            str(project.db),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == b"ready"  # type: ignore[union-attr]
        result = project.cli("run", expect=4)
        assert "open in another process" in result.output
        assert project.sent_lines() == []
    finally:
        holder.kill()
        holder.wait()
