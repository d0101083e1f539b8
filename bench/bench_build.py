"""Warehouse-side benchmark: full build vs the one-new-day incremental build.

For each scale: generate the demo data, time a full build (`--full-refresh`), then append
one new day of events and usage (copies of the last day, shifted, with new ids), move
`plg_as_of` forward a day and time the incremental build. Both are reported against a
floor measured in the same run: one plain aggregation pass over the events table.
Each figure is the median of --repeat runs (min and max shown). Peak memory is the
largest RSS of the dbt process tree (sampled with psutil).

    python bench/bench_build.py --scales small medium --repeat 3

`--floor-scale tiny` also measures the fixed cost of a scheduled run: the same one-new-day
`dbt run` of the same models on the tiny warehouse (100k events: almost no data work), so
what remains is dbt's per-run floor (startup, parsing the manifest, compiling and
materialising each node, writing artifacts). It is reported next to every scale's ratio
as "fixed cost s" and "fixed / full": the part of "incremental / full" that no SQL change
can remove. A scale that is itself the floor scale is reused, not measured twice.

`--dbt-floor` goes one step further (bench/dbt_floor.py): the same DAG with every model
`select 1 as x` (same refs, materialisations, incremental strategy, contracts), timed as a
scheduled `dbt run`: dbt's own cost for this many nodes in this shape, with no data work
and none of our macros. Reported as "dbt floor s" and "dbt floor / full": no change to the
models' SQL can bring `incremental / full` below it.

`--keep DIR` keeps, per scale, the warehouse as the full build left it
(`DIR/<scale>_full.duckdb`: copy it, append a day and time `dbt run` again to work on the
incremental path without regenerating) and the per-model seconds of the last full and
one-new-day runs (`DIR/<scale>_models.json`, from dbt's run_results.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import dbt_floor  # noqa: E402
from sync.demo.generator import generate  # noqa: E402

AS_OF = dt.date(2026, 11, 1)


def _peak_rss(proc: subprocess.Popen, stop: threading.Event, out: list[int]) -> None:
    peak = 0
    try:
        parent = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                procs = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.05)
    except psutil.Error:
        pass
    out.append(peak)


def _dbt(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run dbt, return (seconds, peak RSS bytes); raise on failure."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "dbt"), *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stop, peak = threading.Event(), []
    sampler = threading.Thread(target=_peak_rss, args=(proc, stop, peak))
    sampler.start()
    output, _ = proc.communicate()
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{output[-3000:]}")
    return time.perf_counter() - started, peak[0] if peak else 0


def _append_day(db: Path, new_day: dt.date) -> int:
    con = duckdb.connect(str(db))
    try:
        last = new_day - dt.timedelta(days=1)
        con.execute(
            """
            insert into raw.tracks by name
            select * replace (
                md5(id || 'next') as id,
                "timestamp" + interval 1 day as "timestamp",
                original_timestamp + interval 1 day as original_timestamp,
                sent_at + interval 1 day as sent_at,
                received_at + interval 1 day as received_at,
                uuid_ts + interval 1 day as uuid_ts
            )
            from raw.tracks where cast("timestamp" as date) = ?
            """,
            [last],
        )
        added = con.execute(
            'select count(*) from raw.tracks where cast("timestamp" as date) = ?', [new_day]
        ).fetchone()[0]
        con.execute(
            """
            insert into raw.usage_daily
            select account_id, usage_date + 1, metric, value
            from raw.usage_daily where usage_date = ?
            """,
            [last],
        )
    finally:
        con.close()
    return added


def _floor(db: Path) -> float:
    con = duckdb.connect(str(db), read_only=True)
    try:
        started = time.perf_counter()
        con.execute(
            'select user_id, event, cast("timestamp" as date), count(*) from raw.tracks group by all'
        ).fetchall()
        return time.perf_counter() - started
    finally:
        con.close()


def _model_seconds(target: Path) -> list[tuple[str, float]]:
    """Per-model execution seconds of the last dbt invocation, slowest first."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    rows = [(r["unique_id"].split(".")[-1], round(r["execution_time"], 2)) for r in results]
    return sorted(rows, key=lambda row: -row[1])


