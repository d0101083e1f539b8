"""BigQuery without credentials: `dbt compile` of the whole project on dbt-bigquery with a
throwaway service-account key, every compiled model parsed as BigQuery by sqlglot and
checked by the portability guard, then transpiled to DuckDB and run in dependency order
on the demo data; the marts and sync models must equal the DuckDB build's.

This is necessary, not sufficient (sqlglot is a lenient judge of BigQuery syntax and the
transpiled SQL runs on DuckDB's semantics); docs/warehouses.md lists what only a real
BigQuery run proves.
"""

from __future__ import annotations

import graphlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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

PROJECT = "plg-ci-offline"  # a hyphen, as real project ids have: the SQL must quote it
DATASET = "plg_signals"
SOURCE_DATASET = "raw"

# Types a BigQuery load job accepts for seed columns (legacy and standard SQL names).
BIGQUERY_SEED_TYPES = {
    "string", "bytes", "int64", "integer", "float64", "float", "numeric", "bignumeric",
    "bool", "boolean", "timestamp", "date", "time", "datetime", "json",
}  # fmt: skip


def write_offline_profile(root: Path) -> Path:
    """profiles.yml for dbt-bigquery with a service-account key made up now: the key is
    well-formed (dbt-bigquery loads it), and nothing ever presents it to Google."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    keyfile = root / "throwaway-service-account.json"
    keyfile.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "0" * 40,
                "private_key": pem,
                "client_email": f"plg-ci@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "0",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    profiles = root / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        "plg_signals:\n"
        "  target: bigquery_offline\n"
        "  outputs:\n"
        "    bigquery_offline:\n"
        "      type: bigquery\n"
        "      method: service-account\n"
        f"      project: {PROJECT}\n"
        f"      dataset: {DATASET}\n"
        f"      keyfile: {keyfile}\n"
        "      location: US\n"
        # one thread: an offline compile has no connection to share between threads
        "      threads: 1\n"
    )
    return profiles


def compile_offline(root: Path, project_dir: Path = REPO) -> dict[str, Any]:
    """`dbt compile` on dbt-bigquery without network; returns the manifest."""
    profiles = write_offline_profile(root)
    completed = run_dbt(
        ["compile", "--no-introspect", "--no-populate-cache"],
        profiles,
        root,
        project_dir=project_dir,
        launcher=[sys.executable, "-m", "tests.warehouses.offline_dbt"],
        env={"PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert completed.returncode == 0, dbt_failure(completed)
    return json.loads((root / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def bigquery_manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return compile_offline(tmp_path_factory.mktemp("bigquery_compile"))


def test_every_model_compiles_and_parses_as_bigquery(bigquery_manifest: dict[str, Any]) -> None:
    compiled = models(bigquery_manifest)
    assert len(compiled) >= 25, "the compile did not cover the project"
    assert all(node.get("compiled_code") for node in compiled.values())
    assert manifest_portability_problems(bigquery_manifest, "bigquery") == {}


def test_seed_column_types_are_bigquery_types(bigquery_manifest: dict[str, Any]) -> None:
    """Seeds are loaded, not compiled: their column types go to a BigQuery load job as is."""
    wrong = {
        f"{node['name']}.{column}": type_
        for node in bigquery_manifest["nodes"].values()
        if node["resource_type"] == "seed"
        for column, type_ in (node["config"].get("column_types") or {}).items()
        if type_.lower() not in BIGQUERY_SEED_TYPES
    }
    assert wrong == {}


def test_sources_and_models_are_addressed_in_the_target_project(
    bigquery_manifest: dict[str, Any],
) -> None:
    relations = [s["relation_name"] for s in bigquery_manifest["sources"].values()]
    assert relations and all(r.startswith(f"`{PROJECT}`.`{SOURCE_DATASET}`.") for r in relations)
    for node in models(bigquery_manifest).values():
        assert node["relation_name"].startswith(f"`{PROJECT}`.`{DATASET}`.")


def run_transpiled(manifest: dict[str, Any], build: DuckdbBuild) -> tuple[Any, dict[str, str]]:
    """Create the raw tables and seeds under the names the compiled SQL references, then
    every model, transpiled BigQuery -> DuckDB, in dependency order. Returns the session
    and the models that failed (name -> error)."""
    con = connect_reference(build)
    con.execute(f"attach ':memory:' as \"{PROJECT}\"")
    con.execute(f'create schema "{PROJECT}".{SOURCE_DATASET}')
    con.execute(f'create schema "{PROJECT}".{DATASET}')
    con.execute(f"attach '{build.raw_path}' as raw_demo (read_only)")
    for source in manifest["sources"].values():
        con.execute(
            f'create table "{PROJECT}".{SOURCE_DATASET}.{source["identifier"]} as '
            f"select * from raw_demo.raw.{source['identifier']}"
        )
    for node in manifest["nodes"].values():
        if node["resource_type"] == "seed":
            con.execute(
                f'create table "{PROJECT}".{DATASET}.{node["alias"]} as select * from ref.main.{node["alias"]}'
            )

    compiled = models(manifest)
    graph = {
        uid: [dep for dep in node["depends_on"]["nodes"] if dep in compiled]
        for uid, node in compiled.items()
    }
    failed: dict[str, str] = {}
    for uid in graph_order(graph):
        node = compiled[uid]
        if node["config"]["materialized"] == "ephemeral":
            continue
        if any(compiled[dep]["name"] in failed for dep in graph[uid]):
            failed[node["name"]] = "skipped: a parent failed"
            continue
        try:
            duck_sql = sqlglot.transpile(node["compiled_code"], read="bigquery", write="duckdb")[0]
            con.execute(f'create table "{PROJECT}".{DATASET}.{node["alias"]} as {duck_sql}')
        except Exception as error:
            failed[node["name"]] = str(error)[:500]
    return con, failed


def graph_order(graph: dict[str, list[str]]) -> list[str]:
    return list(graphlib.TopologicalSorter(graph).static_order())


@pytest.mark.slow
def test_transpiled_models_match_the_duckdb_build(
    bigquery_manifest: dict[str, Any], duckdb_build: DuckdbBuild
) -> None:
    con, failed = run_transpiled(bigquery_manifest, duckdb_build)
    try:
        assert failed == {}
        names = compared_model_names(bigquery_manifest)
        assert "account_signals" in names and any(n.startswith("sync_") for n in names)
        problems = [
            problem
            for name in names
            for problem in compare_relations(
                con, f"ref.main.{name}", f'"{PROJECT}".{DATASET}.{name}', name
            )
        ]
        assert problems == [], "\n".join(problems)
        reference = account_sets(con, "ref.main.account_signals")
        assert reference["is_pql"] and reference["is_at_risk"], "demo data plants both"
        assert account_sets(con, f'"{PROJECT}".{DATASET}.account_signals') == reference
        for name in (n for n in names if n.startswith("sync_")):
            found, checked, data_differs = sync_hash_mismatches(
                con, f"ref.main.{name}", f'"{PROJECT}".{DATASET}.{name}', name
            )
            assert found == [], "\n".join(found)
            assert checked > 0 and data_differs == 0, (name, checked, data_differs)
    finally:
        con.close()


@pytest.mark.slow
def test_demo_people_operations_built_in_bigquery_sql_are_the_python_ones(
    duckdb_build: DuckdbBuild, tmp_path: Path
) -> None:
    """The demo's Customer.io people rows behind the BigQuery client fake (types as the
    REST schema reports them): the operation the BigQuery SQL builds for each row, parsed
    as BigQuery and run transpiled, is the one Python builds from the same row."""
    import shutil

    from sync.backends.bigquery import BigQueryBackend
    from sync.dbt_project import Profile
    from tests.sync.bigquery_fake import FakeBigQueryClient
    from tests.warehouses.test_payload_sql import demo_people_mismatches

    copy = tmp_path / "build.duckdb"
    shutil.copy(duckdb_build.path, copy)
    profile = Profile("t", "ci", "bigquery", {"project": "p", "method": "anonymous"}, REPO)
    backend = BigQueryBackend(profile, "plg_sync", client=FakeBigQueryClient(str(copy)))
    reference = connect_reference(duckdb_build)
    try:
        compared, differences = demo_people_mismatches(
            backend, "main.sync_customerio_people", reference
        )
    finally:
        backend.close()
        reference.close()
    assert compared > 0 and differences == [], "\n".join(differences[:5])
