"""Fixtures for the sync engine: a tiny dbt project (hand-written manifest and profile) whose
sync model is a DuckDB table we edit directly, a file destination, and test destinations
that reject or crash on demand.

No file here depends on the real dbt models; each test builds the few rows it needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from sync.cli import cli
from sync.destinations.base import Destination, DestinationOptions, SyncSpec, register
from sync.records import Change, Outcome

CANARY = "canary-s3cr3t-9f8e7d"  # a secret value no log, error or table may ever contain

MODEL_COLUMNS = {
    "sync_key": "varchar",
    "sync_hash": "varchar",
    "email": "varchar",
    "plan": "varchar",
    "score": "integer",
}


# --- destinations used only by tests ----------------------------------------------------


class RejectingOptions(DestinationOptions):
    reject_keys: list[str] = []
    api_key: Any = None  # a Secret in tests, to prove it never leaks
    crash_after_batches: int | None = None


class Boom(RuntimeError):
    """Stands for a process dying mid-run (after some checkpoints)."""


@register
class RecordingDestination(Destination):
    """Remembers every change it was sent; rejects chosen keys; can crash mid-run."""

    type_name = "recording"
    Options = RejectingOptions
    objects = frozenset({"person", "company"})
    modes = frozenset({"upsert", "update", "insert", "event"})
    sent: list[Change] = []  # class-level so tests can read it after the CLI closed it

    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        opts: RejectingOptions = self.options  # type: ignore[assignment]
        self.stats.requests += 1
        batches = getattr(self, "_batches", 0) + 1
        self._batches = batches
        if opts.crash_after_batches is not None and batches > opts.crash_after_batches:
            raise Boom("simulated crash")
        RecordingDestination.sent.extend(changes)
        return [
            Outcome(c.key, "permanent", "invalid_email", f"email rejected for {c.key}")
            if c.key in opts.reject_keys
            else Outcome.success(c.key)
            for c in changes
        ]


@pytest.fixture(autouse=True)
def _reset_recording() -> None:
    RecordingDestination.sent = []


# --- a tiny dbt project -------------------------------------------------------------------


def people(n: int, start: int = 0, plan: str = "free") -> list[tuple[str, str, int]]:
    return [(f"u{i:05d}@example.com", plan, i) for i in range(start, start + n)]


class Project:
    """A dbt project dir with profiles.yml, manifest.json, sync.yml and a DuckDB warehouse."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = root / "warehouse.duckdb"
        self.out = root / "out"
        self.config = root / "sync.yml"
        (root / "dbt_project.yml").write_text("name: t\nprofile: t\n")
        (root / "profiles.yml").write_text(
            yaml.safe_dump(
                {
                    "t": {
                        "target": "dev",
                        "outputs": {
                            "dev": {
                                "type": "duckdb",
                                "path": "{{ env_var('T_DUCKDB_PATH', 'warehouse.duckdb') }}",
                                "schema": "main",
                            }
                        },
                    }
                }
            )
        )
        self.write_manifest(["sync_people"])
        self.write_config()

    def write_manifest(self, models: Iterable[str], contract: bool = True) -> None:
        nodes = {
            f"model.t.{m}": {
                "resource_type": "model",
                "name": m,
                "package_name": "t",
                "database": "warehouse",
                "schema": "main",
                "alias": m,
                "columns": (
                    {c: {"name": c, "data_type": t} for c, t in MODEL_COLUMNS.items()}
                    if contract
                    else {}
                ),
                "config": {"contract": {"enforced": contract}},
            }
            for m in models
        }
        (self.root / "target").mkdir(exist_ok=True)
        (self.root / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes}))

    def sync_entry(self, **overrides: Any) -> dict[str, Any]:
        entry = {
            "name": "people",
            "model": "sync_people",
            "destination": "files",
            "object": "person",
            "mode": "upsert",
            "identifier": {"id": "sync_key"},
            "batch_size": 10,
            "checkpoint_every": 20,
        }
        entry.update(overrides)
        return entry

    def write_config(
        self,
        syncs: list[dict[str, Any]] | None = None,
        destinations: dict[str, Any] | None = None,
        **top: Any,
    ) -> None:
        doc = {
            "version": 1,
            "destinations": destinations
            or {
                "files": {"type": "file", "path": str(self.out)},
                "rec": {
                    "type": "recording",
                    "api_key": {"env": "T_API_KEY"},
                },
            },
            "syncs": syncs if syncs is not None else [self.sync_entry()],
            **top,
        }
        self.config.write_text(yaml.safe_dump(doc, sort_keys=False))

    # --- the warehouse side -------------------------------------------------------------

    def sql(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.db))
        try:
            cur = con.execute(sql, params)
            return cur.fetchall() if cur.description else []
        finally:
            con.close()

    def set_model(self, rows: Sequence[tuple[str, str, int]], table: str = "sync_people") -> None:
        """Replace the sync model with these (email, plan, score) rows; hash computed in SQL."""
        con = duckdb.connect(str(self.db))
        try:
            con.execute(
                f"create or replace table {table} (email varchar, plan varchar, score integer)"
            )
            if rows:
                emails, plans, scores = (list(c) for c in zip(*rows, strict=True))
                con.execute(
                    f"insert into {table} select unnest(?), unnest(?), unnest(?)",
                    [emails, plans, scores],
                )
            con.execute(
                f"create or replace table {table} as select email as sync_key,"
                " md5(concat_ws('|', email, plan, score)) as sync_hash, email, plan, score"
                f" from {table}"
            )
        finally:
            con.close()

    def update_model(self, where: str, set_: str, table: str = "sync_people") -> None:
        self.sql(f"update {table} set {set_} where {where}")
        self.sql(f"update {table} set sync_hash = md5(concat_ws('|', email, plan, score))")

    def state(self, table: str = "sync_state", where: str = "true") -> list[tuple[Any, ...]]:
        return self.sql(f"select * from plg_sync.{table} where {where} order by all")

    def sent_lines(self, sync: str = "people") -> list[dict[str, Any]]:
        f = self.out / f"{sync}.jsonl"
        if not f.exists():
            return []
        return [json.loads(x) for x in f.read_text().splitlines() if x]

    def clear_sent(self, sync: str = "people") -> None:
        (self.out / f"{sync}.jsonl").unlink(missing_ok=True)

    # --- the CLI ------------------------------------------------------------------------

    def cli(self, *args: str, expect: int | None = 0) -> Any:
        result = CliRunner().invoke(
            cli, ["--config", str(self.config), *args], catch_exceptions=False
        )
        if expect is not None:
            assert result.exit_code == expect, (result.exit_code, result.output)
        return result


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("T_API_KEY", CANARY)
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    monkeypatch.delenv("T_DUCKDB_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    p = Project(tmp_path)
    p.set_model(people(50))
    return p
