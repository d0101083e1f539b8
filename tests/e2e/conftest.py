"""End-to-end fixtures: the demo warehouse (built once by `demo_warehouse`), copied per test
module, synced by the real `plg-sync` CLI to the API stand-ins on 127.0.0.1.

Each module gets its own DuckDB file because `plg-sync run` writes its state tables
(plg_sync.*) into the warehouse. The dbt manifest is the one `demo_warehouse` built; sync
finds it through a small dbt project dir whose `target-path` points at the fixture's target
(sync/dbt_project.py reads `target-path` from dbt_project.yml; see test_e2e_wiring.py for
DBT_TARGET_PATH). Measured throughput per sync is printed at the end of the session.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from click.testing import CliRunner, Result

from sync.cli import cli
from sync.http import reset_gates
from tests.demo.conftest import REPO, DemoWarehouse

# Fast pacing and retries for the stand-ins (tests/destinations uses the same numbers).
FAST = {
    "requests_per_second": 2000,
    "burst": 200,
    "timeout_seconds": 5,
    "backoff_initial_seconds": 0.005,
    "backoff_max_seconds": 0.05,
    "max_retry_after_seconds": 0.2,
}
CANARY = "CANARY-e2e-s3cr3t-4b7a1c"  # every credential; must never show in output or tables

SYNC_MODELS = (
    "sync_customerio_people",
    "sync_customerio_accounts",
    "sync_customerio_relationships",
    "sync_crm_companies",
    "sync_crm_contacts",
    "sync_signal_events",
)

_MEASURED: list[dict[str, Any]] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Records/s and 429s of every e2e run that sent something (from plg_sync.sync_runs)."""
    if not _MEASURED:
        return
    terminalreporter.section("plg-sync e2e throughput against the stand-ins")
    for m in _MEASURED:
        rate = m["succeeded"] / m["duration_s"] if m["duration_s"] else 0.0
        terminalreporter.write_line(
            f"{m['destination']:<11} {m['sync_name']:<16} {m['succeeded']:>6} ok "
            f"{m['failed']:>3} failed in {m['duration_s']:>6.2f}s = {rate:>8,.0f} records/s; "
            f"{m['requests']:>4} requests, {m['throttled']} x 429, {m['retries']} retries"
        )


@pytest.fixture(autouse=True)
def _fresh_rate_limiters() -> Iterator[None]:
    # Pacing gates are per process and keyed by account; each test starts from a clean slate.
    reset_gates()
    yield
    reset_gates()


def unix_seconds(value: datetime) -> int:
    return int(value.replace(tzinfo=UTC).timestamp())


def epoch_ms(value: datetime | date) -> int:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return int(value.replace(tzinfo=UTC).timestamp()) * 1000


@dataclass
class Warehouse:
    """One module's copy of the demo warehouse plus its sync.yml and the CLI to run it."""

    root: Path
    db: Path
    project_dir: Path
    profiles_dir: Path
    config: Path
    destination: str = ""

    # -- config and CLI ------------------------------------------------------------------

    def write_config(self, destinations: dict[str, Any], syncs: list[dict[str, Any]]) -> None:
        doc = {
            "version": 1,
            "state_schema": "plg_sync",
            "dbt": {"project_dir": str(self.project_dir), "profiles_dir": str(self.profiles_dir)},
            "destinations": destinations,
            "syncs": syncs,
        }
        self.config.write_text(yaml.safe_dump(doc, sort_keys=False))

    def cli(self, *args: str, expect: int | None = 0, env: dict[str, str] | None = None) -> Result:
        """`plg-sync --config <sync.yml> ARGS` in process; asserts the exit code."""
        reset_gates()
        result = CliRunner().invoke(
            cli,
            ["--config", str(self.config), *args],
            env={"PLG_DUCKDB_PATH": str(self.db), "PLG_TARGET": "duckdb", **(env or {})},
            catch_exceptions=False,
        )
        output = result.output
        assert CANARY not in output, "a credential leaked into the CLI output"
        if expect is not None:
            assert result.exit_code == expect, (result.exit_code, output[-3000:])
        return result

    def run(self, *syncs: str, expect: int | None = 0) -> dict[str, dict[str, Any]]:
        """`plg-sync run --select ...`; returns the new sync_runs row per sync."""
        before = {r["run_id"] for r in self.query("select run_id from plg_sync.sync_runs")}
        select = [a for s in syncs for a in ("--select", s)]
        self.cli("run", *select, expect=expect)
        runs = {
            r["sync_name"]: r
            for r in self.query("select * from plg_sync.sync_runs order by started_at")
            if r["run_id"] not in before
        }
        for run in runs.values():
            if run["succeeded"] or run["failed"]:
                _MEASURED.append({"destination": self.destination, **run})
        return runs

    # -- warehouse -----------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        con = duckdb.connect(str(self.db))
        try:
            try:
                cursor = con.execute(sql, params)
            except duckdb.CatalogException:
                if "plg_sync." in sql:  # state tables appear with the first run
                    return []
                raise
            if not cursor.description:
                return []
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            con.close()

    def execute(self, *statements: str) -> None:
        con = duckdb.connect(str(self.db))
        try:
            for sql in statements:
                con.execute(sql)
        finally:
            con.close()

    def model(self, name: str) -> dict[str, dict[str, Any]]:
        """The sync model's rows by sync_key."""
        return {r["sync_key"]: r for r in self.query(f"select * from main.{name}")}

    def rehash(self, model: str) -> None:
        """Recompute sync_hash exactly as the sync_hash macro did when dbt built the model:
        the hash expression is taken from the model's compiled SQL in the manifest."""
        expression = self.hash_expression(model)
        self.execute(
            f"update main.{model} as m set sync_hash = h.sync_hash from ("
            f" with final as (select * exclude (sync_hash) from main.{model})"
            f" select final.sync_key, {expression} as sync_hash"
            f" from final) as h where m.sync_key = h.sync_key"
        )

    def hash_expression(self, model: str) -> str:
        project = yaml.safe_load((self.project_dir / "dbt_project.yml").read_text())
        manifest = json.loads((Path(project["target-path"]) / "manifest.json").read_text())
        compiled = manifest["nodes"][f"model.plg_signals.{model}"]["compiled_code"]
        found = re.search(r"final\.\*,\s*(.*?)\s+as sync_hash\s+from final", compiled, re.S)
        assert found, f"no sync_hash expression in the compiled SQL of {model}"
        return found.group(1)

    def update(self, model: str, set_: str, where: str) -> None:
        self.execute(f"update main.{model} set {set_} where {where}")
        self.rehash(model)

    def add_copy(self, model: str, of_key: str, replace: dict[str, str]) -> None:
        """Insert a copy of one row with some columns replaced by SQL expressions."""
        cols = ", ".join(f"{expr} as {col}" for col, expr in replace.items())
        self.execute(
            f"insert into main.{model} select * replace ({cols})"
            f" from main.{model} where sync_key = '{of_key}'"
        )
        self.rehash(model)

    def delete(self, model: str, where: str) -> None:
        self.execute(f"delete from main.{model} where {where}")

    def state_keys(self, sync: str) -> set[str]:
        rows = self.query("select sync_key from plg_sync.sync_state where sync_name = ?", [sync])
        return {r["sync_key"] for r in rows}

    def errors(self, sync: str) -> list[dict[str, Any]]:
        return self.query(
            "select * from plg_sync.sync_errors where sync_name = ? order by occurred_at",
            [sync],
        )

    def assert_no_canary_in_tables(self) -> None:
        for table in ("sync_runs", "sync_errors", "sync_state"):
            for row in self.query(f"select * from plg_sync.{table}"):
                assert CANARY not in str(row), f"credential found in plg_sync.{table}"


