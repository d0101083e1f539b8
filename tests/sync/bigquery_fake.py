"""A stand-in for `google.cloud.bigquery.Client` that runs BigQuery SQL on DuckDB.

Faked at the client-method level (`query()` -> job -> `result()` -> pages/rows), not at the
HTTP layer: the backend still builds real `QueryJobConfig` / query-parameter objects, and
the fake reads them through their REST representation (`to_api_repr()`), so what would go
over the wire is what gets checked. Every statement must parse as BigQuery with sqlglot;
it is then transpiled to DuckDB and executed, with parameters bound (never inlined).

Known transpile gaps are bridged here, not in product code: BigQuery's
`select * from unnest(@array_of_structs)` expands struct fields into columns; DuckDB needs
`unnest(x, recursive := true)` for that. `BYTE_LENGTH(string)` becomes DuckDB's
`OCTET_LENGTH`, which takes only BLOBs: DuckDB's `strlen` (UTF-8 bytes of a VARCHAR) runs
instead. `CODE_POINTS_TO_STRING([n])` has no DuckDB twin: `chr(n)` runs instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import duckdb
import sqlglot
from google.cloud import bigquery as bq
from sqlglot import exp


def _decode_scalar(type_: str, value: Any) -> Any:
    if value is None:
        return None
    if type_ == "INT64":
        return int(value)
    if type_ == "FLOAT64":
        return float(value)
    if type_ == "BOOL":
        return value in (True, "true", "TRUE")
    if type_ == "TIMESTAMP":
        return dt.datetime.fromisoformat(value)
    return value


def _decode(ptype: dict[str, Any], pvalue: dict[str, Any]) -> Any:
    t = ptype["type"]
    if t == "ARRAY":
        return [_decode(ptype["arrayType"], v) for v in pvalue.get("arrayValues", [])]
    if t == "STRUCT":
        return {
            f["name"]: _decode(f["type"], pvalue["structValues"].get(f["name"], {}))
            for f in ptype["structTypes"]
        }
    return _decode_scalar(t, pvalue.get("value"))


# DuckDB result types -> the legacy type names BigQuery's REST schema reports
# (https://cloud.google.com/bigquery/docs/reference/rest/v2/tables#TableFieldSchema).
_BQ_TYPES = {
    "BIGINT": "INTEGER",
    "INTEGER": "INTEGER",
    "DOUBLE": "FLOAT",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "DATE": "DATE",
    "VARCHAR": "STRING",
}


def _bridge(node: exp.Expression) -> exp.Expression:
    """BigQuery functions sqlglot transpiles to DuckDB SQL that DuckDB rejects (see above)."""
    if isinstance(node, exp.ByteLength) and not isinstance(node.this, exp.Cast):
        return exp.Anonymous(this="strlen", expressions=[node.this])
    if isinstance(node, exp.CodePointsToString) and isinstance(node.this, exp.Array):
        (point,) = node.this.expressions
        return exp.Anonymous(this="chr", expressions=[point])
    return node


def _bq_type(duck_type: Any) -> str:
    name = str(duck_type).upper()
    if name.startswith("DECIMAL"):
        return "NUMERIC"
    return _BQ_TYPES.get(name, "STRING")


class FakeRows:
    def __init__(
        self,
        columns: list[str],
        rows: list[tuple[Any, ...]],
        page_size: int | None,
        types: list[str] | None = None,
    ):
        types = types or ["STRING"] * len(columns)
        self.schema = [bq.SchemaField(c, t) for c, t in zip(columns, types, strict=True)]
        index = {c: i for i, c in enumerate(columns)}
        self._rows = [bq.Row(r, index) for r in rows]
        self._page_size = page_size or max(len(rows), 1)
        self.pages_served = 0

    def __iter__(self) -> Iterator[bq.Row]:
        return iter(self._rows)

    @property
    def pages(self) -> Iterator[list[bq.Row]]:
        for i in range(0, len(self._rows), self._page_size):
            self.pages_served += 1
            yield self._rows[i : i + self._page_size]


class FakeJob:
    def __init__(
        self, columns: list[str], rows: list[tuple[Any, ...]], types: list[str] | None = None
    ) -> None:
        self._columns, self._rows, self._types = columns, rows, types

    def result(self, page_size: int | None = None, **_: Any) -> FakeRows:
        return FakeRows(self._columns, self._rows, page_size, self._types)


class FakeBigQueryClient:
    """Executes each query on a DuckDB database whose catalog name is the GCP project."""

    def __init__(self, duckdb_path: str) -> None:
        self.con = duckdb.connect(duckdb_path)
        self.statements: list[str] = []  # the BigQuery SQL received, for assertions

    def query(self, sql: str, job_config: bq.QueryJobConfig) -> FakeJob:
        api = job_config.to_api_repr()
        params = {
            p["name"]: _decode(p["parameterType"], p.get("parameterValue", {}))
            for p in api["query"].get("queryParameters", [])
        }
        self.statements.append(sql)
        parsed = sqlglot.parse(sql, read="bigquery")  # raises on anything not BigQuery
        columns: list[str] = []
        types: list[str] = []
        rows: list[tuple[Any, ...]] = []
        for stmt in parsed:
            duck = stmt.transform(_bridge).sql("duckdb")
            for name, value in params.items():
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    duck = re.sub(
                        rf"SELECT \* FROM UNNEST\(\${name}\)",
                        f"SELECT UNNEST(${name}, recursive := true)",
                        duck,
                    )
            dest = api["query"].get("destinationTable")
            if dest:
                ref = ".".join(f'"{dest[k]}"' for k in ("projectId", "datasetId", "tableId"))
                duck = f"create or replace table {ref} as {duck}"
            used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", duck)}
            cur = self.con.execute(duck, used or None)
            if cur.description:
                columns = [d[0] for d in cur.description]
                types = [_bq_type(d[1]) for d in cur.description]
                rows = cur.fetchall()
        return FakeJob(columns, rows, types)

    def close(self) -> None:
        self.con.close()
