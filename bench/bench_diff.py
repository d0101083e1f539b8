"""Benchmark: is the in-warehouse diff cheap, and does a big run stay small in memory?

    .venv/bin/python bench/bench_diff.py [--rows 1000000] [--changed-share 0.01]

Builds a sync model of `--rows` rows in a throwaway DuckDB file, then measures

1. **diff + fetch**: what the engine does before sending anything: materialise the diff
   (full outer join of model and sync_state keys/hashes), count it, and stream the changed
   rows' columns into Python as tuples; with `--changed-share` of the rows changed;
2. **plain scan**, two ways: (A) every row and column read inside DuckDB into an Arrow
   table (no per-row Python work: the strictest baseline), and (B) every row streamed
   into Python through the engine's own fetch path (what a sync without an in-warehouse
   diff has to do at least);
3. **peak RSS** of a separate `plg-sync run` process sending every row (all added) to the
   file destination, sampled with psutil (and the kernel's ru_maxrss).

Each timing is the median of 3 (min/max shown). Prints a markdown table. Targets: diff +
fetch under 2x the plain scan (reported against both); peak RSS under 400 MB.
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
from collections.abc import Callable
from pathlib import Path

import duckdb
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sync.backends.duckdb import DuckDBBackend  # noqa: E402
from sync.dbt_project import Profile  # noqa: E402
from sync.state import StateStore  # noqa: E402

COLUMNS = {
    "sync_key": "varchar",
    "sync_hash": "varchar",
    "email": "varchar",
    "plan": "varchar",
    "pql_score": "integer",
    "seats_used": "integer",
    "last_active_at": "timestamp",
}


def build_model(db: Path, rows: int) -> None:
    con = duckdb.connect(str(db))
    con.execute(
        f"""
        create or replace table sync_people as
        select sync_key, md5(concat_ws('|', email, plan, pql_score, seats_used,
                                       last_active_at)) as sync_hash,
               email, plan, pql_score, seats_used, last_active_at
        from (
            select 'acct_' || i as sync_key, 'user' || i || '@example.com' as email,
                   ['free', 'team', 'business'][1 + i % 3] as plan,
                   (i * 7919) % 101 as pql_score, (i % 50) + 1 as seats_used,
                   timestamp '2024-01-01' + to_seconds(i) as last_active_at
            from range({rows}) as t(i)
        )
        """
    )
    con.close()


def write_project(root: Path, db: Path) -> Path:
    (root / "dbt_project.yml").write_text("name: bench\nprofile: bench\n")
    (root / "profiles.yml").write_text(
        yaml.safe_dump(
            {
                "bench": {
                    "target": "dev",
                    "outputs": {"dev": {"type": "duckdb", "path": str(db), "schema": "main"}},
                }
            }
        )
    )
    node = {
        "resource_type": "model",
        "name": "sync_people",
        "package_name": "bench",
        "database": db.stem,
        "schema": "main",
        "alias": "sync_people",
        "columns": {c: {"name": c, "data_type": t} for c, t in COLUMNS.items()},
        "config": {"contract": {"enforced": True}},
    }
    (root / "target").mkdir(exist_ok=True)
    (root / "target" / "manifest.json").write_text(
        json.dumps({"nodes": {"model.bench.sync_people": node}})
    )
    config = root / "sync.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "destinations": {"out": {"type": "file", "path": str(root / "out")}},
                "syncs": [
                    {
                        "name": "people",
                        "model": "sync_people",
                        "destination": "out",
                        "object": "person",
                        "batch_size": 1000,
                        "checkpoint_every": 5000,
                    }
                ],
            },
            sort_keys=False,
        )
    )
    return config


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def bench_diff(root: Path, db: Path, rows: int, share: float, repeat: int = 3) -> dict[str, object]:
    profile = Profile("bench", "dev", "duckdb", {"path": str(db)}, root)
    backend = DuckDBBackend(profile, "plg_sync")
    state = StateStore(backend)
    state.ensure_tables()
    model = backend.dialect.relation(db.stem, "main", "sync_people")
    backend.execute("delete from plg_sync.sync_state")
    backend.execute(
        "insert into plg_sync.sync_state select 'people', sync_key, sync_hash,"
        " now()::timestamp, 'seed' from main.sync_people"
    )
    if share > 0:
        step = round(1 / share)
        backend.execute(
            f"update main.sync_people set sync_hash = md5(sync_hash || 'x')"
            f" where hash(sync_key) % {step} = 0"
        )
    columns = [c for c in COLUMNS if c != "sync_hash"]
    fetched = [0]

    def diff_and_fetch() -> None:
        work, counts = state.build_diff("people", model, columns, full_resync=False)
        n = 0
        for chunk in state.stream_changes(work, len(columns), True, backend.fetch_size):
            n += len(chunk)
        fetched[0] = n
        assert n == counts.planned

    def plain_scan() -> None:
        backend._con.sql(f"select * from {model}").to_arrow_table()

    def scan_into_python() -> None:
        for _chunk in backend.stream(f"select * from {model}", None, backend.fetch_size):
            pass

    d = timed(diff_and_fetch, repeat)
    s = timed(plain_scan, repeat)
    py = timed(scan_into_python, repeat)
    backend.close()
    return {"diff": d, "scan": s, "scan_py": py, "changed": fetched[0]}


def bench_rss(root: Path, config: Path) -> dict[str, float]:
    """Peak RSS of a real `plg-sync run` sending every row to the file destination."""
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("drop schema if exists plg_sync cascade")
    con.close()
    env = {**os.environ, "PYTHONPATH": str(REPO), "DBT_PROFILES_DIR": str(root)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync.cli", "--config", str(config), "run"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run failed: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    lines = sum(1 for _ in (root / "out" / "people.jsonl").open())
    maxrss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"psutil_mb": peak / 2**20, "maxrss_mb": maxrss_kb / 1024, "s": elapsed, "lines": lines}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--changed-share", type=float, default=0.01)
    ap.add_argument("--skip-rss", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="plg-bench-") as tmp:
        root = Path(tmp)
        db = root / "warehouse.duckdb"
        t0 = time.perf_counter()
        build_model(db, args.rows)
        config = write_project(root, db)
        built = time.perf_counter() - t0
        r = bench_diff(root, db, args.rows, args.changed_share)
        rss = None if args.skip_rss else bench_rss(root, config)

    d, s, py = r["diff"], r["scan"], r["scan_py"]
    print(f"\nplg-sync diff benchmark: {args.rows:,} rows, {r['changed']:,} changed "
          f"({args.changed_share:.1%}); model built in {built:.1f}s\n")  # fmt: skip
    print("| measurement | median | min | max | target | ok |")
    print("|---|---|---|---|---|---|")
    for label, t in (
        ("A. plain scan: all rows and columns read inside DuckDB (into Arrow)", s),
        ("B. plain scan: all rows streamed into Python (the engine's fetch path)", py),
        ("diff + fetch of the changed rows into Python", d),
    ):
        print(f"| {label} | {t[0]:.3f}s | {t[1]:.3f}s | {t[2]:.3f}s | | |")  # type: ignore[index]
    for label, base in (("A", s), ("B", py)):
        ratio = d[0] / base[0]  # type: ignore[index]
        best = d[1] / base[1]  # type: ignore[index]
        print(
            f"| diff / scan {label} | {ratio:.2f}x (medians) | {best:.2f}x (best of 3) | | < 2x |"
            f" {'yes' if ratio < 2 else 'NO'} |"
        )
    if rss:
        ok = max(rss["psutil_mb"], rss["maxrss_mb"]) < 400
        print(
            f"| peak RSS, run sending {rss['lines']:,} records to the file destination "
            f"({rss['s']:.1f}s) | {rss['psutil_mb']:.0f} MB (psutil) | | "
            f"{rss['maxrss_mb']:.0f} MB (ru_maxrss) | < 400 MB | {'yes' if ok else 'NO'} |"
        )


if __name__ == "__main__":
    main()
