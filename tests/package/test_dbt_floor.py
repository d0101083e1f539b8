"""bench/dbt_floor.py: the replica of the project's DAG that measures dbt's own cost.

The replica is only a fair floor if it keeps what makes dbt work per node: every model,
its refs (so the same nodes can run in parallel), its materialisation, incremental
strategy and enforced contract. These tests hold it to that and run it through dbt.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench import dbt_floor  # noqa: E402


def _node(name: str, materialized: str, deps: list[str], **config) -> dict:
    return {
        "unique_id": f"model.plg_signals.{name}",
        "resource_type": "model",
        "package_name": "plg_signals",
        "name": name,
        "config": {"materialized": materialized, "enabled": True, **config},
        "depends_on": {"nodes": [f"model.plg_signals.{d}" for d in deps] + ["source.x.y"]},
    }


MANIFEST = {
    "metadata": {"project_name": "plg_signals"},
    "nodes": {
        n["unique_id"]: n
        for n in [
            _node("stg_a", "view", []),
            _node(
                "int_b",
                "incremental",
                ["stg_a"],
                unique_key="b_id",
                incremental_strategy="delete+insert",
                on_schema_change="append_new_columns",
            ),
            _node("sync_c", "table", ["int_b", "stg_a"], contract={"enforced": True}),
            _node(
                "int_e",
                "incremental",
                ["int_b"],
                unique_key="e_id",
                incremental_strategy="plg_day_delete_insert",  # the project's own strategy
            ),
            _node("disabled_d", "table", [], enabled=False),
            {
                "unique_id": "test.plg_signals.t",
                "resource_type": "test",
                "package_name": "plg_signals",
                "name": "t",
                "config": {"enabled": True},
                "depends_on": {"nodes": []},
            },
        ]
    },
}


def test_replica_keeps_models_refs_materialisations_and_contracts(tmp_path: Path) -> None:
    assert dbt_floor.write_replica(MANIFEST, tmp_path) == 4
    models = tmp_path / "models"
    assert sorted(p.name for p in models.glob("*.sql")) == [
        "int_b.sql",
        "int_e.sql",
        "stg_a.sql",
        "sync_c.sql",
    ]
    incremental = (models / "int_b.sql").read_text()
    assert "materialized='incremental'" in incremental
    assert "incremental_strategy='delete+insert'" in incremental
    assert "on_schema_change='append_new_columns'" in incremental
    assert "ref('stg_a')" in incremental
    sync = (models / "sync_c.sql").read_text()
    assert "ref('int_b')" in sync and "ref('stg_a')" in sync
    assert "'enforced': True" in sync
    # the project's own strategy is its SQL, not dbt's: the replica runs the dbt one under it
    assert "incremental_strategy='delete+insert'" in (models / "int_e.sql").read_text()
    assert "name: sync_c" in (models / "_contracts.yml").read_text()


def test_replica_runs_in_dbt_with_the_same_dag(tmp_path: Path) -> None:
    result = dbt_floor.measure(MANIFEST, repeat=1, threads=1)
    assert result["models"] == 4
    assert result["materialized"] == {"view": 1, "incremental": 2, "table": 1}
    assert len(result["run_s"]) == 1 and result["run_s"][0] > 0


def test_a_manifest_without_models_is_an_error(tmp_path: Path) -> None:
    empty = {"metadata": {"project_name": "other"}, "nodes": MANIFEST["nodes"]}
    with pytest.raises(ValueError, match="no enabled models of project 'other'"):
        dbt_floor.write_replica(empty, tmp_path)
