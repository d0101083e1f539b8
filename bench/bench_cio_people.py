"""Customer.io people sync from the demo model: share of the ceiling, and peak RSS.

    .venv/bin/python bench/bench_cio_people.py --records 200000 --repeat 3 [--sink standin]
    .venv/bin/python bench/bench_cio_people.py --records 1000000 --repeat 1   # memory

The rows are the demo's own `sync_customerio_people` (dbt builds it from generated demo
data at `tiny` scale), repeated with new keys up to `--records`, so operations have the
real attribute set and sizes (about 700 bytes each). Each run is a separate
`plg-sync --config sync.yml run` process from empty state (every row is new) against

- `neutral` (default): `bench/neutral_sink.py`, which only reads and counts, so the sink's
  own CPU cannot cap or hide plg-sync's throughput; or
- `standin`: the validating Customer.io stand-in of the tests (counts per record id).

Both enforce Customer.io's fair-use limit (100 requests/s, 429 past it). The ceiling is
that limit times the operations per request actually sent: 100 x ops/request. Also
reported: the ceiling for full 500 KB requests at the measured operation size, bytes per
operation, requests/s, 429s, duplicates and lost records, peak RSS of the process tree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

from bench.bench_peers import CioCounting, _watch_rss, reset_state, write_bench_project  # noqa: E402
from bench.neutral_sink import NeutralSink  # noqa: E402

LIMIT_RPS = 100
MAX_BATCH_BYTES = 500_000
BIN = REPO / ".venv" / "bin"


def build_demo(path: Path) -> None:
    """The demo warehouse at `tiny` scale with `sync_customerio_people` built by dbt."""
    env = {**os.environ, "PLG_DUCKDB_PATH": str(path), "PLG_TARGET": "duckdb"}
    env |= {"DBT_PROFILES_DIR": str(REPO), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    target = path.parent / "dbt_target"
    steps = [
        [str(BIN / "plg-sync"), "demo-data", "--scale", "tiny", "--path", str(path)],
        [str(BIN / "dbt"), "seed", "--quiet", "--target-path", str(target)],
        [str(BIN / "dbt"), "run", "--quiet", "--target-path", str(target), "--select"],
    ]
    steps[-1].append("+sync_customerio_people")
    for cmd in steps:
        subprocess.run(cmd, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)


def make_project(root: Path, demo: Path, records: int) -> Path:
    """A warehouse whose `sync_cio_people` is the demo model's rows repeated to `records`."""
    db = root / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"attach '{demo}' as demo (read_only)")
    n = con.execute("select count(*) from demo.main.sync_customerio_people").fetchone()[0]
    copies = -(-records // n)
    con.execute(
        f"""
        create or replace table sync_cio_people as
        select p.* replace (
                   p.sync_key || '-' || r.i as sync_key,
                   p.id || '-' || r.i as id,
                   md5(p.sync_hash || r.i) as sync_hash)
        from demo.main.sync_customerio_people as p, range({copies}) as r(i)
        limit {records}
        """
    )
    types = con.execute("describe sync_cio_people").fetchall()
    con.close()
    write_bench_project(root, db, "sync_cio_people", {c[0]: c[1].lower() for c in types})
    return db


def run_once(root: Path, db: Path, records: int, sink: str, profile: Path | None) -> dict:
    reset_state(db)
    server = NeutralSink() if sink == "neutral" else CioCounting(rate_limit=100, rate_window=1.0)
    with server:
        sync = {
            "name": "cio_people",
            "model": "sync_cio_people",
            "destination": "customerio",
            "object": "person",
            "identifier": {"id": "sync_key"},
            "on_remove": "unset",
        }
        if os.environ.get("BENCH_BATCH_SIZE"):  # e.g. the old engine's group size
            sync["batch_size"] = int(os.environ["BENCH_BATCH_SIZE"])
        if os.environ.get("BENCH_CHECKPOINT_EVERY"):
            sync["checkpoint_every"] = int(os.environ["BENCH_CHECKPOINT_EVERY"])
        destination = {"type": "customerio", "site_id": "site-1", "api_key": "key-1"}
        destination["base_url"] = server.url
        destination |= yaml.safe_load(os.environ.get("BENCH_DESTINATION_OPTIONS") or "{}")
        doc = {"version": 1, "destinations": {"customerio": destination}, "syncs": [sync]}
        config = root / "sync.yml"
        config.write_text(yaml.safe_dump(doc, sort_keys=False))
        env = {**os.environ, "PYTHONPATH": str(REPO), "DBT_PROFILES_DIR": str(root)}
        cmd = [str(BIN / "plg-sync"), "--config", str(config), "run"]
        if profile is not None:  # py-spy: where plg-sync's own time goes
            cmd = [str(BIN / "py-spy"), "record", "-o", str(profile), "-f", "raw", "--", *cmd]
        started = time.perf_counter()
        cpu0, own0 = _children_cpu(), _own_cpu()
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        peak = _watch_rss(proc)
        wall = time.perf_counter() - started
        cpu = _children_cpu() - cpu0
        sink_cpu = _own_cpu() - own0  # the sink's threads (and the RSS watcher) in this process
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode != 0:
            raise RuntimeError(f"plg-sync run exited {proc.returncode}: {err[-2000:]}")
        if sink == "neutral":
            t = server.tally(records)
        else:
            t = server.tally(records)
            window = (server.last_at - server.first_at) if server.first_at else 0.0
            accepted = t["requests"] - t["throttled"]
            t |= {
                "send_s": window,
                "accepted_requests": accepted,
                "ops_per_request": records / max(1, accepted),
                "bytes_per_op": t.pop("op_bytes"),  # the stand-in's body bytes per operation
            }
    return summarise(
        t
        | {"wall_s": wall, "cpu_s": cpu, "sink_cpu_s": sink_cpu}
        | {"peak_rss_mb": peak / 2**20, "records": records}
    )


def _children_cpu() -> float:
    """User + system CPU seconds of finished child processes (the plg-sync run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    """User + system CPU seconds of this process (the sink answering the run)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def summarise(r: dict[str, Any]) -> dict[str, Any]:
    """Rates over the send window: n accepted requests span n-1 intervals, so the first
    request's operations are not counted (no credit for a free start)."""
    n = max(2, r["accepted_requests"])
    r["rate"] = r["records"] * (n - 1) / n / r["send_s"] if r["send_s"] else 0.0
    r["requests_per_s"] = (n - 1) / r["send_s"] if r["send_s"] else 0.0
    r["ceiling"] = LIMIT_RPS * r["ops_per_request"]
    r["share"] = r["rate"] / r["ceiling"] if r["ceiling"] else 0.0
    r["ceiling_500kb"] = LIMIT_RPS * (MAX_BATCH_BYTES // max(1, r["bytes_per_op"]))
    r["share_500kb"] = r["rate"] / r["ceiling_500kb"] if r["ceiling_500kb"] else 0.0
    return r


def bench(records: int, repeat: int, sink: str, demo: Path | None, profile: Path | None) -> dict:
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="plg-bench-cio-") as tmp:
        root = Path(tmp)
        if demo is None:
            demo = root / "demo" / "demo.duckdb"
            demo.parent.mkdir()
            build_demo(demo)
        db = make_project(root, demo, records)
        runs = [run_once(root, db, records, sink, profile) for _ in range(repeat)]
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    stats = {
        k: {
            "median": statistics.median(r[k] for r in runs),
            "min": min(r[k] for r in runs),
            "max": max(r[k] for r in runs),
        }
        for k in keys
    }
    after = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"sink": sink, "records": records, "runs": runs, "stats": stats} | {
        "load_before": load,
        "load_after": after,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sink", choices=["neutral", "standin"], default="neutral")
    ap.add_argument("--demo-db", type=Path, help="reuse a demo DuckDB with the sync model built")
    ap.add_argument("--profile", type=Path, help="py-spy raw profile of the plg-sync run")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    res = bench(args.records, args.repeat, args.sink, args.demo_db, args.profile)
    s = res["stats"]

    def f(key: str, digits: int = 0, scale: float = 1.0) -> str:
        m, lo, hi = (s[key][k] * scale for k in ("median", "min", "max"))
        return f"{m:,.{digits}f} ({lo:,.{digits}f}-{hi:,.{digits}f})"

    print(
        f"{args.sink} sink, {args.records:,} records, {args.repeat} run(s), load "
        f"{res['load_before']} -> {res['load_after']}\n"
        f"  records/s {f('rate')}; share of ceiling {f('share', 1, 100)}% "
        f"(ceiling {f('ceiling')} = 100 req/s x {f('ops_per_request')} ops/request)\n"
        f"  bytes/op {f('bytes_per_op')}; requests/s {f('requests_per_s', 1)}; "
        f"429s {f('throttled')}; share of the full-500 KB ceiling {f('share_500kb', 1, 100)}%\n"
        f"  wall {f('wall_s', 1)} s; CPU of plg-sync {f('cpu_s', 1)} s (sink {f('sink_cpu_s', 1)} s); "
        f"peak RSS {f('peak_rss_mb')} MB; "
        f"duplicates {s['duplicates']['max']:.0f}; lost {s['lost']['max']:.0f}"
    )
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))


if __name__ == "__main__":
    main()