def partial_failure_round_trip(
    warehouse: Warehouse,
    *,
    sync: str,
    model: str,
    change: str,
    reject: Any,
    landed: Any,
    code: str,
    changed: int = 6,
) -> None:
    """Issue 14's acceptance, for any destination: change `changed` rows, have the
    destination refuse two of them (`reject(keys)`), and check that exactly those two are
    in sync_errors and keep their old state while the others are acknowledged; then lift
    the refusal and check that the next run delivers the two (`landed(key)`)."""
    keys = sorted(warehouse.model(model))[:changed]
    quoted = ", ".join(f"'{k}'" for k in keys)
    warehouse.update(model, change, f"sync_key in ({quoted})")
    state = "select sync_key, sync_hash from plg_sync.sync_state where sync_name = ?"
    before = {r["sync_key"]: r["sync_hash"] for r in warehouse.query(state, [sync])}
    hashes = {k: r["sync_hash"] for k, r in warehouse.model(model).items()}
    refused = {keys[1], keys[-2]}
    reject(refused)

    runs = warehouse.run(sync, expect=None)
    run = runs[sync]
    assert (run["changed"], run["succeeded"], run["failed"]) == (changed, changed - 2, 2)
    errors = [e for e in warehouse.errors(sync) if e["run_id"] == run["run_id"]]
    assert {e["sync_key"] for e in errors} == refused
    assert {e["error_code"] for e in errors} == {code}
    after = {r["sync_key"]: r["sync_hash"] for r in warehouse.query(state, [sync])}
    for key in keys:
        expected = before[key] if key in refused else hashes[key]
        assert after[key] == expected, (key, "old state kept" if key in refused else "acked")
    assert not any(landed(k) for k in refused)
    assert all(landed(k) for k in set(keys) - refused)

    reject(set())
    run = warehouse.run(sync)[sync]
    assert (run["changed"], run["succeeded"], run["failed"]) == (2, 2, 0)
    after = {r["sync_key"]: r["sync_hash"] for r in warehouse.query(state, [sync])}
    assert all(after[k] == hashes[k] for k in keys)
    assert all(landed(k) for k in keys)


@pytest.fixture(scope="module")
def warehouse(
    demo_warehouse: DemoWarehouse,
    tmp_path_factory: pytest.TempPathFactory,
) -> Warehouse:
    """A private copy of the built demo warehouse, with a dbt project dir whose target-path
    is the fixture's target (so the manifest that built this file is the one sync reads)."""
    if demo_warehouse.returncode != 0:
        pytest.fail(f"dbt build of the demo warehouse failed:\n{demo_warehouse.output[-3000:]}")
    root = tmp_path_factory.mktemp("e2e")
    db = root / demo_warehouse.path.name  # same file name: the manifest's database name
    shutil.copy(demo_warehouse.path, db)
    project_dir = root / "dbt_project"
    project_dir.mkdir()
    repo_project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    (project_dir / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": repo_project["name"],
                "profile": repo_project["profile"],
                "target-path": str(demo_warehouse.target_path),
            }
        )
    )
    return Warehouse(
        root=root,
        db=db,
        project_dir=project_dir,
        profiles_dir=demo_warehouse.path.parent / "profiles",
        config=root / "sync.yml",
    )


@pytest.fixture(scope="module")
def canary_env() -> Iterator[pytest.MonkeyPatch]:
    """Module-wide env vars for credentials, all set to the canary value."""
    with pytest.MonkeyPatch.context() as mp:
        yield mp
