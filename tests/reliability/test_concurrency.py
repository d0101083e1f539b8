"""Concurrency: one sync never runs twice at once; syncs sharing a destination share its budget."""

from __future__ import annotations

import threading
import time
from typing import Any

from sync.config import load_config
from sync.engine import Engine, RunOptions, SyncResult, Workspace
from sync.errors import LockHeldError
from tests.reliability.conftest import destination_config, make_standin, sync_entry
from tests.sync import slow_destination  # noqa: F401  (registers type: slow)
from tests.sync.conftest import Project, people


def _run(project: Project, names: list[str], out: dict[str, Any]) -> None:
    ws = Workspace(load_config(project.config))
    try:
        syncs = [ws.config.sync(n) for n in names]
        for r in Engine(ws).run(syncs, RunOptions()):
            out[threading.current_thread().name] = r
    finally:
        ws.close()


def test_a_second_run_of_the_same_sync_exits_4_and_sends_nothing(project: Project) -> None:
    received = project.root / "received.txt"
    project.set_model(people(600))
    project.write_config(
        [project.sync_entry(destination="slow", batch_size=20, checkpoint_every=40)],
        destinations={"slow": {"type": "slow", "received": str(received), "delay_s": 0.01}},
    )
    results: dict[str, SyncResult] = {}
    first = threading.Thread(target=_run, args=(project, ["people"], results), name="first")
    first.start()
    while not received.exists():
        time.sleep(0.005)
    sent_before = len(received.read_text().splitlines())
    _run(project, ["people"], results)  # the main thread's run: must find the lease held
    second = results["MainThread"]
    first.join()
    assert isinstance(second.error, LockHeldError) and second.error.exit_code == 4
    assert second.status == "locked" and second.succeeded == 0 and second.requests == 0
    assert sent_before < 600
    assert sorted(received.read_text().splitlines()) == sorted(e for e, _, _ in people(600))
    assert results["first"].status == "succeeded"


def test_two_syncs_to_one_destination_share_its_rate_budget(project: Project) -> None:
    rate, burst = 40.0, 4
    project.set_model(people(300))
    project.set_model(people(300, start=1000), table="sync_people_b")
    project.write_manifest(["sync_people", "sync_people_b"])
    with make_standin("customerio") as standin:
        standin.setup_faults("", 0.0)
        dest = destination_config("customerio", standin)
        dest |= {"requests_per_second": rate, "burst": burst}
        project.write_config(
            [
                sync_entry(project, "customerio", name="a", batch_size=5),
                sync_entry(project, "customerio", name="b", model="sync_people_b", batch_size=5),
            ],
            destinations={"customerio": dest},
        )
        results: dict[str, Any] = {}
        threads = [
            threading.Thread(target=_run, args=(project, [n], results), name=n) for n in "ab"
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        times = sorted(standin.times)
    assert results["a"].succeeded == 300 and results["b"].succeeded == 300
    peak = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
    assert len(times) >= 120  # both syncs really ran over several seconds
    assert peak <= rate + burst, f"{peak} requests in one second; budget {rate}/s + {burst}"
