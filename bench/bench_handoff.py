"""Handoff latency (issue 18): from qualifying events landing in the warehouse to the deal,
the owner and the Slack alert arriving at the stand-ins, through the scheduled job.

    .venv/bin/python bench/bench_handoff.py --scale tiny     # about 2-3 min on 2 cores
    .venv/bin/python bench/bench_handoff.py --scale small
    .venv/bin/python bench/run_all.py --sections handoff      # small + medium, into docs

Setup (not timed): generate the demo warehouse as of midnight, `dbt build`, one converging
`plg-sync run` into a HubSpot stand-in (companies, owners, deals, tasks) and routed Slack
stand-ins. Timed: nine qualifying events each for `--accounts` free accounts below the PQL
threshold land at 12:01-12:09 (inserted into raw.tracks, received "now"); then the job a
scheduler runs at 12:15: incremental `dbt build` + `plg-sync run`. Each stand-in records
when each request arrived, so the latency is per account: events landed -> its deal upsert
/ its company's owner / its Slack message. The job's split (dbt vs sync) is printed too,
with the slowest nodes of the incremental build (from dbt's run_results.json).
Results go to bench/results/handoff_<scale>.json; `bench/run_all.py --sections handoff`
runs it per scale and writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sync.demo.generator import generate  # noqa: E402
from tests.demo.conftest import run_dbt  # noqa: E402
from tests.standins.base import Request  # noqa: E402
from tests.standins.hubspot import HubSpotStandIn  # noqa: E402
from tests.standins.slack import SlackStandIn  # noqa: E402

AS_OF = dt.date(2026, 11, 1)
EVENTS = ["paywall_hit", "report_shared", "teammate_invited"] * 3
TOKEN = "bench-token"


class _Timed:
    """Mixin: remember when each request arrived (wall clock) with its body."""

    def dispatch(self, request: Request) -> Any:
        self.arrivals.append((time.time(), request))  # type: ignore[attr-defined]
        return super().dispatch(request)  # type: ignore[misc]


class TimedHubSpot(_Timed, HubSpotStandIn):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.arrivals: list[tuple[float, Request]] = []


class TimedSlack(_Timed, SlackStandIn):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.arrivals: list[tuple[float, Request]] = []


def _dbt(root: Path, db: Path, *args: str) -> float:
    started = time.time()
    completed = run_dbt(root, db, *args, timeout=1800)
    if completed.returncode != 0:
        raise RuntimeError(completed.stdout[-3000:])
    return time.time() - started


def _sync(config: Path, db: Path, env: dict[str, str]) -> float:
    started = time.time()
    completed = subprocess.run(
        [str(REPO / ".venv" / "bin" / "plg-sync"), "--config", str(config), "run"],
        env={**os.environ, **env, "PLG_DUCKDB_PATH": str(db), "PLG_TARGET": "duckdb"},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stdout[-3000:] + completed.stderr[-2000:])
    return time.time() - started


def _config(root: Path, hubspot: str, name: str = "sync.yml", slack_rps: float = 1.0) -> Path:
    """The job's sync.yml; `slack_rps` lifts Slack's pacing for the (untimed) setup run,
    which otherwise posts the whole 7-day backlog of alerts at 1 message/s per webhook."""
    project = root / "dbt_project"
    project.mkdir(exist_ok=True)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {"name": "plg_signals", "profile": "plg_signals", "target-path": str(root / "target")}
        )
    )
    fast = {"requests_per_second": 18, "burst": 5}
    example = yaml.safe_load((REPO / "sync.example.yml").read_text())
    syncs = {s["name"]: s for s in example["syncs"]}
    chosen = []
    for name in (
        "hubspot_companies",
        "hubspot_company_owners",
        "hubspot_deals",
        "slack_handoff_alerts",
    ):
        sync = dict(syncs[name])
        sync.pop("max_failed_share", None)
        chosen.append(sync)
    chosen[0] = {**chosen[0], "fields": {"name": "name", "plg_plan": "plg_plan"}}
    doc = {
        "version": 1,
        "state_schema": "plg_sync",
        "dbt": {"project_dir": str(project), "profiles_dir": str(root / "profiles")},
        "destinations": {
            "hubspot": {
                "type": "hubspot",
                "access_token": {"env": "BENCH_HUBSPOT_TOKEN"},
                "base_url": hubspot,
                **fast,
            },
            "slack_handoff": {
                "type": "slack",
                "webhook_url": {"env": "BENCH_SLACK_DEFAULT"},
                "routes": {s: {"env": f"BENCH_SLACK_{s.upper()}"} for s in ("smb", "mid_market")},
                **({"requests_per_second": slack_rps, "burst": 50} if slack_rps != 1.0 else {}),
            },
        },
        "syncs": chosen,
    }
    config = root / name
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    return config


def _plant(db: Path, accounts: int, at: dt.datetime) -> dict[str, str]:
    """Nine qualifying events for each of the `accounts` eligible non-PQL accounts with the
    highest scores; returns account_id -> account_name."""
    con = duckdb.connect(str(db))
    try:
        chosen = con.execute(
            """
            select s.account_id, s.account_name, min(u.user_id)
            from main.account_pql_scores as s
            inner join main.stg_app__users as u on u.account_id = s.account_id
            where s.is_pql_eligible and not s.is_pql
            group by 1, 2, s.pql_score
            order by s.pql_score desc, s.account_id
            limit ?
            """,
            [accounts],
        ).fetchall()
        received = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for account_id, _, user_id in chosen:
            for i, event in enumerate(EVENTS):
                occurred = at + dt.timedelta(minutes=i)
                # Segment's `tracks` shape (no properties; the account comes from `groups`)
                con.execute(
                    "insert into raw.tracks (id, user_id, event, event_text, "
                    '"timestamp", original_timestamp, sent_at, received_at, uuid_ts, '
                    "context_library_name) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'analytics.js')",
                    [f"bench-{account_id}-{i}", user_id, event, event,
                     occurred, occurred, occurred, received, received],
                )  # fmt: skip
        return {a: n for a, n, _ in chosen}
    finally:
        con.close()


def _first(
    arrivals: list[tuple[float, Request]], since: float, needle: str, path: str
) -> float | None:
    for at, request in arrivals:
        if at >= since and path in request.path and needle.encode() in request.body:
            return at
    return None


def _run_results(root: Path) -> list[dict[str, Any]]:
    try:
        return json.loads((root / "target" / "run_results.json").read_text())["results"]
    except (OSError, KeyError, ValueError):
        return []


def _time_by_kind(root: Path) -> dict[str, dict[str, float]]:
    """Nodes and summed execution seconds per kind (model, data test, unit test, ...) of the
    last build: where a `dbt build` spends its time (the sum exceeds the wall time by the
    thread count at most)."""
    kinds: dict[str, dict[str, float]] = {}
    for r in _run_results(root):
        kind = r["unique_id"].split(".", 1)[0]
        entry = kinds.setdefault(kind, {"nodes": 0, "s": 0.0})
        entry["nodes"] += 1
        entry["s"] = round(entry["s"] + r["execution_time"], 1)
    return kinds


def _slowest_nodes(root: Path, top: int = 6) -> list[dict[str, Any]]:
    """The build's slowest nodes (models, tests) from dbt's run_results.json."""
    results = _run_results(root)
    timed = sorted(
        ({"node": r["unique_id"].split(".", 1)[1], "s": round(r["execution_time"], 1)}
         for r in results),
        key=lambda r: -r["s"],
    )  # fmt: skip
    return timed[:top]


def run(scale: str, accounts: int = 5, job_args: tuple[str, ...] = ()) -> dict[str, Any]:
    """One measurement at `scale`; returns the result (also written to bench/results/).
    `job_args` are extra `dbt build` arguments for the timed job (e.g. `--exclude
    test_type:unit`, what a scheduler may run since unit tests check logic, not data)."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="plg_handoff_") as tmp:
        root = Path(tmp)
        db = root / "plg.duckdb"
        generate(db, scale=scale, seed=42, as_of=AS_OF)
        setup_build = _dbt(root, db, "build", "--vars", f'{{plg_as_of: "{AS_OF}"}}')
        slack_path = "/services/T000/B000/bench"
        with (
            TimedHubSpot(token=TOKEN) as hubspot,
            TimedSlack(secret_path=slack_path, rate_limit=1000) as default,
            TimedSlack(secret_path=slack_path, rate_limit=1000) as smb,
            TimedSlack(secret_path=slack_path, rate_limit=1000) as mid,
        ):
            env = {
                "BENCH_HUBSPOT_TOKEN": TOKEN,
                "BENCH_SLACK_DEFAULT": default.webhook_url,
                "BENCH_SLACK_SMB": smb.webhook_url,
                "BENCH_SLACK_MID_MARKET": mid.webhook_url,
            }
            config = _config(root, hubspot.url)
            subprocess.run(
                [str(REPO / ".venv" / "bin" / "plg-sync"), "--config", str(config), "setup",
                 "hubspot", "--apply"],
                env={**os.environ, **env, "PLG_DUCKDB_PATH": str(db), "PLG_TARGET": "duckdb"},
                check=True, capture_output=True,
            )  # fmt: skip
            # setup: converge every sync (Slack unpaced: the stand-ins accept 1000/s), so
            # the timed job sends only what the new events change, at the real pacing
            converge = _sync(_config(root, hubspot.url, "sync_setup.yml", 500.0), db, env)

            planted = _plant(db, accounts, dt.datetime(2026, 11, 1, 12, 1))
            landed = time.time()
            dbt_seconds = _dbt(
                root, db, "build", *job_args, "--vars", '{plg_as_of: "2026-11-01 12:15:00"}'
            )
            slowest, by_kind = _slowest_nodes(root), _time_by_kind(root)
            sync_started = time.time()
            sync_seconds = _sync(config, db, env)

            slack_arrivals = default.arrivals + smb.arrivals + mid.arrivals
            rows = []
            for account_id, name in planted.items():
                deal = _first(hubspot.arrivals, landed, account_id, "/objects/deals/batch/upsert")
                owner = _first(
                    hubspot.arrivals, landed, account_id, "/objects/companies/batch/upsert"
                )
                alert = _first(
                    sorted(slack_arrivals, key=lambda a: a[0]), landed, name, "/services/"
                )
                rows.append(
                    {
                        "account_id": account_id,
                        "deal_s": None if deal is None else round(deal - landed, 1),
                        "owner_s": None if owner is None else round(owner - landed, 1),
                        "slack_s": None if alert is None else round(alert - landed, 1),
                        "deal_after_sync_start_s": None
                        if deal is None
                        else round(deal - sync_started, 1),
                        "slack_after_sync_start_s": None
                        if alert is None
                        else round(alert - sync_started, 1),
                    }
                )
            slack_posts = sum(1 for at, _ in slack_arrivals if at >= sync_started)
    done = [r for r in rows if r["deal_s"] is not None]
    result = {
        "scale": scale,
        "job_dbt_args": " ".join(job_args),
        "accounts_planted": len(rows),
        "accounts_handed_off": len(done),
        "setup_build_s": round(setup_build, 1),
        "converge_sync_s": round(converge, 1),
        "job_dbt_build_s": round(dbt_seconds, 1),
        "job_plg_sync_s": round(sync_seconds, 1),
        "deal_latency_s_max": max((r["deal_s"] for r in done), default=None),
        "owner_latency_s_max": max((r["owner_s"] or 0 for r in done), default=None),
        "slack_latency_s_max": max((r["slack_s"] or 0 for r in done), default=None),
        "deal_latency_s_median": statistics.median([r["deal_s"] for r in done]) if done else None,
        "deal_after_sync_start_s_max": max(
            (r["deal_after_sync_start_s"] for r in done), default=None
        ),
        "slack_after_sync_start_s_max": max(
            (r["slack_after_sync_start_s"] or 0 for r in done), default=None
        ),
        "slack_posts_in_job": slack_posts,
        "slowest_build_nodes": slowest,
        "build_seconds_by_kind": by_kind,
        "per_account": rows,
        "machine": f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "load_before": " / ".join(f"{x:.2f}" for x in load_before),
        "load_after": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    suffix = "_" + "_".join(a.strip("-").replace(":", "-") for a in job_args) if job_args else ""
    out = REPO / "bench" / "results" / f"handoff_{scale}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument(
        "--job-dbt-args", default="", help="extra dbt build arguments for the timed job"
    )
    args = parser.parse_args(argv)
    result = run(args.scale, args.accounts, tuple(args.job_dbt_args.split()))
    print(json.dumps({k: v for k, v in result.items() if k != "per_account"}, indent=2))


if __name__ == "__main__":
    main()
