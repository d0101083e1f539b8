"""Customer.io person operations built in Snowflake and BigQuery SQL are the Python ones.

Issue 19: the warehouse builds each `identify` so Python only frames bytes. That is allowed
only if, for every value a sync model can hold, the SQL-built operation is byte for byte the
one `_Builder._identify` encodes from the values the warehouse's driver returns, and a row
breaking a documented limit gets the same reason. The same check for DuckDB lives in
tests/destinations/test_customerio_payload_sql.py.

What this can and cannot prove: the SQL runs on the local stand-ins, fakesnow (Snowflake
SQL transpiled to DuckDB by sqlglot) and the BigQuery fake (sqlglot to DuckDB, with two
documented function bridges in tests/sync/bigquery_fake.py). They prove the SQL parses as
the warehouse's dialect, that sqlglot knows every function in it, and that the
expressions compute the right bytes under the semantics sqlglot maps them to. They cannot
prove a real warehouse evaluates each function exactly so; the templates are written to
the vendors' function references (sync/backends/snowflake.py, bigquery.py), and
docs/warehouses.md lists what only a real account can confirm.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import fakesnow
import orjson
import pytest

from sync.backends.bigquery import BigQueryBackend
from sync.backends.snowflake import SnowflakeBackend
from sync.dbt_project import Profile
from sync.destinations.customerio import CustomerIo, _Builder, _person_sql
from sync.planning import ColumnMapping, payload_row_to_change, row_to_change
from sync.records import Outcome
from sync.state_sql import Dialect
from tests.standins.spec import Spec
from tests.sync.bigquery_fake import FakeBigQueryClient
from tests.warehouses.conftest import portability_problems

PEOPLE = Spec(object="person", identifier={"id": "sync_key"}, on_remove="unset")
UTC = dt.UTC
PLUS2 = dt.timezone(dt.timedelta(hours=2))
# Every character orjson escapes (all below U+0020, `"` and `\`) and some it does not.
AWKWARD = "".join(chr(c) for c in range(32)) + "\"\\/ <>& \u2028 \x7f O'Brien café ☕ 𝄞"

# (column, Snowflake type, BigQuery type)
SCHEMA = [
    ("sync_key", "varchar", "string"),
    ("email", "varchar", "string"),
    ("note", "varchar", "string"),
    ("last_seen_at", "timestamp_ntz", "timestamp"),
    ("zoned_at", "timestamp_tz", "datetime"),
    ("signup_date", "date", "date"),
    ("is_pql", "boolean", "bool"),
    ("score", "number(38, 0)", "int64"),
]
COLUMNS = [c for c, _, _ in SCHEMA]
# Rows as the drivers return them (naive = TIMESTAMP_NTZ / BigQuery DATETIME wall clock;
# the zoned column is TIMESTAMP_TZ on Snowflake, DATETIME (naive) on BigQuery).
ROWS: list[tuple[Any, ...]] = [
    ("u1", "ann@example.com", AWKWARD, dt.datetime(2026, 9, 1, 5, 0, 43, 900000),
     dt.datetime(2024, 1, 1, tzinfo=PLUS2), dt.date(2024, 2, 29), True, 42),
    ("u2", None, None, None, None, None, None, None),
    ("u3", "x@example.com", "é" * 501, dt.datetime(1969, 12, 31, 23, 59, 59, 500000),
     dt.datetime(1969, 12, 31, 23, 59, 58, 250000, tzinfo=UTC), dt.date(1970, 1, 1), False, -7),
    ("u4", "y@example.com", "a" * 1000, dt.datetime(1900, 1, 1), None, dt.date(1901, 12, 13),
     None, 2**53 + 1),
    ("", "z@example.com", "fine", None, None, None, None, None),
    ("k" * 151, "w@example.com", "fine", None, None, None, None, None),
    ("ü" * 75, "v@example.com", "é" * 500, dt.datetime(2038, 1, 19, 3, 14, 8), None, None,
     None, -(2**63)),
]  # fmt: skip


def _text_sql(d: Dialect, char: Callable[[int], str], text: str) -> str:
    """A text as SQL: printable runs as literals, control characters through `char`."""
    parts: list[str] = []
    run = ""
    for c in text:
        if ord(c) < 32:
            if run:
                parts.append(d.literal(run))
                run = ""
            parts.append(char(ord(c)))
        else:
            run += c
    if run or not parts:
        parts.append(d.literal(run))
    return "concat(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]


class Warehouse:
    """One stand-in warehouse behind the real backend class, with a `people` table."""

    name: str
    backend: Any
    char: Callable[[int], str]

    def literal(self, value: Any, sql_type: str) -> str:
        d = self.backend.dialect
        if value is None:
            return f"cast(null as {sql_type})"
        if isinstance(value, str):
            return _text_sql(d, self.char, value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return f"cast({d.literal(str(value))} as {sql_type})"
        text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
        return f"cast({d.literal(text)} as {sql_type})"

    def create(self, table: str, schema: Sequence[tuple[str, str]], rows: Sequence[Any]) -> None:
        cols = ", ".join(f"{c} {t}" for c, t in schema)
        self.backend.execute(f"create or replace table {self.relation(table)} ({cols})")
        for row in rows:
            values = ", ".join(self.literal(v, t) for v, (_, t) in zip(row, schema, strict=True))
            self.backend.execute(f"insert into {self.relation(table)} select {values}")

    def relation(self, table: str) -> str:
        raise NotImplementedError

    def rows(self) -> list[tuple[Any, ...]]:
        """ROWS as this warehouse's driver returns them."""
        return ROWS

    def schema(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def column_types(self, table: str) -> dict[str, str]:
        raise NotImplementedError


class Snowflake(Warehouse):
    name = "snowflake"

    def __init__(self, tmp_path: Path) -> None:
        profile = Profile(
            "t", "sf", "snowflake",
            {"account": "test", "user": "plg", "password": "x", "database": "DB",
             "schema": "PLG"},
            tmp_path,
        )  # fmt: skip
        self.backend = SnowflakeBackend(profile, "plg_sync")
        self.backend.execute("create database if not exists DB")
        self.backend.execute("create schema if not exists DB.PLG")
        self.char = "chr({})".format

    def relation(self, table: str) -> str:
        return f"DB.PLG.{table}"

    def schema(self) -> list[tuple[str, str]]:
        return [(c, s) for c, s, _ in SCHEMA]

    def column_types(self, table: str) -> dict[str, str]:
        # What the connector reports, through the backend the engine uses.
        return self.backend.column_types(self.relation(table))


class BigQuery(Warehouse):
    name = "bigquery"

    def __init__(self, tmp_path: Path) -> None:
        self.client = FakeBigQueryClient(str(tmp_path / "bq.duckdb"))
        self.client.con.execute("create schema if not exists plg")
        profile = Profile("t", "bq", "bigquery", {"project": "p", "method": "anonymous"}, tmp_path)
        self.backend = BigQueryBackend(profile, "plg_sync", client=self.client)
        self.char = "code_points_to_string([{}])".format

    def relation(self, table: str) -> str:
        return f"plg.{table}"

    def schema(self) -> list[tuple[str, str]]:
        return [(c, b) for c, _, b in SCHEMA]

    def rows(self) -> list[tuple[Any, ...]]:
        # `zoned_at` is a DATETIME here: the client returns its wall clock, naive.
        at = COLUMNS.index("zoned_at")
        return [
            tuple(
                v.replace(tzinfo=None) if i == at and v is not None else v for i, v in enumerate(r)
            )
            for r in ROWS
        ]

    def column_types(self, table: str) -> dict[str, str]:
        # The fake derives types from DuckDB's (a DATETIME reads back as TIMESTAMP), so the
        # types are the ones BigQuery's REST schema reports for the declared columns.
        names = {"string": "STRING", "int64": "INTEGER", "bool": "BOOLEAN"}
        return {c: names.get(t, t.upper()) for c, t in self.schema()}


@pytest.fixture(params=["snowflake", "bigquery"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "snowflake":
        from fakesnow.cursor import FakeSnowflakeCursor

        from tests.warehouses.fakesnow_shim import shimmed_transform

        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setattr(FakeSnowflakeCursor, "_transform", shimmed_transform())
        with fakesnow.patch():
            wh: Warehouse = Snowflake(tmp_path)
            yield wh
            wh.backend.close()
    else:
        wh = BigQuery(tmp_path)
        yield wh
        wh.backend.close()


def build_both(
    wh: Warehouse, mapping: ColumnMapping, table: str = "people"
) -> tuple[list[Any], list[Any], str]:
    """(Python-built items, SQL-built items, the payload SQL) for every row of `table`."""
    types = wh.column_types(table)
    columns = {c: (c, types[c]) for c in [*mapping.identifier.values(), *mapping.fields.values()]}
    built = _person_sql(PEOPLE, mapping.identifier, mapping.fields, columns, wh.backend.dialect)
    assert built is not None, f"every column type here has an exact SQL twin on {wh.name}"
    payload, problem = built
    rows = wh.backend.query(
        f"select sync_key, {payload}, {problem} from {wh.relation(table)} order by sync_key"
    )
    by_key = {r[0]: r for r in wh.rows()}
    builder = _Builder(PEOPLE, CustomerIo.SyncOptions())
    python, sql = [], []
    for key, built_payload, reason in rows:
        values = [by_key[key][COLUMNS.index(c)] for c in mapping.columns]
        python.append(builder.item(row_to_change(("add", key, None, "h", *values), mapping)))
        change = payload_row_to_change(("add", key, None, "h", built_payload, reason), mapping)
        sql.append(builder.item(change))
    return python, sql, f"select {payload}, {problem} from t"


PEOPLE_MAPPING = ColumnMapping(
    identifier={"id": "sync_key"}, fields={c: c for c in COLUMNS if c != "sync_key"}
)


def test_operations_built_in_the_warehouse_are_byte_for_byte_the_python_ones(warehouse):
    warehouse.create("people", warehouse.schema(), warehouse.rows())
    python, sql, query = build_both(warehouse, PEOPLE_MAPPING)
    assert len(sql) == len(ROWS)
    assert sql == python  # the bytes on the wire and every reason, row by row
    sent = {o.key: orjson.loads(o.payload) for o in sql if not isinstance(o, Outcome)}
    assert set(sent) == {"u1", "u2", "u4", "ü" * 75}
    u1 = sent["u1"]["attributes"]
    assert u1["note"] == AWKWARD
    assert (u1["last_seen_at"], u1["signup_date"], u1["is_pql"]) == (1788238843, 1709164800, True)
    zoned = 1704060000 if warehouse.name == "snowflake" else 1704067200  # instant / wall clock
    assert u1["zoned_at"] == zoned
    assert sent["u4"]["attributes"]["score"] == 2**53 + 1  # a number, not a quoted string
    assert sent["u4"]["attributes"]["last_seen_at"] == -2208988800
    assert set(sent["u2"]["attributes"].values()) == {""}, "null removes the attribute"
    assert portability_problems(query, warehouse.name) == []


def test_rows_breaking_a_limit_get_the_same_reason_without_a_request(warehouse):
    warehouse.create("people", warehouse.schema(), warehouse.rows())
    python, sql, _ = build_both(warehouse, PEOPLE_MAPPING)
    reasons = {o.key: o.message for o in sql if isinstance(o, Outcome)}
    assert reasons == {o.key: o.message for o in python if isinstance(o, Outcome)}
    assert reasons[""] == "identifier 'id' is empty"
    assert "identifier 'id' is 151 bytes" in reasons["k" * 151]
    assert "'note' value is 1002 bytes" in reasons["u3"]  # 501 x 2-byte é
    assert "'note' value is 1000 bytes" not in str(reasons)  # exactly at the limit is fine
    # 75 x ü is 150 bytes (allowed); its 1000-byte note too; -2**63 stays exact.
    assert "identifier" not in reasons.get("ü" * 75, "")


def test_integer_identifiers_are_sent_as_their_digits(warehouse):
    types = {"snowflake": "number(38, 0)", "bigquery": "int64"}[warehouse.name]
    text = {"snowflake": "varchar", "bigquery": "string"}[warehouse.name]
    schema = [("sync_key", text), ("account_number", types), ("email", text)]
    rows = [("a1", 9007199254740993, "a@example.com"), ("a2", None, "b@example.com")]
    warehouse.create("accounts", schema, rows)
    mapping = ColumnMapping(
        identifier={"id": "sync_key"}, fields={"id": "account_number", "email": "email"}
    )
    types_found = warehouse.column_types("accounts")
    if warehouse.name == "bigquery":
        types_found = {"sync_key": "STRING", "account_number": "INTEGER", "email": "STRING"}
    columns = {c: (c, types_found[c]) for c in ("sync_key", "account_number", "email")}
    payload, problem = _person_sql(
        PEOPLE, mapping.identifier, mapping.fields, columns, warehouse.backend.dialect
    )
    got = warehouse.backend.query(
        f"select sync_key, {payload}, {problem} from {warehouse.relation('accounts')}"
        " order by sync_key"
    )
    builder = _Builder(PEOPLE, CustomerIo.SyncOptions())
    for (key, built, reason), row in zip(got, rows, strict=True):
        python = builder.item(row_to_change(("add", key, None, "h", *row), mapping))
        assert (
            builder.item(payload_row_to_change(("add", key, None, "h", built, reason), mapping))
            == python
        )
    assert orjson.loads(got[0][1])["identifiers"] == {"id": "9007199254740993"}
    assert orjson.loads(got[1][1])["identifiers"] == {"id": "a2"}  # null id: the sync key


@pytest.mark.parametrize(
    ("backend", "kinds"),
    [
        (SnowflakeBackend, ["FLOAT", "REAL", "NUMBER(10,2)", "VARIANT", "ARRAY", "OBJECT", "TIME"]),
        (BigQueryBackend, ["FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC", "JSON", "RECORD",
                           "ARRAY<STRING>", "BYTES", "TIME"]),
    ],
)  # fmt: skip
def test_column_types_without_an_exact_twin_stay_in_python(backend, kinds):
    # A double is spelt by the warehouse's own rules (1.0 as 1, up to 17 digits) where
    # Python writes the shortest repr: different bytes, so such syncs are encoded in Python.
    text = {"snowflake": "TEXT", "bigquery": "STRING"}[backend.dialect.name]
    for kind in kinds:
        columns = {"sync_key": ("sync_key", text), "x": ("x", kind)}
        assert (
            _person_sql(PEOPLE, {"id": "sync_key"}, {"x": "x"}, columns, backend.dialect) is None
        ), kind
    columns = {"sync_key": ("sync_key", "BOOLEAN")}
    assert _person_sql(PEOPLE, {"id": "sync_key"}, {}, columns, backend.dialect) is None


def test_bigquery_repeated_columns_are_reported_as_arrays(tmp_path):
    client = FakeBigQueryClient(str(tmp_path / "bq.duckdb"))
    profile = Profile("t", "bq", "bigquery", {"project": "p", "method": "anonymous"}, tmp_path)
    backend = BigQueryBackend(profile, "plg_sync", client=client)
    from google.cloud import bigquery as bq

    class Rows:
        schema = [bq.SchemaField("tags", "STRING", mode="REPEATED"), bq.SchemaField("n", "INTEGER")]

    backend._job = lambda sql, params, **_: None  # type: ignore[method-assign]
    backend._result = lambda job, **_: Rows()  # type: ignore[method-assign]
    assert backend.column_types("`p`.`plg`.`t`") == {"tags": "ARRAY<STRING>", "n": "INTEGER"}
    backend.close()


def demo_people_mismatches(backend: Any, relation: str, reference: Any) -> tuple[int, list[str]]:
    """(rows compared, differences) between the demo's `sync_customerio_people` operations
    built by `backend`'s SQL over `relation` and the Python path over the same rows of the
    DuckDB reference build (`reference`: a session with it attached as `ref`)."""
    cur = reference.execute("select * from ref.main.sync_customerio_people")
    names = [d[0].lower() for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    mapping = ColumnMapping(
        identifier={"id": "sync_key"}, fields={c: c for c in names if not c.startswith("sync_")}
    )
    types = backend.column_types(relation)
    columns = {c: (c, types[c] or "") for c in mapping.columns}
    built = _person_sql(PEOPLE, mapping.identifier, mapping.fields, columns, backend.dialect)
    assert built is not None, f"demo people columns {types} all have SQL twins"
    payload, problem = built
    sql_rows = {
        key: (op, reason)
        for key, op, reason in backend.query(
            f"select sync_key, {payload}, {problem} from {relation}"
        )
    }
    builder = _Builder(PEOPLE, CustomerIo.SyncOptions())
    differences = []
    for row in rows:
        key = row["sync_key"]
        values = [row[c] for c in mapping.columns]
        python = builder.item(row_to_change(("add", key, None, "h", *values), mapping))
        op, reason = sql_rows.pop(key)
        sql = builder.item(payload_row_to_change(("add", key, None, "h", op, reason), mapping))
        if sql != python:
            differences.append(f"{key}: sql {sql!r} != python {python!r}")
    differences += [f"{key}: only in {relation}" for key in sql_rows]
    return len(rows), differences
