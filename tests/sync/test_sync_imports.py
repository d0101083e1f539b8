"""Every engine module imports first in a fresh interpreter (no import cycles), which is how
`plg-sync` and schedulers load it."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "sync.cli", "sync.config", "sync.engine", "sync.planning", "sync.state", "sync.output",
    "sync.dbt_project", "sync.secrets", "sync.backends.duckdb", "sync.destinations.file",
    "sync.http", "sync.types", "sync.values", "sync.errors", "sync.exposures",
    "sync.destinations", "sync.destinations.webhook",
]  # fmt: skip


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
