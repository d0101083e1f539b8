"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

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
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWarehouse]:
    """The demo data (small, seed 42, as of 2026-11-01) built by `dbt build` once per
    session, shared by the planted-truth tests and the end-to-end sync tests."""
    yield from build_demo_warehouse(tmp_path_factory)