def run_scale(
    scale: str,
    repeat: int,
    work: Path,
    command: str = "run",
    keep: Path | None = None,
    threads: int | None = None,
    parsed: bool = False,
) -> dict:
    db = work / f"{scale}.duckdb"
    profiles = work / "profiles"
    profiles.mkdir(exist_ok=True)
    shutil.copy(REPO / "profiles.example.yml", profiles / "profiles.yml")
    env = dict(
        os.environ,
        DBT_PROFILES_DIR=str(profiles),
        PLG_DUCKDB_PATH=str(db),
        PLG_TARGET="duckdb",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    common = ["--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--quiet"]
    if threads:  # both builds alike; the profile's own setting otherwise
        common += ["--threads", str(threads)]
    full, incr, floors, full_rss, incr_rss, gen, parse_s = [], [], [], [], [], [], []
    events = new_events = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = generate(db, scale=scale, seed=42, as_of=AS_OF)
        gen.append(time.perf_counter() - started)
        events = result.row_counts["tracks"]
        floors.append(_floor(db))
        vars_ = json.dumps({"plg_as_of": str(AS_OF)})
        if command == "run":  # seeds are configuration, loaded once and not timed
            _dbt(["seed", "--full-refresh", *common], env)
        if parsed:  # untimed: the timed run reuses the partial parse, as a scheduled run does
            parse_s.append(_dbt(["parse", "--vars", vars_, *common], env)[0])
        seconds, rss = _dbt([command, "--full-refresh", "--vars", vars_, *common], env)
        full.append(seconds)
        full_rss.append(rss)
        full_models = _model_seconds(work / "target")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(db, keep / f"{scale}_full.duckdb")
        new_events = _append_day(db, AS_OF)
        vars_ = json.dumps({"plg_as_of": str(AS_OF + dt.timedelta(days=1))})
        if parsed:
            parse_s.append(_dbt(["parse", "--vars", vars_, *common], env)[0])
        seconds, rss = _dbt([command, "--vars", vars_, *common], env)
        incr.append(seconds)
        incr_rss.append(rss)
        if keep is not None:
            (keep / f"{scale}_models.json").write_text(
                json.dumps(
                    {"full": full_models, "incremental": _model_seconds(work / "target")}, indent=1
                )
            )
    return {
        "scale": scale,
        "events": events,
        "new_day_events": new_events,
        "generate_s": gen,
        "floor_s": floors,
        "full_s": full,
        "incremental_s": incr,
        "full_peak_rss_mb": [r / 2**20 for r in full_rss],
        "incremental_peak_rss_mb": [r / 2**20 for r in incr_rss],
        "untimed_parse_s": parse_s,
    }


def _fmt(values: list[float], digits: int = 1) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def add_fixed_cost(results: list[dict], floor: dict) -> None:
    """Attach the floor scale's one-new-day runs to every scale's result (same values in
    each, so a row of the JSON stands alone): `fixed_cost_scale`, `fixed_cost_events`,
    `fixed_cost_s`."""
    for r in results:
        r["fixed_cost_scale"] = floor["scale"]
        r["fixed_cost_events"] = floor["events"]
        r["fixed_cost_s"] = list(floor["incremental_s"])


def add_dbt_floor(results: list[dict], floor: dict) -> None:
    """Attach the replica's runs (bench/dbt_floor.py) to every scale's result:
    `dbt_floor_s`, `dbt_floor_models`."""
    for r in results:
        r["dbt_floor_s"] = list(floor["run_s"])
        r["dbt_floor_models"] = floor["models"]


# the optional columns a run can add, each a pair "<floor> s | <floor> / full"
FLOOR_COLUMNS = [
    ("fixed_cost_s", "fixed cost s", "fixed / full"),
    ("dbt_floor_s", "dbt floor s", "dbt floor / full"),
]


def _floor_cells(r: dict, key: str, full: float) -> str:
    if key not in r:
        return " n/a | n/a |"
    return f" {_fmt(r[key])} | {statistics.median(r[key]) / full:.2f} |"


def report(results: list[dict]) -> str:
    floors = [c for c in FLOOR_COLUMNS if any(c[0] in r for r in results)]
    fixed = any(key == "fixed_cost_s" for key, _, _ in floors)
    replica = any(key == "dbt_floor_s" for key, _, _ in floors)
    lines = [
        "| scale | events | floor s | full build s | x floor | one-new-day build s | x floor "
        "| incremental / full |"
        + "".join(f" {seconds} | {share} |" for _, seconds, share in floors)
        + " peak RSS full MB | peak RSS incr MB |",
        "|---|---|---|---|---|---|---|---|" + "---|---|" * len(floors) + "---|---|",
    ]
    for r in results:
        floor = statistics.median(r["floor_s"])
        full = statistics.median(r["full_s"])
        incr = statistics.median(r["incremental_s"])
        cells = "".join(_floor_cells(r, key, full) for key, _, _ in floors)
        lines.append(
            f"| {r['scale']} | {r['events']:,} | {_fmt(r['floor_s'], 2)} | {_fmt(r['full_s'])} "
            f"| {full / floor:.0f} | {_fmt(r['incremental_s'])} | {incr / floor:.0f} "
            f"| {incr / full:.2f} |{cells} {_fmt(r['full_peak_rss_mb'], 0)} "
            f"| {_fmt(r['incremental_peak_rss_mb'], 0)} |"
        )
    if fixed:
        r = next(r for r in results if "fixed_cost_s" in r)
        lines += [
            "",
            f"Fixed cost: the same one-new-day `dbt run` of the same models on the "
            f"{r['fixed_cost_scale']} warehouse ({r['fixed_cost_events']:,} events, almost no "
            "data work), measured in the same run: dbt's floor for a scheduled run (startup, "
            "manifest, compiling and materialising every node, artifacts). `fixed / full` is "
            "the part of `incremental / full` that no SQL change removes; the rest is the new "
            "day's data work.",
        ]
    if replica:
        r = next(r for r in results if "dbt_floor_s" in r)
        lines += [
            "",
            f"dbt floor: the same DAG of {r['dbt_floor_models']} models (refs, "
            "materialisations, incremental strategy, contracts) with every model `select 1`, "
            "timed as a scheduled `dbt run` in the same run (bench/dbt_floor.py): dbt's own "
            "cost per run for this project's shape, with no data work and none of our macros.",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", nargs="+", default=["small"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write raw results here")
    parser.add_argument(
        "--command",
        default="run",
        choices=["run", "build"],
        help="run: models only (what the incremental path changes); build: models and tests",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep each scale's warehouse after the full build and per-model seconds here",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="dbt --threads for both builds (default: the profile's, 2 in profiles.example.yml)",
    )
    parser.add_argument(
        "--parse-first",
        action="store_true",
        help=(
            "run an untimed `dbt parse` with the same --vars before each timed run: a new "
            "plg_as_of forces a full re-parse, which a scheduled run (no --vars) does not pay"
        ),
    )
    parser.add_argument(
        "--floor-scale",
        help=(
            "also time the one-new-day run at this (small) scale, e.g. tiny, and report it as "
            "the fixed cost of a run next to each scale's incremental / full ratio"
        ),
    )
    parser.add_argument(
        "--dbt-floor",
        action="store_true",
        help=(
            "also time this project's DAG with every model `select 1` (bench/dbt_floor.py) "
            "and report it as dbt's own floor next to each ratio"
        ),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plg_bench_build_") as tmp:

        def measure(scale: str) -> dict:
            return run_scale(
                scale,
                args.repeat,
                Path(tmp),
                args.command,
                args.keep,
                args.threads,
                args.parse_first,
            )

        results = [measure(s) for s in args.scales]
        if args.floor_scale:
            floor = next((r for r in results if r["scale"] == args.floor_scale), None)
            add_fixed_cost(results, floor or measure(args.floor_scale))
        if args.dbt_floor:
            manifest = json.loads((Path(tmp) / "target" / "manifest.json").read_text())
            try:
                add_dbt_floor(results, dbt_floor.measure(manifest, args.repeat, args.threads or 2))
            except RuntimeError as error:  # keep the scales' figures; say why the floor is missing
                print(f"dbt floor not measured: {error}", file=sys.stderr)
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
