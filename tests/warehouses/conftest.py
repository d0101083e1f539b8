"""Shared pieces of the warehouse checks: one generated demo data set, the DuckDB build
every other warehouse is compared with, a static portability guard over compiled SQL,
and a result comparison that knows which differences are by design.

Why a guard as well as execution: the stand-ins are DuckDB underneath (fakesnow executes
on DuckDB, and the BigQuery check transpiles to DuckDB), so a DuckDB-only function such as
`list_value` or `epoch` runs fine in both. sqlglot parses such a call as an unknown
(`Anonymous`) function, and BigQuery's parser even accepts `::` casts, so the guard fails
on any function sqlglot does not know in the target dialect and on `::` in BigQuery SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from sync.demo.generator import generate

REPO = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 1)
# tiny keeps fakesnow's build (DuckDB under an HTTP server, one statement at a time) and
# the whole folder within a few minutes on 2 cores; every mart still has rows.
SCALE = "tiny"
SEED = 42
VARS = f'{{plg_as_of: "{AS_OF.isoformat()}"}}'

# What leaves the warehouse or is queried by people: compared across warehouses.
COMPARED_FOLDERS = ("marts", "sync")

# Functions sqlglot does not model but the named warehouse documents. Empty today: a name
# is added here only with a link to the warehouse's function reference.
KNOWN_WAREHOUSE_FUNCTIONS: dict[str, frozenset[str]] = {
    "bigquery": frozenset(),
    "snowflake": frozenset(),
}


def dbt_executable() -> str:
    for candidate in (REPO / ".venv" / "bin" / "dbt", Path(sys.executable).parent / "dbt"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("dbt")
    if found is None:
        pytest.fail("dbt is not installed in this environment: run `make test`, which installs it")
    return found


def run_dbt(
    args: list[str],
    profiles_dir: Path,
    work: Path,
    *,
    project_dir: Path = REPO,
    env: dict[str, str] | None = None,
    launcher: list[str] | None = None,
    timeout: int = 600,
) -> subprocess.CompletedProcess[str]:
    """Run dbt with this test's own profiles, target and log directories."""
    command = [
        *(launcher or [dbt_executable()]),
        *args,
        "--vars",
        VARS,
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    full_env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PARTIAL_PARSE": "false",
        **(env or {}),
    }
    return subprocess.run(
        command,
        cwd=project_dir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def dbt_failure(completed: subprocess.CompletedProcess[str]) -> str:
    lines = (completed.stdout + completed.stderr).splitlines()
    return "\n".join(lines[-60:])


@dataclass(frozen=True)
class DuckdbBuild:
    raw_path: Path  # the generated raw tables only (schema raw)
    path: Path  # raw tables plus everything dbt built (schema main)
    manifest: dict[str, Any]


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> DuckdbBuild:
    """The demo data (tiny, seed 42, as of 2026-11-01) and the DuckDB `dbt build` of it:
    the reference every other warehouse's results are compared with."""
    root = tmp_path_factory.mktemp("warehouses_duckdb")
    raw_path = root / "demo_raw.duckdb"
    generate(raw_path, scale=SCALE, seed=SEED, as_of=AS_OF)
    path = root / "build.duckdb"
    shutil.copy(raw_path, path)

    profiles = root / "profiles"
    profiles.mkdir()
    shutil.copy(REPO / "profiles.example.yml", profiles / "profiles.yml")
    completed = run_dbt(
        ["build"],
        profiles,
        root,
        env={"PLG_DUCKDB_PATH": str(path), "PLG_TARGET": "duckdb"},
    )
    assert completed.returncode == 0, dbt_failure(completed)
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    return DuckdbBuild(raw_path=raw_path, path=path, manifest=manifest)


# ---------------------------------------------------------------- manifest helpers


def models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """unique_id -> node for the project's models (compiled ones carry compiled_code)."""
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == "plg_signals"
    }


def compared_model_names(manifest: dict[str, Any]) -> list[str]:
    return sorted(
        node["name"]
        for node in models(manifest).values()
        if node["fqn"][1] in COMPARED_FOLDERS and node["config"]["materialized"] != "ephemeral"
    )


# ---------------------------------------------------------------- portability guard


def portability_problems(sql: str, dialect: str) -> list[str]:
    """What in `sql` (compiled for `dialect`) is not that warehouse's SQL, as far as a
    parser can tell: parse errors, functions sqlglot does not know in the dialect, and
    `::` casts in BigQuery (which its sqlglot parser accepts)."""
    problems: list[str] = []
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError as error:
        return [f"does not parse as {dialect}: {str(error)[:300]}"]
    if dialect == "bigquery":
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
        if any(token.token_type == TokenType.DCOLON for token in tokens):
            problems.append("`::` cast (BigQuery has only cast(x as type))")
    known = KNOWN_WAREHOUSE_FUNCTIONS.get(dialect, frozenset())
    for call in tree.find_all(exp.Anonymous):
        name = str(call.name).lower()
        if name not in known:
            problems.append(f"function {name}() is not {dialect} SQL known to sqlglot")
    return sorted(set(problems))


def manifest_portability_problems(manifest: dict[str, Any], dialect: str) -> dict[str, list[str]]:
    found = {}
    for node in models(manifest).values():
        problems = portability_problems(node["compiled_code"], dialect)
        if problems:
            found[node["name"]] = problems
    return found


# ---------------------------------------------------------------- result comparison


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    rows = con.execute(f"describe select * from {relation}").fetchall()
    return [(str(r[0]).lower(), str(r[1]).upper()) for r in rows]


_INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
}  # fmt: skip
_FRACTIONAL_TYPES = {"FLOAT", "DOUBLE", "REAL", "DECIMAL"}


