"""Fault matrix: every stand-in x fault kind x rate converges to the model, state never lies.

Each cell runs `plg-sync run` against a stand-in that misbehaves on a share of requests, and
reruns until a run plans nothing (bounded). Then: the destination holds every model row with
its values (100%), every sync_state key was accepted by the destination, and retries stayed
within `max_retries` per request. Quick mode runs one cell per destination.
"""

from __future__ import annotations

import time

import pytest

from tests.reliability.conftest import (
    FAST,
    FIGURES,
    KINDS,
    destination_config,
    destination_rows,
    make_standin,
    sync_entry,
)
from tests.sync.conftest import Project, people

MAX_RUNS = 30  # 60% per-record failures need ~14 runs for 1,000 records (0.6^14 * 1000 < 1)
DESTINATIONS = ("customerio", "hubspot", "salesforce")
RATES = (0.1, 0.3, 0.6)

QUICK = [("customerio", "5xx", 0.3), ("hubspot", "429", 0.3), ("salesforce", "partial", 0.3)]
FULL_CELLS = [
    pytest.param(d, k, r, marks=pytest.mark.reliability_full)
    for d in DESTINATIONS
    for k in KINDS
    for r in RATES
    if (d, k, r) not in QUICK
]


def _converge(project: Project, dest: str, kind: str, rate: float, n: int) -> None:
    project.set_model([(e, p, s) for e, p, s in people(n, plan="free")])
    project.update_model("score % 3 = 0", "plan = 'pro'")
    with make_standin(dest) as standin:
        standin.setup_faults(kind, rate)
        project.write_config(
            [sync_entry(project, dest)],
            destinations={dest: destination_config(dest, standin)},
        )
        started = time.monotonic()
        runs = retries = requests = 0
        converged = False
        while runs < MAX_RUNS:
            result = project.cli("run", expect=None)
            runs += 1
            assert result.exit_code in (0, 7), result.output
            run = project.sql(
                "select planned, requests, retries, failed, status from plg_sync.sync_runs"
                " order by started_at desc limit 1"
            )[0]
            requests += run[1] or 0
            retries += run[2] or 0
            assert (run[2] or 0) <= (run[1] or 0) * FAST["max_retries"]  # bounded retries
            if run[0] == 0:
                converged = True
                break
        model = {
            k: (e, p, float(s))
            for k, e, p, s in project.sql("select sync_key, email, plan, score from sync_people")
        }
        state = {k for (k,) in project.sql("select sync_key from plg_sync.sync_state")}
        at_dest = destination_rows(dest, standin)
        dest_by_key = {k.lower(): v for k, v in at_dest.items()}
        matching = sum(1 for k, v in model.items() if dest_by_key.get(k.lower()) == v)
        accepted = {k.lower() for k in standin.accepted}
        FIGURES["faults"].append(
            {
                "destination": dest,
                "fault": kind,
                "rate": rate,
                "records": n,
                "faults_injected": standin.injected if kind != "partial" else None,
                "stand_in_requests": len(standin.times),
                "client_requests": requests,
                "retries": retries,
                "runs": runs,
                "converged_pct": round(100 * matching / n, 2),
                "duplicates": sum(c - 1 for c in standin.accepted.values()),
                "seconds": round(time.monotonic() - started, 2),
            }
        )
        assert converged, f"not converged after {MAX_RUNS} runs"
        assert matching == n, f"{n - matching} records differ from the model"
        assert {k.lower() for k in state} <= accepted, "state claims unaccepted records"
        assert len(state) == n


@pytest.mark.parametrize(("dest", "kind", "rate"), [*QUICK, *FULL_CELLS])
def test_faulty_destination_converges_and_state_only_holds_accepted_records(
    project: Project, dest: str, kind: str, rate: float
) -> None:
    from tests.reliability.conftest import FULL

    _converge(project, dest, kind, rate, 1000 if FULL else 200)
