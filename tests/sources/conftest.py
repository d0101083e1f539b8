"""Shared helpers of the preset tests: one DuckDB file per preset module with the raw
tables in the loaders' published shapes (tests/sources/shapes.py), the product tables,
and one `dbt build` of the whole project on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tests.demo.conftest import run_dbt

AS_OF = "2026-11-01"

# The marts every preset must build (issue 16's acceptance: staging through the marts).
MARTS = (
    "user_milestones",
    "user_activation",
    "milestone_retention_lift",
    "account_pql_scores",
    "account_churn_risk",
    "account_plan_limits",
    "account_signals",
)


@dataclass(frozen=True)
class PresetBuild:
    """A raw warehouse in one preset's shapes after `dbt build`."""

    path: Path
    returncode: int
    output: str
    statuses: dict[str, str]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def failures(self) -> dict[str, str]:
        return {
            node: status
            for node, status in self.statuses.items()
            if status not in ("success", "pass", "no-op", "warn")
        }

    def built_models(self) -> set[str]:
        return {
            node.split(".")[-1]
            for node, status in self.statuses.items()
            if node.startswith("model.") and status == "success"
        }


def build_preset(root: Path, db_path: Path, dbt_vars: dict[str, Any]) -> PresetBuild:
    """`dbt build` of the whole project on `db_path` with `dbt_vars` (plg_as_of pinned)."""
    completed = run_dbt(
        root,
        db_path,
        "build",
        "--vars",
        json.dumps({"plg_as_of": AS_OF, **dbt_vars}),
        timeout=600,
    )
    results_file = root / "target" / "run_results.json"
    statuses = {}
    if results_file.exists():
        statuses = {
            r["unique_id"]: r["status"] for r in json.loads(results_file.read_text())["results"]
        }
    return PresetBuild(db_path, completed.returncode, completed.stdout + completed.stderr, statuses)


def product_tables() -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """Two accounts and three users of the product database, with a little usage."""
    from tests.sources import shapes

    return {
        "accounts": (
            shapes.APP_ACCOUNTS,
            [
                {
                    "account_id": "acc_1",
                    "name": "Acme",
                    "domain": "acme.example",
                    "industry": "software",
                    "employee_count": 50,
                    "created_at": "2026-08-01 10:00:00",
                },
                {
                    "account_id": "acc_2",
                    "name": "Globex",
                    "domain": "globex.example",
                    "industry": "retail",
                    "employee_count": 20,
                    "created_at": "2026-09-01 10:00:00",
                },
            ],
        ),
        "users": (
            shapes.APP_USERS,
            [
                {
                    "user_id": "u1",
                    "account_id": "acc_1",
                    "email": "ada@acme.example",
                    "name": "Ada",
                    "role": "admin",
                    "created_at": "2026-08-01 10:00:00",
                    "updated_at": "2026-08-01 10:00:00",
                },
                {
                    "user_id": "u2",
                    "account_id": "acc_1",
                    "email": "bob@acme.example",
                    "name": "Bob",
                    "role": "billing",
                    "created_at": "2026-08-02 10:00:00",
                    "updated_at": "2026-08-02 10:00:00",
                },
                {
                    "user_id": "u3",
                    "account_id": "acc_2",
                    "email": "cy@globex.example",
                    "name": "Cy",
                    "role": "admin",
                    "created_at": "2026-09-01 10:00:00",
                    "updated_at": "2026-09-01 10:00:00",
                },
            ],
        ),
        "usage_daily": (
            shapes.APP_USAGE,
            [
                {"account_id": a, "usage_date": f"2026-10-{d:02d}", "metric": m, "value": v}
                for a in ("acc_1", "acc_2")
                for d in (20, 25, 30)
                for m, v in (("api_calls", 1200), ("projects", 3))
            ],
        ),
    }


def write_tables(
    db_path: Path, tmp: Path, tables: dict[str, tuple[list[str], list[dict[str, Any]]]]
) -> None:
    """Create schema raw in `db_path` with each table (columns, rows)."""
    from tests.sources.shapes import write_table

    con = duckdb.connect(str(db_path))
    try:
        con.execute("create schema if not exists raw")
        for name, spec in tables.items():
            columns, rows = spec[0], spec[1]
            extra = spec[2] if len(spec) > 2 else None  # type: ignore[misc]
            write_table(con, tmp, name, columns, rows, extra)
    finally:
        con.close()
