"""Fixtures shared by every test folder."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from tests.demo.conftest import DemoWarehouse, build_demo_warehouse

# `make` exports these for the demo (the repo's profiles.yml and DuckDB file). Every test
# brings its own profiles, warehouse and config, so none may leak in from the caller.
for _variable in (
    "DBT_PROFILES_DIR",
    "DBT_TARGET_PATH",
    "PLG_DUCKDB_PATH",
    "PLG_TARGET",
    "PLG_SYNC_CONFIG",
):
    os.environ.pop(_variable, None)


@pytest.fixture(scope="session")
def demo_warehouse(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[DemoWarehouse]:
    """The demo data (small, seed 42, as of 2026-11-01) built by `dbt build` once per
    session, shared by the planted-truth tests and the end-to-end sync tests.

    Under pytest-xdist the first worker that needs it builds it (a minute of both cores'
    time) and every worker takes its own copy of the result, so `make test` pays for one
    build, not one per worker, and no two processes ever open the same DuckDB file."""
    if worker_id == "master":  # not under xdist
        yield from build_demo_warehouse(tmp_path_factory)
        return
    shared_root = tmp_path_factory.getbasetemp().parent
    outcome = shared_root / "demo_warehouse_built.json"
    with FileLock(str(shared_root / "demo_warehouse.lock")):
        if not outcome.exists():
            built = next(build_demo_warehouse(tmp_path_factory))
            outcome.write_text(
                json.dumps(
                    {**vars(built), "path": str(built.path), "target_path": str(built.target_path)}
                )
            )
    shared = json.loads(outcome.read_text())
    built_root = Path(shared["path"]).parent
    root = tmp_path_factory.mktemp("demo_warehouse_copy")
    shutil.copytree(built_root, root, dirs_exist_ok=True)
    yield DemoWarehouse(
        **{
            **shared,
            "path": root / Path(shared["path"]).relative_to(built_root),
            "target_path": root / Path(shared["target_path"]).relative_to(built_root),
        }
    )
