"""`plg-sync run` to Customer.io on Snowflake (fakesnow) and BigQuery (the fake client):
the engine lets the warehouse build each person `identify`, and what arrives is the model.

tests/warehouses/test_payload_sql.py proves the SQL-built bytes equal the Python-built ones
value by value; this proves the engine takes that path on these backends (work-table
column types, the payload select, streaming, checkpoints) and that a row breaking a limit
reaches sync_errors with its reason, without a request, and is retried next run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sync.backends.snowflake import SnowflakeBackend
from tests.standins.customerio import CustomerIoStandIn
from tests.sync.conftest import CANARY, Project
from tests.sync.test_sync_bigquery import BQProject, bq  # noqa: F401 (fixture)
from tests.sync.test_sync_snowflake import SnowProject, sf  # noqa: F401 (fixture)

# The shimmed fakesnow server (tests/warehouses/fakesnow_shim.py: `octet_length` of text).
from tests.warehouses.test_snowflake import fakesnow_port  # noqa: F401

FAST = {"requests_per_second": 2000, "burst": 200, "backoff_initial_seconds": 0.005}
LONG_KEY = "k" * 151 + "@example.com"


@pytest.fixture
def cio(monkeypatch: pytest.MonkeyPatch) -> Iterator[CustomerIoStandIn]:
    monkeypatch.setenv("T_CIO_SITE", "site-w")
    with CustomerIoStandIn(site_id="site-w", api_key=CANARY) as standin:
        yield standin


def use_customerio(p: Project, standin: CustomerIoStandIn) -> None:
    p.write_config(
        [p.sync_entry(destination="cio", batch_size=None, checkpoint_every=None)],
        destinations={
            "cio": {
                "type": "customerio",
                "site_id": {"env": "T_CIO_SITE"},
                "api_key": {"env": "T_API_KEY"},
                "base_url": standin.url,
                **FAST,
            }
        },
    )


def check_people(standin: CustomerIoStandIn, n: int) -> None:
    assert len(standin.people) == n
    for i in range(n):
        assert standin.people[f"u{i:05d}@example.com"] == {
            "email": f"u{i:05d}@example.com",
            "plan": "free",
            "score": i,
        }


def test_bigquery_builds_the_operations_and_flags_limits_in_sql(bq, cio):  # noqa: F811
    use_customerio(bq, cio)
    bq.sql(
        "insert into sync_people values (?, 'h', ?, 'free', 1)", [LONG_KEY, LONG_KEY]
    )  # an id over Customer.io's 150 bytes
    result = bq.cli("run", expect=None)
    check_people(cio, 30)
    statements = bq.clients[-1].statements  # type: ignore[attr-defined]
    built_in_sql = [s for s in statements if "code_points_to_string" in s]
    assert built_in_sql, "the payload select ran in BigQuery"
    assert "byte_length" in built_in_sql[0]
    errors = bq.sql("select sync_key, message from plg_sync.sync_errors")
    assert errors == [(LONG_KEY, errors[0][1])]
    assert "identifier 'id' is 163 bytes" in errors[0][1], result.output
    assert cio.requests == 1  # 30 operations in one request; the bad row needed none
    requests = cio.requests
    bq.cli("run", expect=None)  # converged, except the bad row, which is tried again
    assert cio.requests == requests
    assert len(bq.sql("select * from plg_sync.sync_errors")) == 2


def test_snowflake_builds_the_operations_in_sql(
    sf: SnowProject,  # noqa: F811
    cio: CustomerIoStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    streamed: list[str] = []
    stream = SnowflakeBackend.stream

    def recording(self: Any, sql: str, params: Any, chunk_size: int) -> Any:
        streamed.append(sql)
        return stream(self, sql, params, chunk_size)

    monkeypatch.setattr(SnowflakeBackend, "stream", recording)
    use_customerio(sf, cio)
    sf.cli("run")
    check_people(cio, 12)
    assert any("octet_length" in s and "chr(92)" in s for s in streamed), streamed
    sf.update_model("score in (4, 5)", "plan = 'pro'")
    sf.cli("run")
    assert cio.people["u00004@example.com"]["plan"] == "pro"
    assert cio.applied == 14
