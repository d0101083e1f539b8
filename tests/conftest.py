"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.demo.conftest import DemoWarehouse, build_demo_warehouse


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWarehouse]:
    """The demo data (small, seed 42, as of 2026-11-01) built by `dbt build` once per
    session, shared by the planted-truth tests and the end-to-end sync tests."""
    yield from build_demo_warehouse(tmp_path_factory)
