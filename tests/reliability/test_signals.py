"""SIGTERM and SIGINT stop a run cleanly (issue 15, item 2).

Before: `kill` (SIGTERM, what systemd, Kubernetes and Airflow send on timeout) ended the
process on the spot: the run stayed `running` in `sync_runs` and its lease was held for
`lease_ttl_seconds` (900 s by default), so the next runs exited 4. Now the run stops sending,
checkpoints what was acknowledged, is marked `interrupted`, releases its lease and exits 8;
the next run sends the rest. The time from the signal to the released lease is recorded for
docs/reliability.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import CANARY, FIGURES, REPO, FaultyCustomerIo
from tests.standins.base import Request, Response
from tests.sync.conftest import Project, people

SLOW = REPO / "tests" / "sync" / "slow_destination.py"
RECORDS = 600


def _start(project: Project) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(SLOW), "--config", str(project.config), "run"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_sending_checkpoints_marks_the_run_and_releases_the_lease(
    project: Project, sig: signal.Signals
) -> None:
    received = project.root / "received.txt"
    project.set_model(people(RECORDS))
    project.write_config(
        [project.sync_entry(destination="slow", batch_size=20, checkpoint_every=100)],
        destinations={"slow": {"type": "slow", "received": str(received), "delay_s": 0.05}},
    )  # lease_ttl_seconds stays at its default (900 s): only a release frees it
    proc = _start(project)
    deadline = time.monotonic() + 60
    while len(_lines(received)) < 150:
        assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.005)
    sent_at = time.monotonic()
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    exited_after = time.monotonic() - sent_at
    text = out.decode()

    assert proc.returncode == 8, text[-2000:]
    assert f"stopped by {sig.name}" in text
    acked = set(_lines(received))
    assert len(acked) < RECORDS, "the run finished before the signal: make it slower"
    runs = project.sql("select status, finished_at, succeeded, error from plg_sync.sync_runs")
    assert len(runs) == 1 and runs[0][0] == "interrupted" and runs[0][1] is not None
    assert f"stopped by {sig.name}" in runs[0][3]
    assert project.sql("select count(*) from plg_sync.sync_leases")[0][0] == 0
    state = {k for (k,) in project.sql("select sync_key from plg_sync.sync_state")}
    assert state <= acked and len(state) == runs[0][2]
    assert len(acked) - len(state) <= 20  # at most the batch in flight was not checkpointed
    FIGURES.setdefault("signals", []).append(
        {"signal": sig.name, "seconds_to_exit": round(exited_after, 2), "acked": len(acked)}
    )

    rerun = _start(project)  # at once: the lease is free
    out, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out.decode()[-2000:]
    assert set(_lines(received)) == {e for e, _, _ in people(RECORDS)}
    statuses = [s for (s,) in project.sql("select status from plg_sync.sync_runs order by all")]
    assert statuses == ["interrupted", "succeeded"]


def test_a_stop_before_a_sync_starts_sends_nothing_and_exits_8(project: Project) -> None:
    from sync import interrupt
    from sync.config import load_config
    from sync.engine import Engine, RunOptions, Workspace

    ws = Workspace(load_config(project.config))
    try:
        interrupt.request("SIGTERM")
        [result] = Engine(ws).run([ws.config.sync("people")], RunOptions())
    finally:
        interrupt.clear()
        ws.close()
    assert result.status == "interrupted" and result.error is not None
    assert result.error.exit_code == 8
    assert project.sent_lines() == []


class _SlowAnswers(FaultyCustomerIo):
    """Every answer takes `delay` seconds: a request is always in flight when the signal
    arrives."""

    delay = 0.3

    def dispatch(self, request: Request) -> Response | None:
        time.sleep(self.delay)
        return super().dispatch(request)


@pytest.mark.parametrize("case", ["backing off after 503s", "answers in flight"])
def test_sigterm_stops_an_http_destination_within_seconds(project: Project, case: str) -> None:
    """The HTTP layer starts no attempt after SIGTERM and cuts its backoff sleeps short, so
    even with the default backoff (up to 30 s between retries) the lease is released fast."""
    project.set_model(people(2000))
    standin = _SlowAnswers(site_id="site-rel", api_key=CANARY)
    with standin:
        standin.setup_faults("5xx" if case.startswith("backing") else "", 1.0)
        project.write_config(
            [
                project.sync_entry(
                    destination="customerio",
                    identifier={"id": "sync_key"},
                    batch_size=20,
                    checkpoint_every=40,
                )
            ],
            destinations={
                "customerio": {
                    "type": "customerio",
                    "site_id": "site-rel",
                    "api_key": {"env": "CIO_KEY"},
                    "base_url": standin.url,
                    "max_in_flight": 2,
                }
            },
        )  # default pacing, retries, backoff and timeouts
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "sync.cli", "--config", str(project.config), "run"],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while len(standin.times) < 4:
            assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        sent_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        seconds = time.monotonic() - sent_at
    text = out.decode()
    assert proc.returncode == 8, text[-2000:]
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    runs = project.sql("select status, failed from plg_sync.sync_runs")
    assert runs == [("interrupted", 0)]  # an interrupted batch is not a failed record
    assert project.sql("select count(*) from plg_sync.sync_errors")[0][0] == 0
    assert project.sql("select count(*) from plg_sync.sync_leases")[0][0] == 0
    state = {k for (k,) in project.sql("select sync_key from plg_sync.sync_state")}
    assert state <= {str(k) for k in standin.accepted}
    FIGURES.setdefault("signals", []).append(
        {"signal": f"SIGTERM, Customer.io {case}", "seconds_to_exit": round(seconds, 2)}
    )
