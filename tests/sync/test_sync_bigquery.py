"""The core scenarios on the BigQuery backend: every statement is parsed as BigQuery by
sqlglot and executed on DuckDB through a client stand-in (see bigquery_fake.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlglot
import yaml

from sync.backends.bigquery import BigQueryBackend
from sync.dbt_project import load_profile
from tests.sync.bigquery_fake import FakeBigQueryClient
from tests.sync.conftest import CANARY, Project, RecordingDestination, people


class BQProject(Project):
    """The tiny project with a BigQuery profile; project `warehouse`, dataset `main`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        (root / "profiles.yml").write_text(
            yaml.safe_dump(
                {
                    "t": {
                        "target": "bq",
                        "outputs": {
                            "bq": {
                                "type": "bigquery",
                                "method": "anonymous",
                                "project": "warehouse",
                                "dataset": "main",
                                "location": "EU",
                                "client_options": {"api_endpoint": "http://127.0.0.1:9"},
                            }
                        },
                    }
                }
            )
        )


@pytest.fixture
def bq(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BQProject:
    monkeypatch.setenv("T_API_KEY", CANARY)
    monkeypatch.chdir(tmp_path)
    p = BQProject(tmp_path)
    p.set_model(people(30))
    clients: list[FakeBigQueryClient] = []

    def fake_client(profile: object) -> FakeBigQueryClient:
        clients.append(FakeBigQueryClient(str(p.db)))
        return clients[-1]

    monkeypatch.setattr(BigQueryBackend, "_make_client", staticmethod(fake_client))
    p.clients = clients  # type: ignore[attr-defined]
    return p


def test_bigquery_first_run_sends_all_then_nothing_then_only_changes(bq: BQProject) -> None:
    bq.cli("run")
    assert len(bq.sent_lines()) == 30 and len(bq.state()) == 30
    bq.clear_sent()
    bq.cli("run")
    assert bq.sent_lines() == []
    bq.update_model("score in (4, 5)", "plan = 'pro'")
    bq.cli("run")
    assert sorted(x["key"] for x in bq.sent_lines()) == [e for e, _, _ in people(2, start=4)]


def test_bigquery_removes_guardrail_and_state_rows(bq: BQProject) -> None:
    bq.write_config([bq.sync_entry(on_remove="delete")])
    bq.cli("run")
    bq.clear_sent()
    bq.sql("delete from sync_people where score >= 10")
    assert "20 of 30" in bq.cli("run", expect=5).output
    bq.cli("run", "--allow-mass-change")
    assert [x["op"] for x in bq.sent_lines()] == ["remove"] * 20
    assert len(bq.state()) == 10


def test_bigquery_lease_blocks_a_second_run(bq: BQProject) -> None:
    bq.cli("plan")
    now = dt.datetime.now(dt.UTC)
    bq.sql(
        "insert into plg_sync.sync_leases (sync_name, holder, acquired_at, expires_at) values ('people', 'other', ?, ?)",
        [now, now + dt.timedelta(hours=1)],
    )
    bq.cli("run", expect=4)
    assert bq.sent_lines() == []


def test_bigquery_rejected_records_are_logged_and_resent(bq: BQProject) -> None:
    dests = {"rec": {"type": "recording", "reject_keys": ["u00002@example.com"]}}
    bq.write_config([bq.sync_entry(destination="rec")], destinations=dests)
    bq.cli("run", expect=7)
    assert [r[2] for r in bq.state("sync_errors")] == ["u00002@example.com"]
    assert len(bq.state()) == 29
    bq.write_config([bq.sync_entry(destination="rec")], destinations={"rec": {"type": "recording"}})
    RecordingDestination.sent = []
    bq.cli("run")
    assert [c.key for c in RecordingDestination.sent] == ["u00002@example.com"]


def test_bigquery_changes_are_fetched_page_by_page(bq: BQProject) -> None:
    bq.set_model(people(12_000))
    bq.write_config([bq.sync_entry(batch_size=1000, checkpoint_every=None)])
    bq.cli("run")
    assert len(bq.sent_lines()) == 12_000
    client = bq.clients[-1]  # type: ignore[attr-defined]
    # 12,000 rows: 2 pages of 10,000 and 3 checkpoints of 5,000 (BigQuery's larger buffer)
    assert sum("begin transaction" in s for s in client.statements) == 3 + 1  # + the lease


def test_bigquery_dry_run_equals_plan(bq: BQProject) -> None:
    bq.cli("plan")
    bq.cli("run", "--dry-run")
    counts = bq.sql("select count(*) from plg_sync.sync_plans group by run_id")
    assert counts == [(30,), (30,)]
    assert bq.sent_lines() == []


def test_every_bigquery_statement_is_valid_bigquery_sql(bq: BQProject) -> None:
    bq.write_config([bq.sync_entry(on_remove="delete")])
    bq.cli("run")
    bq.cli("status")
    statements = [s for c in bq.clients for s in c.statements]  # type: ignore[attr-defined]
    assert len(statements) > 15
    for s in statements:
        trees = sqlglot.parse(s, read="bigquery")
        assert "@p" not in s or any(t.find(sqlglot.exp.Parameter) for t in trees if t)
        assert CANARY not in s


def test_bigquery_profile_passes_the_api_endpoint(bq: BQProject) -> None:
    prof = load_profile(bq.root)
    assert prof.settings["client_options"] == {"api_endpoint": "http://127.0.0.1:9"}
    client = BigQueryBackend.__dict__["_make_client"]  # the patched fake
    assert client is not None


def test_real_bigquery_client_is_built_with_endpoint_and_anonymous_credentials(
    bq: BQProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()
    prof = load_profile(bq.root)
    backend = BigQueryBackend(prof, "plg_sync")
    client = backend._client
    assert client.project == "warehouse" and client.location == "EU"
    assert client._connection.API_BASE_URL == "http://127.0.0.1:9"
    backend.close()


def test_bigquery_parameters_carry_the_column_types_even_when_null() -> None:
    """BigQuery will not insert a STRING NULL into an INT64 column: types come from the
    state-table definitions, not from the (possibly all-NULL) values."""
    from sync.backends.bigquery import to_query_parameters
    from sync.state_sql import STATE_TABLES, Dialect, StateSQL

    sql = StateSQL(BigQueryBackend.dialect, "proj", "plg_sync")
    p = sql.params()
    row = ["r1", "s", dt.datetime(2024, 1, 1), None, "running", False]
    row += [None] * (len(STATE_TABLES["sync_runs"]) - len(row))
    sql.insert(p, "sync_runs", [row])
    [param] = to_query_parameters(p)
    struct = param.to_api_repr()["parameterType"]["arrayType"]["structTypes"]
    field_types = {f["name"]: f["type"]["type"] for f in struct}
    assert field_types == {
        c: {"string": "STRING", "integer": "INT64", "double": "FLOAT64", "boolean": "BOOL",
            "timestamp": "TIMESTAMP"}[t]
        for c, t in STATE_TABLES["sync_runs"]
    }  # fmt: skip
    p = sql.params()
    sql.finish_run(p, "r1", {"planned": None, "error": None, "duration_s": 1.5})
    assert [(q.name, q.type_) for q in to_query_parameters(p)] == [
        ("p0", "INT64"), ("p1", "STRING"), ("p2", "FLOAT64"), ("p3", "STRING"),
    ]  # fmt: skip
    assert Dialect  # imported for readers: the dialect is data
