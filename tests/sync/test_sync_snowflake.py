"""The core scenarios on the Snowflake backend, against a local fakesnow server.

The server runs once per module (`fakesnow -s -p PORT` on 127.0.0.1); each test gets its
own database, so tests do not see each other's state.
"""

from __future__ import annotations

import datetime as dt
import itertools
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector as snowflake_connector  # a declared dependency: a broken install fails
import yaml

from tests.sync.conftest import CANARY, Project, RecordingDestination, people

FAKESNOW = Path(sys.executable).with_name("fakesnow")
_db_ids = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fakesnow_port() -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(FAKESNOW), "-s", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("fakesnow server did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class SnowProject(Project):
    """The same tiny project, with its warehouse in fakesnow."""

    def __init__(self, root: Path, port: int) -> None:
        self.port = port
        self.database = f"DB{next(_db_ids)}"
        super().__init__(root)
        (root / "profiles.yml").write_text(
            yaml.safe_dump(
                {
                    "t": {
                        "target": "sf",
                        "outputs": {
                            "sf": {
                                "type": "snowflake",
                                "account": "test",
                                "user": "plg",
                                "password": "{{ env_var('T_SF_PASSWORD') }}",
                                "database": self.database,
                                "schema": "PLG_SIGNALS",
                                "warehouse": "WH",
                                "host": "localhost",
                                "port": port,
                                "protocol": "http",
                                "login_timeout": 15,
                                "network_timeout": 30,
                            }
                        },
                    }
                }
            )
        )
        self.con = snowflake_connector.connect(
            user="plg", password="x", account="test", host="localhost", port=port,
            protocol="http", paramstyle="qmark", login_timeout=15, network_timeout=30,
        )  # fmt: skip
        self.sql(f"create database if not exists {self.database}")
        self.sql(f"create schema if not exists {self.database}.PLG_SIGNALS")
        self.write_manifest(["sync_people"])

    def write_manifest(self, models: Any, contract: bool = True) -> None:
        super().write_manifest(models, contract)
        import json

        path = self.root / "target" / "manifest.json"
        doc = json.loads(path.read_text())
        for node in doc["nodes"].values():  # as dbt-snowflake writes them
            node["database"], node["schema"] = getattr(self, "database", "X"), "PLG_SIGNALS"
        path.write_text(json.dumps(doc))

    def sql(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        cur = self.con.cursor()
        cur.execute(sql, params)
        try:
            return [tuple(r) for r in cur.fetchall()]
        except snowflake_connector.errors.Error:
            return []

    @property
    def model(self) -> str:
        return f"{self.database}.PLG_SIGNALS.sync_people"

    def set_model(self, rows: Sequence[tuple[str, str, int]], table: str = "") -> None:
        self.sql(
            f"create or replace table {self.model} (sync_key varchar, sync_hash varchar,"
            " email varchar, plan varchar, score integer)"
        )
        for e, p, s in rows:  # fakesnow: executemany/multi-row binds are not needed here
            self.sql(f"insert into {self.model} values (?, ?, ?, ?, ?)", [e, "", e, p, s])
        self._rehash()

    def _rehash(self) -> None:
        self.sql(f"update {self.model} set sync_hash = md5(concat_ws('|', email, plan, score))")

    def update_model(self, where: str, set_: str, table: str = "") -> None:
        self.sql(f"update {self.model} set {set_} where {where}")
        self._rehash()

    def state(self, table: str = "sync_state", where: str = "true") -> list[tuple[Any, ...]]:
        return sorted(
            self.sql(f"select * from {self.database}.plg_sync.{table} where {where}"),
            key=repr,
        )


@pytest.fixture
def sf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakesnow_port: int) -> SnowProject:
    monkeypatch.setenv("T_API_KEY", CANARY)
    monkeypatch.setenv("T_SF_PASSWORD", CANARY)
    monkeypatch.chdir(tmp_path)
    p = SnowProject(tmp_path, fakesnow_port)
    p.set_model(people(12))
    return p


def test_snowflake_first_run_sends_all_then_nothing_then_only_changes(sf: SnowProject) -> None:
    sf.cli("run")
    assert len(sf.sent_lines()) == 12
    assert len(sf.state()) == 12
    sf.clear_sent()
    sf.cli("run")
    assert sf.sent_lines() == []
    sf.update_model("score < 3", "plan = 'pro'")
    sf.cli("run")
    assert sorted(x["key"] for x in sf.sent_lines()) == [e for e, _, _ in people(3)]


def test_snowflake_removes_and_guardrail(sf: SnowProject) -> None:
    sf.write_config([sf.sync_entry(on_remove="delete")])
    sf.cli("run")
    sf.clear_sent()
    sf.sql(f"delete from {sf.model} where score >= 11")
    sf.cli("run")
    assert [x["op"] for x in sf.sent_lines()] == ["remove"]
    assert len(sf.state()) == 11
    sf.sql(f"delete from {sf.model} where score >= 4")  # 7 of 11 removed
    assert "7 of 11" in sf.cli("run", expect=5).output
    sf.cli("run", "--allow-mass-change")
    assert len(sf.state()) == 4


def test_snowflake_lease_blocks_and_expires(sf: SnowProject) -> None:
    sf.cli("plan")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    leases = f"{sf.database}.plg_sync.sync_leases"
    sf.sql(
        f"insert into {leases} values ('people', 'other', ?, ?)", [now, now + dt.timedelta(hours=1)]
    )
    sf.cli("run", expect=4)
    assert sf.sent_lines() == []
    sf.sql(f"update {leases} set expires_at = ?", [now - dt.timedelta(minutes=1)])
    sf.cli("run")
    assert len(sf.sent_lines()) == 12


def test_snowflake_rejected_records_are_resent(sf: SnowProject) -> None:
    dests = {"rec": {"type": "recording", "reject_keys": ["u00001@example.com"]}}
    sf.write_config([sf.sync_entry(destination="rec")], destinations=dests)
    sf.cli("run", expect=7)
    assert [r[2] for r in sf.state("sync_errors")] == ["u00001@example.com"]
    assert len(sf.state()) == 11
    sf.write_config([sf.sync_entry(destination="rec")], destinations={"rec": {"type": "recording"}})
    RecordingDestination.sent = []
    sf.cli("run")
    assert [c.key for c in RecordingDestination.sent] == ["u00001@example.com"]


def test_snowflake_dry_run_equals_plan_and_secrets_stay_out(sf: SnowProject) -> None:
    out = sf.cli("-v", "plan").output + sf.cli("run", "--dry-run").output
    assert sf.sent_lines() == []
    plans = sf.sql(
        f"select run_id, count(*) from {sf.database}.plg_sync.sync_plans group by run_id"
    )
    assert sorted(n for _, n in plans) == [12, 12]
    assert CANARY not in out
    assert CANARY not in repr(sf.state("sync_runs"))
