"""dbt's own floor for this project's DAG: the same models with no data work.

Why: a ratio such as "one-new-day build / full build" has a part no SQL can remove, what
dbt itself costs per run (startup, manifest, compiling and materialising each node,
artifacts). The tiny warehouse (`bench_build.py --floor-scale tiny`) still does some data
work and runs our macros; this replica does neither. It copies the real project's DAG
from its manifest (every model, its refs, materialisation, incremental strategy, unique
key, on_schema_change and enforced contract) into a throwaway dbt project whose every
model is `select 1 as x`, builds it once, then times plain `dbt run`s, the call a
scheduler makes. What is left is dbt-core + dbt-duckdb for this many nodes in this shape
on this machine.

    python bench/dbt_floor.py --manifest target/manifest.json --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = "plg_floor"
DBT_STRATEGIES = {"append", "delete+insert", "merge", "insert_overwrite", "microbatch"}


def _models(manifest: dict) -> list[dict]:
    """The enabled models of the manifest's root project, as dbt runs them."""
    root = manifest["metadata"].get("project_name")
    nodes = manifest["nodes"]
    return [
        node
        for node in nodes.values()
        if node["resource_type"] == "model"
        and (root is None or node["package_name"] == root)
        and node["config"].get("enabled", True)
    ]


def _config(node: dict) -> str:
    config = node["config"]
    items = {"materialized": config["materialized"]}
    if config["materialized"] == "incremental":
        items["unique_key"] = "x"  # same statements as the real key, one column
        items["on_schema_change"] = config.get("on_schema_change") or "ignore"
        strategy = config.get("incremental_strategy")
        if strategy:
            # a project's own strategy (e.g. plg_day_delete_insert) is its SQL, not dbt's
            # cost: the replica uses the dbt strategy it builds on
            items["incremental_strategy"] = (
                strategy if strategy in DBT_STRATEGIES else "delete+insert"
            )
    if config.get("contract", {}).get("enforced"):
        items["contract"] = {"enforced": True}
    return ", ".join(f"{key}={value!r}" for key, value in items.items())


def write_replica(manifest: dict, project: Path) -> int:
    """Write the replica project into `project`; return its number of models."""
    models = _models(manifest)
    if not models:
        project_name = manifest["metadata"].get("project_name")
        raise ValueError(
            f"no enabled models of project {project_name!r} in the manifest: pass the "
            "manifest.json of a `dbt parse` or `dbt run` of this project (--manifest)"
        )
    names = {node["unique_id"]: node["name"] for node in models}
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text(
        f"name: {PROJECT}\nversion: '1.0'\nconfig-version: 2\nprofile: {PROJECT}\n"
    )
    contracts = []
    for node in models:
        refs = [names[uid] for uid in node["depends_on"]["nodes"] if uid in names]
        lines = [f"{{{{ config({_config(node)}) }}}}"]
        lines += [f"-- depends_on: {{{{ ref('{ref}') }}}}" for ref in sorted(refs)]
        lines.append("select cast(1 as integer) as x")
        (project / "models" / f"{node['name']}.sql").write_text("\n".join(lines) + "\n")
        if node["config"].get("contract", {}).get("enforced"):
            contracts.append(node["name"])
    yml = ["version: 2", "models:"]
    for name in contracts:
        yml += [
            f"  - name: {name}",
            "    columns:",
            "      - name: x",
            "        data_type: integer",
        ]
    (project / "models" / "_contracts.yml").write_text("\n".join(yml) + "\n")
    return len(models)


def _profile(project: Path, threads: int) -> None:
    (project / "profiles.yml").write_text(
        f"{PROJECT}:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
        f"      path: {project / 'floor.duckdb'}\n      threads: {threads}\n"
    )


def _dbt(project: Path, args: list[str]) -> float:
    env = dict(os.environ, DBT_PROFILES_DIR=str(project), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    started = time.perf_counter()
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "dbt"), *args, "--quiet"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed in the replica:\n{done.stdout[-3000:]}")
    return time.perf_counter() - started


def measure(manifest: dict, repeat: int = 3, threads: int = 2) -> dict:
    """Build the replica, then time `repeat` scheduled runs (after one untimed parse, as a
    scheduled run reuses the partial parse). Returns the seconds and the node counts."""
    with tempfile.TemporaryDirectory(prefix="plg_dbt_floor_") as tmp:
        project = Path(tmp)
        count = write_replica(manifest, project)
        _profile(project, threads)
        _dbt(project, ["run", "--full-refresh"])
        _dbt(project, ["parse"])
        runs = [_dbt(project, ["run"]) for _ in range(repeat)]
    kinds = Counter(node["config"]["materialized"] for node in _models(manifest))
    return {"models": count, "materialized": dict(kinds), "threads": threads, "run_s": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, default=REPO / "target" / "manifest.json")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    result = measure(json.loads(args.manifest.read_text()), args.repeat, args.threads)
    runs = result["run_s"]
    print(
        f"{result['models']} models {result['materialized']}, threads {result['threads']}: "
        f"dbt run {statistics.median(runs):.2f} s (median of {len(runs)}, "
        f"{min(runs):.2f}-{max(runs):.2f})"
    )


if __name__ == "__main__":
    main()
