"""Snowflake without credentials: a local fakesnow server (with the test-only shims of
tests/warehouses/fakesnow_shim.py), the demo raw tables bulk-loaded the way Snowflake
loads files (PUT to a stage, COPY INTO), then `dbt seed` and `dbt build` of the whole
project (models, data tests, unit tests, contracts) on dbt-snowflake, and the results
compared with the DuckDB build.

fakesnow executes on DuckDB, so a DuckDB-only function would run there too: the compiled
Snowflake SQL also goes through the portability guard (conftest.portability_problems).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import snowflake.connector as snowflake_connector  # a declared dependency: a broken install fails
import sqlglot
from sqlglot import exp

from tests.warehouses.conftest import (
    REPO,
    DuckdbBuild,
    account_sets,
    compare_relations,
    compared_model_names,
    connect_reference,
    dbt_failure,
    manifest_portability_problems,
    models,
    run_dbt,
    sync_hash_mismatches,
)

DATABASE = "PLG_CI"
SOURCE_SCHEMA = "RAW"
SCHEMA = "PLG_SIGNALS"
SNOWFLAKE_TYPES = {
    "VARCHAR": "varchar",
    "TIMESTAMP": "timestamp_ntz",
    "DATE": "date",
    "BIGINT": "number(38, 0)",
    "INTEGER": "number(38, 0)",
    "DOUBLE": "float",
    "BOOLEAN": "boolean",
}


# Stand-in gap: fakesnow (DuckDB) sums integer columns over windows into doubles, so a
# count cast to text reads "245.0" where Snowflake (NUMBER(38,0)) and DuckDB write "245".
# Applied to fakesnow's text columns only, never to the model.
WHOLE_NUMBER_TEXT = r"regexp_replace({}, '(\d)\.0\b', '\1', 'g')"

# snowflake.connector.constants.FIELD_TYPES: 4 TIMESTAMP, 6 TIMESTAMP_LTZ, 7 TIMESTAMP_TZ, 8 TIMESTAMP_NTZ
TIMESTAMP_TYPE_CODES = {4, 6, 7, 8}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _connect(port: int) -> Any:
    return snowflake_connector.connect(
        account="fakesnow",
        user="ci",
        password="ci",
        host="localhost",
        port=port,
        protocol="http",
        login_timeout=5,
    )


@pytest.fixture(scope="module")
def fakesnow_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A fakesnow server on 127.0.0.1 for this module, stopped afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("fakesnow") / "fakesnow.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.warehouses.fakesnow_shim", "-s", "-p", str(port)],
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                pytest.fail(f"fakesnow exited with {server.returncode}: {log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"fakesnow did not listen on {port}: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        con = _connect(port)  # ready = a session can log in and run a statement
        con.cursor().execute("select 1").fetchall()
        con.close()
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def load_raw_tables(port: int, raw_path: Path, staging: Path) -> dict[str, int]:
    """Copy every raw table into DATABASE.RAW as a Snowflake load does: CSV files PUT to a
    stage, then COPY INTO (row-by-row inserts take minutes through the HTTP stand-in)."""
    source = duckdb.connect(str(raw_path), read_only=True)
    con = _connect(port)
    counts = {}
    try:
        cur = con.cursor()
        cur.execute(f"create database if not exists {DATABASE}")
        cur.execute(f"create schema if not exists {DATABASE}.{SOURCE_SCHEMA}")
        cur.execute(f"create or replace stage {DATABASE}.{SOURCE_SCHEMA}.PLG_LOAD")
        tables = [
            r[0]
            for r in source.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
            ).fetchall()
        ]
        for table in tables:
            columns = source.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            ddl = ", ".join(f"{name} {SNOWFLAKE_TYPES[type_]}" for name, type_ in columns)
            cur.execute(f"create or replace table {DATABASE}.{SOURCE_SCHEMA}.{table} ({ddl})")
            csv = staging / f"{table}.csv"
            source.execute(f"copy (select * from raw.{table}) to '{csv}' (header, delimiter ',')")
            cur.execute(
                f"put file://{csv} @{DATABASE}.{SOURCE_SCHEMA}.PLG_LOAD auto_compress = false overwrite = true"
            )
            cur.execute(
                f"copy into {DATABASE}.{SOURCE_SCHEMA}.{table} from @{DATABASE}.{SOURCE_SCHEMA}.PLG_LOAD/{csv.name} "
                "file_format = (type = csv skip_header = 1 field_optionally_enclosed_by = '\"')"
            )
            cur.execute(f"select count(*) from {DATABASE}.{SOURCE_SCHEMA}.{table}")
            counts[table] = cur.fetchone()[0]
    finally:
        con.close()
        source.close()
    return counts


def write_profile(root: Path, port: int) -> Path:
    profiles = root / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        "plg_signals:\n"
        "  target: fakesnow\n"
        "  outputs:\n"
        "    fakesnow:\n"
        "      type: snowflake\n"
        "      account: fakesnow\n"
        "      user: ci\n"
        "      password: ci\n"
        "      host: localhost\n"
        f"      port: {port}\n"
        "      protocol: http\n"
        f"      database: {DATABASE}\n"
        f"      schema: {SCHEMA}\n"
        "      warehouse: CI\n"
        "      threads: 2\n"
    )
    return profiles


@pytest.fixture(scope="module")
def snowflake_build(
    fakesnow_port: int, duckdb_build: DuckdbBuild, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("snowflake_build")
    staging = root / "load"
    staging.mkdir()
    loaded = load_raw_tables(fakesnow_port, duckdb_build.raw_path, staging)
    assert loaded["tracks"] > 0
    profiles = write_profile(root, fakesnow_port)
    env = {"PLG_TARGET": "fakesnow"}
    seeded = run_dbt(["seed"], profiles, root, env=env)
    assert seeded.returncode == 0, dbt_failure(seeded)
    built = run_dbt(["build"], profiles, root, env=env)
    assert built.returncode == 0, dbt_failure(built)
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    return {
        "manifest": json.loads((root / "target" / "manifest.json").read_text()),
        "statuses": {r["unique_id"]: r["status"] for r in results},
    }


@pytest.mark.slow
def test_whole_project_builds_on_snowflake(snowflake_build: dict[str, Any]) -> None:
    statuses = snowflake_build["statuses"]
    kinds = {uid.split(".")[0] for uid in statuses}
    assert {"model", "seed", "test", "unit_test"} <= kinds
    assert {uid: s for uid, s in statuses.items() if s not in ("success", "pass", "no-op")} == {}


@pytest.mark.slow
def test_compiled_snowflake_sql_is_portable(snowflake_build: dict[str, Any]) -> None:
    manifest = snowflake_build["manifest"]
    assert manifest_portability_problems(manifest, "snowflake") == {}
    # Quoted identifiers are case-sensitive on Snowflake, and loaders create upper-case
    # columns; fakesnow (DuckDB) matches any case, so check the SQL itself. A JSON path
    # (`:"key"`) is not an identifier and keeps its case.
    lower_quoted = {
        node["name"]: found
        for node in models(manifest).values()
        if (
            found := sorted(
                {
                    ident.name
                    for ident in sqlglot.parse_one(
                        node["compiled_code"], read="snowflake"
                    ).find_all(exp.Identifier)
                    if ident.quoted and ident.name != ident.name.upper()
                }
            )
        )
    }
    assert lower_quoted == {}


@pytest.mark.slow
def test_snowflake_results_match_the_duckdb_build(
    snowflake_build: dict[str, Any], fakesnow_port: int, duckdb_build: DuckdbBuild
) -> None:
    names = compared_model_names(snowflake_build["manifest"])
    assert "account_signals" in names and any(n.startswith("sync_") for n in names)
    con = connect_reference(duckdb_build)
    snow = _connect(fakesnow_port)
    try:
        cur = snow.cursor()
        for name in names:
            cur.execute(f"select * from {DATABASE}.{SCHEMA}.{name} limit 0")
            # stand-in gap: fakesnow's Arrow results turn a null TIMESTAMP_NTZ into
            # 1970-01-01, so timestamps travel as text (nulls stay null)
            columns = ", ".join(
                f"cast({d.name} as varchar) as {d.name}"
                if d.type_code in TIMESTAMP_TYPE_CODES
                else d.name
                for d in cur.description
            )
            cur.execute(f"select {columns} from {DATABASE}.{SCHEMA}.{name}")
            table = cur.fetch_arrow_all()
            table = table.rename_columns([c.lower() for c in table.column_names])
            con.register(f"snowflake_{name}", table)
        problems = [
            problem
            for name in names
            for problem in compare_relations(
                con, f"ref.main.{name}", f"snowflake_{name}", name, other_text=WHOLE_NUMBER_TEXT
            )
        ]
        assert problems == [], "\n".join(problems)
        reference = account_sets(con, "ref.main.account_signals")
        assert reference["is_pql"] and reference["is_at_risk"], "demo data plants both"
        assert account_sets(con, "snowflake_account_signals") == reference
        for name in (n for n in names if n.startswith("sync_")):
            found, checked, data_differs = sync_hash_mismatches(
                con, f"ref.main.{name}", f"snowflake_{name}", name
            )
            assert found == [], "\n".join(found)
            # only fakesnow's known number-in-text gap may exempt a row, and not most rows
            assert checked > 2 * data_differs, (name, checked, data_differs)
    finally:
        snow.close()
        con.close()


@pytest.mark.slow
def test_demo_people_operations_built_in_snowflake_sql_are_the_python_ones(
    snowflake_build: dict[str, Any], fakesnow_port: int, duckdb_build: DuckdbBuild
) -> None:
    """The demo's Customer.io people, as dbt-snowflake built and typed them: the operation
    Snowflake SQL builds for each row is the one Python builds from the same row (values
    from the DuckDB reference: fakesnow turns a null TIMESTAMP_NTZ into 1970 over Arrow)."""
    from sync.backends.snowflake import SnowflakeBackend
    from sync.dbt_project import Profile
    from tests.warehouses.test_payload_sql import demo_people_mismatches

    settings = {"account": "fakesnow", "user": "ci", "password": "ci", "host": "localhost",
                "port": fakesnow_port, "protocol": "http", "database": DATABASE,
                "schema": SCHEMA}  # fmt: skip
    backend = SnowflakeBackend(Profile("t", "ci", "snowflake", settings, REPO), "plg_sync")
    reference = connect_reference(duckdb_build)
    try:
        relation = f"{DATABASE}.{SCHEMA}.SYNC_CUSTOMERIO_PEOPLE"
        compared, differences = demo_people_mismatches(backend, relation, reference)
    finally:
        backend.close()
        reference.close()
    assert compared > 0 and differences == [], "\n".join(differences[:5])
