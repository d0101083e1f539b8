"""The warehouse checks fail on DuckDB-only SQL: a copy of the project with one model
using `list_value` and `epoch` compiles on dbt-bigquery, parses as BigQuery and even runs
once transpiled to DuckDB, so only the portability guard stands between it and CI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlglot

from tests.warehouses.conftest import REPO, manifest_portability_problems, portability_problems
from tests.warehouses.test_bigquery import compile_offline

DUCKDB_ONLY_MODEL = """
select
    account_id,
    list_value(1, 2) as pair,
    epoch(created_at) as created_epoch,
    created_at::date as created_date
from {{ ref('stg_app__accounts') }}
"""


@pytest.fixture(scope="module")
def patched_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("patched_project") / "plg_signals"
    project.mkdir()
    shutil.copy(REPO / "dbt_project.yml", project / "dbt_project.yml")
    for folder in ("models", "macros", "seeds", "tests/dbt"):
        shutil.copytree(REPO / folder, project / folder)
    (project / "models" / "marts" / "ci_duckdb_only.sql").write_text(DUCKDB_ONLY_MODEL)
    return project


def test_guard_fails_on_a_duckdb_only_model(
    patched_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    manifest = compile_offline(tmp_path_factory.mktemp("patched_compile"), patched_project)
    problems = manifest_portability_problems(manifest, "bigquery")
    assert set(problems) == {"ci_duckdb_only"}
    found = " ".join(problems["ci_duckdb_only"])
    assert "list_value()" in found and "epoch()" in found and "`::`" in found

    # why the guard exists: sqlglot parses the model as BigQuery without complaint
    compiled = next(n for n in manifest["nodes"].values() if n["name"] == "ci_duckdb_only")
    sqlglot.parse_one(compiled["compiled_code"], read="bigquery")


def test_guard_accepts_warehouse_sql() -> None:
    assert portability_problems("select cast(x as int64), to_hex(md5(y)) from t", "bigquery") == []
    assert portability_problems("select x::int, md5(y) from t", "snowflake") == []
    assert portability_problems("select x::int from t", "bigquery") != []