def _base_type(duck_type: str) -> str:
    return duck_type.split("(")[0]


def _is_hash_column(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> bool:
    """Surrogate keys and sync_hash are md5 hex of warehouse-specific text (timestamps
    and JSON render differently per warehouse), so their values differ by design."""
    total, hexes = con.execute(
        f"select count({column}), count(*) filter (where regexp_full_match(cast({column} as varchar), '[0-9a-f]{{32}}')) from {relation}"
    ).fetchone()
    return total > 0 and total == hexes


def _normalised(column: str, duck_type: str) -> str:
    if duck_type.startswith("TIMESTAMP"):
        return f"strftime(cast({column} as timestamp), '%Y-%m-%d %H:%M:%S')"
    if duck_type == "DATE":
        return f"cast(cast({column} as date) as varchar)"
    if _base_type(duck_type) in _INTEGER_TYPES:
        return f"cast(try_cast({column} as hugeint) as varchar)"
    return f"cast({column} as varchar)"


def compare_relations(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    other: str,
    name: str,
    *,
    other_text: str = "{}",
) -> list[str]:
    """Differences between the DuckDB build's `reference` relation and `other` (the same
    model from another warehouse). Rows are compared as multisets over every column that
    is not fractional or hash-valued, with timestamps in UTC. Fractional columns are
    compared column by column (sorted values, relative tolerance 1e-4, or one unit in the
    last place a rounded column keeps): DuckDB's
    dbt.type_float() is a 4-byte REAL, the others' an 8-byte double, so sums drift in the
    last digits and exact or rounded equality would flip at rounding boundaries.
    `other_text` wraps the other relation's text columns (a stand-in's known rendering
    gap, documented where it is passed)."""
    ref_columns = _columns(con, reference)
    other_columns = dict(_columns(con, other))
    problems = []
    missing = [c for c, _ in ref_columns if c not in other_columns]
    if missing:
        problems.append(f"{name}: columns missing: {missing}")
    present = [(c, t) for c, t in ref_columns if c in other_columns]
    exact = [
        (c, t)
        for c, t in present
        if _base_type(t) not in _FRACTIONAL_TYPES and not _is_hash_column(con, reference, c)
    ]
    fractional = [c for c, t in present if _base_type(t) in _FRACTIONAL_TYPES]

    ref_count = con.execute(f"select count(*) from {reference}").fetchone()[0]
    other_count = con.execute(f"select count(*) from {other}").fetchone()[0]
    if ref_count != other_count:
        problems.append(f"{name}: {other_count} rows, DuckDB built {ref_count}")
        return problems

    def normalised(column: str, type_: str, relation: str) -> str:
        sql = _normalised(column, type_)
        return other_text.format(sql) if relation == other and type_ == "VARCHAR" else sql

    for label, left, right in (
        ("only in DuckDB", reference, other),
        ("only in the other", other, reference),
    ):
        select_left = ", ".join(f"{normalised(c, t, left)} as {c}" for c, t in exact)
        select_right = ", ".join(f"{normalised(c, t, right)} as {c}" for c, t in exact)
        rows = con.execute(
            f"select * from (select {select_left} from {left} "
            f"except all select {select_right} from {right}) limit 2"
        ).fetchall()
        if rows:
            differing = [
                c
                for c, t in exact
                if con.execute(
                    f"select count(*) from (select {normalised(c, t, left)} from {left} "
                    f"except all select {normalised(c, t, right)} from {right})"
                ).fetchone()[0]
            ]
            example = [
                {
                    c: v
                    for (c, _), v in zip(exact, r, strict=True)
                    if c in differing or c.endswith("_id")
                }
                for r in rows
            ]
            problems.append(f"{name}: rows {label}, differing in {differing}: {example}")

    for column in fractional:
        # a model that rounds (round(x, 1)) can land one unit apart when the unrounded
        # value sits on the boundary: allow one unit in the last place it keeps
        places = next(
            (
                k
                for k in range(7)
                if con.execute(
                    f"select count(*) from {reference} where abs(try_cast({column} as double) - round(try_cast({column} as double), {k})) > 1e-9"
                ).fetchone()[0]
                == 0
            ),
            None,
        )
        unit = 10.0**-places * 1.0001 if places is not None else 0.0
        mismatched = con.execute(
            f"""
            with a as (select try_cast({column} as double) as v,
                              row_number() over (order by try_cast({column} as double) nulls first) as n
                       from {reference}),
                 b as (select try_cast({column} as double) as v,
                              row_number() over (order by try_cast({column} as double) nulls first) as n
                       from {other})
            select a.v, b.v from a join b using (n)
            where (a.v is null) <> (b.v is null)
               or abs(a.v - b.v) > greatest(1e-6 + 1e-4 * abs(a.v), {unit})
            limit 2
            """
        ).fetchall()
        if mismatched:
            problems.append(f"{name}.{column}: values differ, e.g. (duckdb, other) {mismatched}")
    return problems


def account_sets(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, set[str]]:
    """The accounts flagged PQL and at risk in an account_signals relation."""
    return {
        flag: {
            row[0]
            for row in con.execute(f"select account_id from {relation} where {flag}").fetchall()
        }
        for flag in ("is_pql", "is_at_risk")
    }


def connect_reference(build: DuckdbBuild) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with the reference build attached read-only as `ref`."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{build.path}' as ref (read_only)")
    return con


def copy_tables(
    con: duckdb.DuckDBPyConnection, source: str, target: str, names: Iterable[str]
) -> None:
    for name in names:
        con.execute(f"create table {target}.{name} as select * from {source}.{name}")
