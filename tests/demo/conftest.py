"""Session fixture: one demo warehouse, generated and built by dbt once for every
planted-truth test. Each test checks the nodes it owns in run_results.json, so a
failure in an unrelated model does not hide (or fake) a result."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sync.demo.generator import generate

REPO = Path(__file__).resolve().parents[2]
DEMO_AS_OF = dt.date(2026, 11, 1)
DEMO_SCALE = "small"
DEMO_SEED = 42


@dataclass(frozen=True)
class DemoWarehouse:
    """A generated DuckDB file after `dbt build`, with the build's outcome."""

    path: Path
    target_path: Path
    returncode: int
    output: str

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of a read-only query as dicts."""
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            con.close()

    def node_statuses(self) -> dict[str, str]:
        """unique_id -> status (success, pass, error, fail, skipped) from run_results.json."""
        results_file = self.target_path / "run_results.json"
        if not results_file.exists():
            return {}
        results = json.loads(results_file.read_text())["results"]
        return {r["unique_id"]: r["status"] for r in results}

    def failed_nodes(self, prefix: str = "") -> dict[str, str]:
        """Nodes whose id contains `prefix` and did not succeed."""
        return {
            node: status
            for node, status in self.node_statuses().items()
            if prefix in node and status not in ("success", "pass", "no-op")
        }


def _dbt_executable() -> str:
    for candidate in (REPO / ".venv" / "bin" / "dbt", Path(sys.executable).parent / "dbt"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("dbt")
    if found is None:
        pytest.fail("dbt is not installed in this environment: run `make test`, which installs it")
    return found


def run_dbt(
    root: Path,
    db_path: Path,
    *args: str,
    target_path: Path | None = None,
    timeout: int = 600,
) -> subprocess.CompletedProcess[str]:
    """Run dbt on the DuckDB target against `db_path`, with its own profiles, target and
    log directories under `root`, so a test never touches the repo's data/ or target/."""
    # profiles.yml is created by make; copy the example so tests do not need make
    profiles_dir = root / "profiles"
    profiles_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "profiles.example.yml", profiles_dir / "profiles.yml")
    env = {
        **os.environ,
        "PLG_DUCKDB_PATH": str(db_path),
        "PLG_TARGET": "duckdb",
        "DBT_PROFILES_DIR": str(profiles_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        _dbt_executable(),
        *args,
        "--target-path",
        str(target_path or root / "target"),
        "--log-path",
        str(root / "logs"),
    ]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def build_demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWarehouse]:
    """Generate the demo data (small, seed 42, as of 2026-11-01) into a temporary DuckDB
    file and run `dbt build` on it with its own profiles, target and log directories."""
    root = tmp_path_factory.mktemp("demo_warehouse")
    db_path = root / "plg.duckdb"
    generate(db_path, scale=DEMO_SCALE, seed=DEMO_SEED, as_of=DEMO_AS_OF)
    completed = run_dbt(
        root,
        db_path,
        "build",
        "--vars",
        f'{{plg_as_of: "{DEMO_AS_OF.isoformat()}"}}',
        timeout=900,
    )
    yield DemoWarehouse(
        path=db_path,
        target_path=root / "target",
        returncode=completed.returncode,
        output=completed.stdout + completed.stderr,
    )
