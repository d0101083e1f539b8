"""plg_signals installs as a dbt package in someone else's project: a throwaway consumer
project with `local:` in packages.yml, its own vars in its own dbt_project.yml (source
schema, PQL threshold), `dbt deps` (offline for local packages) and `dbt build` on DuckDB
against tiny generated demo data. The seeds, models, data tests and unit tests of the
package all run in the consumer's build."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import textwrap
from pathlib import Path

import duckdb
import pytest

from sync.demo.generator import generate
from tests.demo.conftest import _dbt_executable

REPO = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 1)
SOURCE_SCHEMA = "landing_zone"  # not the package default (raw): proves the source var is read
PQL_THRESHOLD = 45  # not the package default (60)

MARTS = [
    "user_milestones",
    "user_activation",
    "milestone_retention_lift",
    "account_pql_scores",
    "account_churn_risk",
    "account_plan_limits",
    "account_signals",
    "sync_customerio_people",
    "sync_crm_companies",
    "sync_signal_events",
]


def _write_consumer(root: Path, db_path: Path) -> None:
    (root / "dbt_project.yml").write_text(
        textwrap.dedent(
            f"""\
            name: acme_analytics
            version: "1.0.0"
            config-version: 2
            profile: acme_analytics
            model-paths: ["models"]

            # both ways of setting a package's vars: global, and scoped to the package
            vars:
              plg_as_of: "{AS_OF.isoformat()}"
              plg_source_schema: {SOURCE_SCHEMA}
              plg_signals:
                plg_pql_threshold: {PQL_THRESHOLD}

            models:
              plg_signals:
                +schema: plg
            """
        )
    )
    (root / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    (root / "profiles.yml").write_text(
        textwrap.dedent(
            f"""\
            acme_analytics:
              target: dev
              outputs:
                dev:
                  type: duckdb
                  path: {db_path}
                  schema: analytics
                  threads: 4
            """
        )
    )
    # a model of the consumer's own on top of a package mart
    (root / "models").mkdir()
    (root / "models" / "acme_pql_accounts.sql").write_text(
        "select account_id, pql_score from {{ ref('account_pql_scores') }} where is_pql\n"
    )


def _dbt(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(root),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for var in ("PLG_TARGET", "PLG_DUCKDB_PATH", "DBT_TARGET_PATH"):
        env.pop(var, None)
    cmd = [_dbt_executable(), *args, "--log-path", str(root / "logs")]
    if args[0] != "deps":
        cmd += ["--target-path", str(root / "target")]
    return subprocess.run(
        cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_consumer_project_builds_the_package_with_its_own_vars(tmp_path):
    root = tmp_path / "acme_analytics"
    root.mkdir()
    db_path = tmp_path / "acme.duckdb"
    generate(db_path, scale="tiny", seed=7, as_of=AS_OF, schema=SOURCE_SCHEMA)
    _write_consumer(root, db_path)

    deps = _dbt(root, "deps")
    assert deps.returncode == 0, deps.stdout + deps.stderr
    assert (root / "dbt_packages" / "plg_signals" / "dbt_project.yml").exists()

    build = _dbt(root, "build")
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-2000:]

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = {
            (schema, name)
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        for mart in MARTS:
            assert ("analytics_plg", mart) in tables, f"{mart} not built by the consumer"
        assert ("analytics", "plg_milestones") in tables  # package seeds load (default schema)
        assert ("analytics", "acme_pql_accounts") in tables

        thresholds = con.execute(
            "select distinct pql_threshold from analytics_plg.account_pql_scores"
        ).fetchall()
        assert thresholds == [(PQL_THRESHOLD,)]
        # the flag follows the consumer's threshold, not the package default of 60
        mismatched = con.execute(
            f"""select count(*) from analytics_plg.account_pql_scores
                where is_pql and pql_score < {PQL_THRESHOLD}"""
        ).fetchone()[0]
        assert mismatched == 0
        accounts = con.execute("select count(*) from analytics_plg.account_signals").fetchone()[0]
        assert (
            accounts == con.execute(f"select count(*) from {SOURCE_SCHEMA}.accounts").fetchone()[0]
        )
    finally:
        con.close()

    # a second run is incremental: the package's own incremental strategy
    # (plg_day_delete_insert, macros/incremental) must resolve from the consumer's project
    rows_before = _row_count(db_path, "int_user_event_daily")
    incremental = _dbt(root, "run", "--select", "int_user_event_daily", "int_user_daily_activity")
    assert incremental.returncode == 0, incremental.stdout[-4000:] + incremental.stderr[-2000:]
    assert _row_count(db_path, "int_user_event_daily") == rows_before


def _row_count(db_path: Path, model: str) -> int:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(f"select count(*) from analytics_plg.{model}").fetchone()[0]
    finally:
        con.close()
