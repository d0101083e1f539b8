"""`make demo`: the main job on the embedded default, end to end.

demo data -> `dbt build` on a local DuckDB file -> `plg-sync plan` and a run to the
`file` destination -> a summary and one query an analyst can paste. No server, no
credentials. Each step is the same command a user would run by hand, so the demo also
shows how the pieces are driven in production.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "sync.demo.yml"
ANALYST_QUERY = """select account_name, plan, mrr, primary_signal, pql_score, risk_band, risk_reasons
from main.account_signals
where primary_signal <> 'none'
order by mrr desc
limit 10;"""


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def _step(title: str, cmd: list[str], env: dict[str, str]) -> float:
    print(f"\n==> {title}\n    $ {' '.join(cmd)}", flush=True)
    started = time.perf_counter()
    completed = subprocess.run(cmd, cwd=REPO, env=env, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        print(f"\n{title} failed (exit {completed.returncode}); see the output above.", flush=True)
        sys.exit(completed.returncode)
    print(f"    done in {elapsed:.1f}s", flush=True)
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seed", default="42")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(REPO))
    env.setdefault("PLG_DUCKDB_PATH", str(REPO / "data" / "plg_signals.duckdb"))
    env.setdefault("PLG_TARGET", "duckdb")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    db_path = Path(env["PLG_DUCKDB_PATH"])
    timings: dict[str, float] = {}

    # A fresh warehouse every time: the demo shows a first sync and an idempotent rerun,
    # and old state from an earlier version of the models would trip the drift guardrail.
    for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(REPO / "data" / "sync_output", ignore_errors=True)

    started = time.perf_counter()
    timings["demo data"] = _step(
        "Generating demo data",
        [
            _bin("plg-sync"),
            "demo-data",
            "--scale",
            args.scale,
            "--seed",
            args.seed,
            "--path",
            str(db_path),
        ],
        env,
    )
    timings["dbt build"] = _step(
        "Building the signal models (dbt build: seeds, models, data and unit tests)",
        [_bin("dbt"), "build", "--quiet", "--warn-error-options", '{"error": []}'],
        env,
    )
    if DEMO_CONFIG.exists():
        sync_env = dict(env, PLG_SYNC_CONFIG=str(DEMO_CONFIG))
        timings["sync plan"] = _step(
            "Planning the syncs (what would change in each destination)",
            [_bin("plg-sync"), "plan"],
            sync_env,
        )
        timings["sync run"] = _step(
            "Running the syncs to the file destination (data/sync_output/)",
            [_bin("plg-sync"), "run"],
            sync_env,
        )
        timings["sync rerun"] = _step(
            "Running again: nothing changed, so nothing is sent",
            [_bin("plg-sync"), "run"],
            sync_env,
        )
    total = time.perf_counter() - started
    _summary(db_path, timings, total)


def _summary(db_path: Path, timings: dict[str, float], total: float) -> None:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        counts = con.execute(
            """
            select
                count(*),
                count(*) filter (where is_pql),
                count(*) filter (where is_at_risk),
                count(*) filter (where is_recovered),
                count(*) filter (where is_near_limit)
            from main.account_signals
            """
        ).fetchone()
        users = con.execute(
            "select activation_status, count(*) from main.user_activation group by 1 order by 1"
        ).fetchall()
    finally:
        con.close()
    accounts, pql, at_risk, recovered, near_limit = counts
    print("\n" + "=" * 72)
    print(
        f"plg_signals demo: done in {total:.1f}s "
        f"({', '.join(f'{k} {v:.1f}s' for k, v in timings.items())})"
    )
    print(f"  warehouse:  {db_path} (DuckDB; schema main = models, raw = demo data)")
    if DEMO_CONFIG.exists():
        print(
            f"  syncs:      {REPO / 'data' / 'sync_output'} (one JSON-lines file per sync);"
            " state in schema plg_sync"
        )
    print(
        f"  accounts:   {accounts:,}: {pql} PQLs, {at_risk} at risk, {recovered} recovered,"
        f" {near_limit} near a plan limit"
    )
    print("  users:      " + ", ".join(f"{status} {n:,}" for status, n in users))
    print(
        "\nPaste into any DuckDB client opened on the warehouse, e.g. .venv/bin/python -c "
        f"\"import duckdb; duckdb.connect('{db_path}', read_only=True).sql(open(0).read()).show()\" "
        "then the query and Ctrl-D (the project installs DuckDB's Python package, not its CLI):\n"
    )
    print(ANALYST_QUERY)
    print("=" * 72)


if __name__ == "__main__":
    main()
