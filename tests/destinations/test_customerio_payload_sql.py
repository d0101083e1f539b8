"""Customer.io person operations built in DuckDB are the operations Python would build.

The engine lets the warehouse encode each `identify` (issue 19: the per-record Python work
capped throughput well below the published 100 requests/s). That is only allowed if the
bytes on the wire and the reasons in sync_errors are exactly what the Python path produces,
for every value the model can hold: nulls, quotes and non-ASCII text, naive and zoned
timestamps, dates, booleans, NaN/Infinity, over-long values and identifiers.
"""

from __future__ import annotations

import duckdb
import orjson
import pytest

from sync.backends.duckdb import DuckDBBackend
from sync.destinations.customerio import CustomerIo, _Builder, _person_sql
from sync.planning import ColumnMapping, payload_row_to_change, row_to_change
from sync.records import Outcome
from tests.standins.spec import Spec

PEOPLE = Spec(object="person", identifier={"id": "sync_key"}, on_remove="unset")

MODEL = """
create table work as select * from (values
  ('u1', 'ann@example.com', 'O''Brien "the" café ☕', timestamp '2026-09-01 05:00:43.9',
   date '2024-02-29', true, 42, 0.1::double, timestamptz '2024-01-01 00:00:00+02'),
  ('u2', null, null, null, null, null, null, null, null),
  ('u3', 'x@example.com', repeat('é', 501), timestamp '1969-12-31 23:59:59.5',
   date '1970-01-01', false, -7, 'nan'::double, null),
  ('u4', 'y@example.com', repeat('a', 1000), null, null, null, null, 'inf'::double, null),
  ('', 'z@example.com', 'fine', null, null, null, null, 1e20, null),
  (repeat('k', 151), 'w@example.com', 'fine', null, null, null, null, -0.0, null),
  ('u7', 'v@example.com', 'fine', null, null, null, null, 1e20, null)
) as t(sync_key, email, note, last_seen_at, signup_date, is_pql, score, ratio, zoned_at)
"""
COLUMNS = ["sync_key", "email", "note", "last_seen_at", "signup_date", "is_pql", "score"]
COLUMNS += ["ratio", "zoned_at"]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(MODEL)
    return con


def build_both(con: duckdb.DuckDBPyConnection) -> tuple[list, list]:
    mapping = ColumnMapping(
        identifier={"id": "sync_key"}, fields={c: c for c in COLUMNS if c != "sync_key"}
    )
    types = {r[0]: r[1] for r in con.execute("describe work").fetchall()}
    columns = {c: (c, types[c]) for c in COLUMNS}
    built = _person_sql(PEOPLE, mapping.identifier, mapping.fields, columns, DuckDBBackend.dialect)
    assert built is not None, "every column type of this model has an exact SQL twin"
    payload, problem = built
    builder = _Builder(PEOPLE, CustomerIo.SyncOptions())
    cols = ", ".join(COLUMNS)
    rows = con.execute(f"select {cols}, {payload}, {problem} from work").fetchall()
    python, sql = [], []
    for row in rows:
        key = row[0]
        python.append(builder.item(row_to_change(("add", key, None, "h", *row[:-2]), mapping)))
        change = payload_row_to_change(("add", key, None, "h", row[-2], row[-1]), mapping)
        sql.append(builder.item(change))
    return python, sql


def test_sql_built_operations_are_byte_for_byte_the_python_ones(con):
    python, sql = build_both(con)
    for from_python, from_sql in zip(python[:-1], sql[:-1], strict=True):
        assert from_sql == from_python
    # A double may be spelt differently (1e20 vs 100000000000000000000.0): same number.
    assert orjson.loads(sql[-1].payload) == orjson.loads(python[-1].payload)
    ok = [item for item in python if not isinstance(item, Outcome)]
    assert len(ok) == 3  # u1, u2 and u7; the others break a documented limit
    first = orjson.loads(ok[0].payload)
    assert first["identifiers"] == {"id": "u1"}
    assert first["attributes"]["last_seen_at"] == 1788238843  # Unix seconds, toward zero
    assert first["attributes"]["zoned_at"] == 1704060000  # the instant, not the wall clock
    assert first["attributes"]["note"] == 'O\'Brien "the" café ☕'
    nulls = orjson.loads(ok[1].payload)["attributes"]
    assert set(nulls.values()) == {""}, "a null removes the attribute in Customer.io"


def test_rows_breaking_a_limit_get_the_same_reason_without_a_request(con):
    python, sql = build_both(con)
    reasons = {o.key: o.message for o in sql if isinstance(o, Outcome)}
    assert reasons == {o.key: o.message for o in python if isinstance(o, Outcome)}
    assert "'note' value is 1002 bytes" in reasons["u3"]  # 501 x 2-byte é, over 1000
    assert "'ratio' is inf" in reasons["u4"]  # a 1000-byte text is still fine
    assert reasons[""] == "identifier 'id' is empty"
    assert "identifier 'id' is 151 bytes" in reasons["k" * 151]
    assert all(o.status == "permanent" for o in sql if isinstance(o, Outcome))


def test_a_mapped_field_named_like_the_identifier_supplies_the_id(con):
    # The demo model has `id` next to `sync_key`; the row's `id` field wins, as in Python.
    con.execute("create table people as select sync_key, 'p-' || sync_key as id from work")
    fields = {"id": "id"}
    columns = {"sync_key": ("sync_key", "VARCHAR"), "id": ("id", "VARCHAR")}
    payload, problem = _person_sql(
        PEOPLE, {"id": "sync_key"}, fields, columns, DuckDBBackend.dialect
    )
    mapping = ColumnMapping(identifier={"id": "sync_key"}, fields=fields)
    builder = _Builder(PEOPLE, CustomerIo.SyncOptions())
    for key, value, built, reason in con.execute(
        f"select sync_key, id, {payload}, {problem} from people where sync_key like 'u%'"
    ).fetchall():
        python = builder.item(row_to_change(("add", key, None, "h", key, value), mapping))
        sql = builder.item(payload_row_to_change(("add", key, None, "h", built, reason), mapping))
        assert sql == python
        assert orjson.loads(sql.payload) == {
            "type": "person",
            "action": "identify",
            "identifiers": {"id": f"p-{key}"},
            "attributes": {},
        }


def test_column_types_without_an_exact_twin_stay_in_python(con):
    for kind in ("DECIMAL(10,2)", "VARCHAR[]", "TIMESTAMP[]", "STRUCT(a INTEGER)", "TIME"):
        columns = {"sync_key": ("sync_key", "VARCHAR"), "x": ("x", kind)}
        built = _person_sql(PEOPLE, {"id": "sync_key"}, {"x": "x"}, columns, DuckDBBackend.dialect)
        assert built is None, kind
    events = Spec(object="event", identifier={"id": "sync_key"}, mode="event")
    assert _person_sql(events, {"id": "sync_key"}, {}, columns, DuckDBBackend.dialect) is None
