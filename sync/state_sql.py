"""All SQL the engine runs, written once and parameterised by a `Dialect` (data, not branches).

Identifiers from config pass a strict regex and are quoted; every value is a bind parameter
collected by `Params` (qmark `?` for DuckDB/Snowflake, named `@pN` for BigQuery). Nothing
here talks to a database, so the BigQuery flavour is parsed and executed in tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sync.errors import ConfigError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")
# Database names are file stems (DuckDB) or project ids (BigQuery, hyphens allowed).
_DATABASE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,254}$")


@dataclass(frozen=True)
class Dialect:
    """What differs between warehouses, as values."""

    name: str
    string: str
    integer: str
    double: str
    boolean: str
    timestamp: str
    quote: str = '"'
    upper_identifiers: bool = False  # Snowflake: unquoted names resolve upper-case
    param_style: Literal["qmark", "named"] = "qmark"
    array_binds: bool = False  # list parameters + unnest for batches (see Params)
    # Warehouse-built payloads (`Destination.payload_sql`): SQL templates, `{}` standing for
    # an expression. None means this warehouse builds none and destinations encode in Python.
    json_text: str | None = None  # a text as a JSON string (quoted, escaped as orjson does)
    byte_length: str | None = None  # bytes of a text in UTF-8
    is_finite: str | None = None  # false for NaN and +-Infinity
    # Column type (upper-case, as `Backend.column_types` names it) -> (kind, template writing
    # a non-null value as the JSON text the Python path would send). Kinds: text, integer,
    # boolean, float, time (Unix seconds, toward zero). A type absent here has no exact SQL
    # twin on this warehouse, so a sync with such a column is encoded in Python.
    payload_types: Mapping[str, tuple[str, str]] = field(
        default_factory=dict, hash=False, compare=False
    )
    # Backslash escapes inside '...' literals (Snowflake, BigQuery); BigQuery has no '' either.
    string_escapes: bool = False

    def literal(self, text: str) -> str:
        """A SQL string literal holding exactly `text`."""
        if self.string_escapes:
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + text.replace("'", "''") + "'"

    def payload_type(self, type_name: str) -> tuple[str, str] | None:
        """(kind, template) for a column type, or None if rows with it are encoded in Python.

        `NUMBER(p, 0)` of any precision is Snowflake's integer (`NUMBER(*,0)` in the map).
        """
        name = " ".join(type_name.strip().upper().split())
        found = self.payload_types.get(name)
        if found is None:
            name = re.sub(r"^(NUMBER|DECIMAL|NUMERIC)\(\s*\d+\s*,\s*0\s*\)$", r"\1(*,0)", name)
            found = self.payload_types.get(name)
        return found

    def ident(self, name: str, *, database: bool = False) -> str:
        """Validate and quote one identifier part."""
        if not (_DATABASE if database else _IDENT).match(name or ""):
            raise ConfigError(
                f"{name!r} is not an allowed identifier (letters, digits, _; max 255)"
            )
        if self.upper_identifiers:
            name = name.upper()
        return f"{self.quote}{name}{self.quote}"

    def relation(self, database: str | None, schema: str, table: str) -> str:
        parts = [self.ident(database, database=True)] if database else []
        return ".".join([*parts, self.ident(schema), self.ident(table)])


# orjson's (and `json.dumps(ensure_ascii=False)`'s) escapes: `"` and `\\`, five short forms,
# every other character below U+0020 as a lower-case \u00xx; all else is sent as UTF-8.
_SHORT_ESCAPES = {8: "b", 9: "t", 10: "n", 12: "f", 13: "r"}


def json_string_template(char: str) -> str:
    """A SQL template (`{}` = a text expression) writing the text as a JSON string, byte for
    byte as the Python path encodes it, from `replace` and `char` (`chr({})`-like) alone.

    Why not the warehouse's own JSON function: neither Snowflake's TO_JSON nor BigQuery's
    TO_JSON_STRING documents which escape it writes for a control character (`\\n` or
    `\\u000a`, upper- or lower-case hex) or whether it escapes more (`/`, `<`, U+2028), and
    one differing byte would break the guarantee that SQL-built and Python-built operations
    are identical. `replace` on text is exact everywhere. Backslashes are replaced first, so
    the backslashes the later steps add are never doubled.
    """
    backslash = char.format(92)
    expr = "{}"
    steps = [(backslash, f"{backslash} || {backslash}"), ("'\"'", f"{backslash} || '\"'")]
    for code in range(32):
        escaped = _SHORT_ESCAPES.get(code, f"u{code:04x}")
        steps.append((char.format(code), f"{backslash} || '{escaped}'"))
    for old, new in steps:
        expr = f"replace({expr}, {old}, {new})"
    return f"'\"' || {expr} || '\"'"


@dataclass
class StructRows:
    """A batch of rows bound as one parameter (BigQuery: ARRAY<STRUCT<...>>)."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    types: Sequence[str] | None = None  # logical types (STATE_TABLES); None = inferred


@dataclass(frozen=True)
class Typed:
    """A value with its logical column type, for warehouses that type NULL parameters."""

    value: Any
    type: str


@dataclass
class Params:
    """Collects bind values while SQL text is built.

    `arrays` (DuckDB) binds a whole column of a batch as one list parameter and unnests it,
    so a 5,000-row checkpoint is 5 parameters instead of 25,000 (and parses in microseconds).
    """

    style: Literal["qmark", "named"]
    values: list[Any] = field(default_factory=list)
    arrays: bool = False

    def __call__(self, value: Any, type_: str | None = None) -> str:
        """Bind one value; `type_` (a STATE_TABLES type) matters only for named style."""
        if self.style == "qmark":
            self.values.append(value)
            return "?"
        self.values.append(Typed(value, type_) if type_ else value)
        return f"@p{len(self.values) - 1}"

    def in_list(self, values: Sequence[Any]) -> str:
        """`x in <this>`: `(?, ?)`, `(select unnest(?))` or `unnest(@p)`."""
        if self.style == "named":
            return f"unnest({self(list(values))})"
        if self.arrays:
            return f"(select unnest({self(list(values))}))"
        return "(" + ", ".join(self(v) for v in values) + ")"

    def rows(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        types: Sequence[str] | None = None,
    ) -> str:
        """A row source for `insert into t (cols) <this>`."""
        if self.style == "named":
            return f"select * from unnest({self(StructRows(columns, rows, types))})"
        if self.arrays:
            by_column = [list(c) for c in zip(*rows, strict=True)]
            return "select " + ", ".join(f"unnest({self(c)})" for c in by_column)
        return "values " + ", ".join("(" + ", ".join(self(v) for v in row) + ")" for row in rows)


# --- state tables (docs/state-tables.md is the contract) --------------------------------

STATE_TABLES: dict[str, list[tuple[str, str]]] = {
    "sync_state": [
        ("sync_name", "string"),
        ("sync_key", "string"),
        ("sync_hash", "string"),
        ("synced_at", "timestamp"),
        ("run_id", "string"),
    ],
    "sync_runs": [
        ("run_id", "string"),
        ("sync_name", "string"),
        ("started_at", "timestamp"),
        ("finished_at", "timestamp"),
        ("status", "string"),
        ("dry_run", "boolean"),
        ("planned", "integer"),
        ("added", "integer"),
        ("changed", "integer"),
        ("removed", "integer"),
        ("succeeded", "integer"),
        ("failed", "integer"),
        ("skipped", "integer"),
        ("requests", "integer"),
        ("retries", "integer"),
        ("throttled", "integer"),
        ("duration_s", "double"),
        ("error", "string"),
        ("model_rows", "integer"),
        ("state_rows", "integer"),
        ("model_columns", "string"),
        ("state_rows_after", "integer"),
    ],
    "sync_errors": [
        ("run_id", "string"),
        ("sync_name", "string"),
        ("sync_key", "string"),
        ("operation", "string"),
        ("error_code", "string"),
        ("message", "string"),
        ("attempt", "integer"),
        ("occurred_at", "timestamp"),
    ],
    "sync_plans": [
        ("run_id", "string"),
        ("sync_name", "string"),
        ("sync_key", "string"),
        ("operation", "string"),
        ("hash_before", "string"),
        ("hash_after", "string"),
        ("planned_at", "timestamp"),
    ],
    "sync_leases": [
        ("sync_name", "string"),
        ("holder", "string"),
        ("acquired_at", "timestamp"),
        ("expires_at", "timestamp"),
        ("holder_host", "string"),
        ("holder_pid", "integer"),
    ],
}


# Warehouse type names (DuckDB, Snowflake, BigQuery spellings) -> logical STATE_TABLES type.
# A timestamp *with* a zone is deliberately absent: the state schema stores naive UTC and
# compares it with naive parameters, which a zoned column would shift by the session zone.
_FAMILIES: dict[str, str] = {
    **dict.fromkeys(
        ("VARCHAR", "TEXT", "STRING", "CHAR", "CHARACTER", "CHARACTER VARYING", "BPCHAR"),
        "string",
    ),
    **dict.fromkeys(
        (
            "BIGINT",
            "INTEGER",
            "INT",
            "INT64",
            "INT8",
            "INT4",
            "INT2",
            "SMALLINT",
            "TINYINT",
            "HUGEINT",
            "UBIGINT",
            "UINTEGER",
            "BYTEINT",
        ),
        "integer",
    ),
    **dict.fromkeys(
        ("DOUBLE", "DOUBLE PRECISION", "FLOAT", "FLOAT64", "FLOAT8", "FLOAT4", "REAL"), "double"
    ),
    **dict.fromkeys(("BOOLEAN", "BOOL", "LOGICAL"), "boolean"),
    **dict.fromkeys(
        (
            "TIMESTAMP",
            "TIMESTAMP_NTZ",
            "DATETIME",
            "TIMESTAMP WITHOUT TIME ZONE",
            "TIMESTAMP_NS",
            "TIMESTAMP_MS",
            "TIMESTAMP_S",
            "TIMESTAMP_US",
        ),
        "timestamp",
    ),
}
_DECIMAL = re.compile(r"^(NUMBER|DECIMAL|NUMERIC|BIGNUMERIC)\s*(\(\s*\d+\s*(,\s*(\d+)\s*)?\))?$")


def type_family(type_name: str | None) -> str | None:
    """The logical type (`string`, `integer`, ...) of a warehouse type name; None if unknown.

    Decimals count as integers when their scale is 0 (Snowflake's `number(38, 0)`), else as
    doubles. Anything else (a zoned timestamp, a date, JSON) maps to its own upper-case name,
    which never equals a logical type, so the contract check reports it as retyped.
    """
    if type_name is None:
        return None
    name = " ".join(type_name.strip().upper().split())
    if name in _FAMILIES:
        return _FAMILIES[name]
    base = re.sub(r"\(.*\)$", "", name).strip()
    if base in ("VARCHAR", "CHAR", "CHARACTER VARYING", "STRING", "TEXT"):
        return "string"
    m = _DECIMAL.match(name)
    if m:
        if m.group(4) is not None:
            scale = int(m.group(4))
        else:  # NUMBER(10) and Snowflake's bare NUMBER have scale 0; DuckDB's DECIMAL is 18,3
            scale = 0 if m.group(2) or m.group(1) == "NUMBER" else 1
        return "integer" if scale == 0 else "double"
    return name


@dataclass(frozen=True)
class ColumnProblem:
    """One way a state table differs from the contract in docs/state-tables.md."""

    table: str
    column: str
    expected: str  # logical type
    found: str | None  # the warehouse type, None when the column is missing

    def describe(self) -> str:
        if self.found is None:
            return f"column {self.column} ({self.expected}) is missing"
        return f"column {self.column} is {self.found}, the contract says {self.expected}"


def contract_problems(table: str, actual: dict[str, str | None]) -> list[ColumnProblem]:
    """Missing or retyped columns of one state table; extra columns are the user's business."""
    have = {c.lower(): t for c, t in actual.items()}
    out = []
    for column, logical in STATE_TABLES[table]:
        if column not in have:
            out.append(ColumnProblem(table, column, logical, None))
            continue
        family = type_family(have[column])
        if family is not None and family != logical:
            out.append(ColumnProblem(table, column, logical, str(have[column])))
    return out


class StateSQL:
    """SQL text for one state schema in one dialect."""

    def __init__(self, dialect: Dialect, database: str | None, schema: str) -> None:
        self.d = dialect
        self.database = database
        self.schema = schema

    def params(self) -> Params:
        return Params(self.d.param_style, arrays=self.d.array_binds)

    def table(self, name: str) -> str:
        return self.d.relation(self.database, self.schema, name)

    def col(self, name: str) -> str:
        return self.d.ident(name)

    def create_schema(self) -> str:
        parts = [self.d.ident(self.database, database=True)] if self.database else []
        return "create schema if not exists " + ".".join([*parts, self.d.ident(self.schema)])

    def create_tables(self) -> list[str]:
        out = []
        for table, cols in STATE_TABLES.items():
            body = ", ".join(f"{self.col(c)} {getattr(self.d, t)}" for c, t in cols)
            out.append(f"create table if not exists {self.table(table)} ({body})")
        return out

    def add_columns(
        self, table: str, existing: Sequence[str], only: Sequence[str] | None = None
    ) -> list[str]:
        """`alter table` statements adding columns a state table lacks (all, or those in
        `only`: what a table created by an older version may lack; columns are only ever
        added at the end, see docs/state-tables.md)."""
        have = {c.lower() for c in existing}
        return [
            f"alter table {self.table(table)} add column {self.col(c)} {getattr(self.d, t)}"
            for c, t in STATE_TABLES[table]
            if c not in have and (only is None or c in only)
        ]

    def create_table(self, table: str, name: str | None = None) -> str:
        """`create table` for one state table as the contract says (under `name` if given)."""
        body = ", ".join(f"{self.col(c)} {getattr(self.d, t)}" for c, t in STATE_TABLES[table])
        return f"create table {self.table(name or table)} ({body})"

    def copy_table(self, source: str, target: str) -> str:
        return f"create table {self.table(target)} as select * from {self.table(source)}"

    def refill_from(
        self, table: str, backup: str, present: Sequence[str], into: str | None = None
    ) -> str:
        """Copy a backup into a rebuilt state table (`into`, default `table` itself): columns
        it has are cast to the contract type of `table`, columns it lacks become null."""
        cols = STATE_TABLES[table]
        have = {c.lower() for c in present}
        exprs = [
            f"cast({self.col(c)} as {getattr(self.d, t)})" if c in have else
            f"cast(null as {getattr(self.d, t)})"
            for c, t in cols
        ]  # fmt: skip
        collist = ", ".join(self.col(c) for c, _ in cols)
        return (
            f"insert into {self.table(into or table)} ({collist})"
            f" select {', '.join(exprs)} from {self.table(backup)}"
        )

    def count_rows(self, table: str) -> str:
        return f"select count(*) from {self.table(table)}"

    # --- diff ---------------------------------------------------------------------------

    def diff_select(
        self, p: Params, sync_name: str, model: str, columns: Sequence[str], full_resync: bool
    ) -> str:
        """Added/changed/removed rows of one sync, with the model columns it sends.

        One full outer join of the model (key, hash and the sync's columns, aliased c0..cN)
        with the sync's state rows; only differing rows survive the filter, so the model is
        read once and only those rows are written to the work table. `full_resync` keeps
        unchanged rows too (as 'change').
        """
        s, k, h = self.col("sync_name"), self.col("sync_key"), self.col("sync_hash")
        where = (
            ""
            if full_resync
            else (
                "\nwhere m.sync_key is null or s.sync_key is null"
                " or m.sync_hash is distinct from s.sync_hash"
            )
        )
        inner = "".join(f", {self.col(c)} as c{i}" for i, c in enumerate(columns))
        outer = "".join(f", m.c{i}" for i in range(len(columns)))
        return (
            "select coalesce(m.sync_key, s.sync_key) as sync_key,\n"
            "  case when s.sync_key is null then 'add'"
            " when m.sync_key is null then 'remove' else 'change' end as operation,\n"
            f"  s.sync_hash as hash_before, m.sync_hash as hash_after{outer}\n"
            f"from (select cast({k} as {self.d.string}) as sync_key,"
            f" cast({h} as {self.d.string}) as sync_hash{inner} from {model}) as m\n"
            f"full outer join (select {k} as sync_key, {h} as sync_hash"
            f" from {self.table('sync_state')} where {s} = {p(sync_name)}) as s\n"
            "  on m.sync_key = s.sync_key" + where
        )

    def diff_counts(self, work: str) -> str:
        return f"select operation, count(*) from {work} group by operation"

    def model_rows(self, model: str) -> str:
        return f"select count(*) from {model}"

    def state_rows(self, p: Params, sync_name: str) -> str:
        return (
            f"select count(*) from {self.table('sync_state')}"
            f" where {self.col('sync_name')} = {p(sync_name)}"
        )

    def changes_select(
        self, work: str, n_columns: int, include_removes: bool, removes_only: bool = False
    ) -> str:
        """The work table's rows as the engine streams them (no second read of the model)."""
        cols = "".join(f", c{i}" for i in range(n_columns))
        where = "" if include_removes else " where operation <> 'remove'"
        if removes_only:
            where = " where operation = 'remove'"
        return f"select operation, sync_key, hash_before, hash_after{cols} from {work}{where}"

    def frames_select(self, work: str, payload: str, problem: str) -> str:
        """The work table's added and changed rows with each row's operation built in SQL
        (`payload`, JSON text) and the first limit it breaks (`problem`, text or null), in
        the column order of `records.Frame`."""
        return (
            f"select operation, sync_key, hash_after, {payload}, {problem}"
            f" from {work} where operation <> 'remove'"
        )

    def sample_select(self, work: str, n_columns: int, n: int) -> str:
        return self.changes_select(work, n_columns, True) + f" limit {int(n)}"

    def drop_removed_state(self, p: Params, sync_name: str, work: str) -> str:
        """on_remove: ignore -> forget removed keys without calling the destination."""
        return (
            f"delete from {self.table('sync_state')} where {self.col('sync_name')} ="
            f" {p(sync_name)} and {self.col('sync_key')} in"
            f" (select sync_key from {work} where operation = 'remove')"
        )

    def drop_table(self, table: str) -> str:
        return f"drop table if exists {table}"

    # --- checkpoints ----------------------------------------------------------------------

    def delete_state(self, p: Params, sync_name: str, keys: Sequence[str]) -> str:
        return (
            f"delete from {self.table('sync_state')} where {self.col('sync_name')} ="
            f" {p(sync_name)} and {self.col('sync_key')} in {p.in_list(keys)}"
        )

    def insert(self, p: Params, table: str, rows: Sequence[Sequence[Any]]) -> str:
        cols = [c for c, _ in STATE_TABLES[table]]
        types = [t for _, t in STATE_TABLES[table]]
        collist = ", ".join(self.col(c) for c in cols)
        return f"insert into {self.table(table)} ({collist}) {p.rows(cols, rows, types)}"

    def insert_state(
        self,
        p: Params,
        sync_name: str,
        keys: Sequence[str],
        hashes: Sequence[str | None],
        synced_at: Any,
        run_id: str,
    ) -> str:
        """State rows for acknowledged records, passed column by column.

        With array binds (DuckDB) the constant columns are bound once and the two lists
        unnested: no per-record row is built in Python (a checkpoint of 5,000 records is
        two list parameters)."""
        if not p.arrays:
            rows = [[sync_name, k, h, synced_at, run_id] for k, h in zip(keys, hashes, strict=True)]
            return self.insert(p, "sync_state", rows)
        cols = ", ".join(self.col(c) for c, _ in STATE_TABLES["sync_state"])
        return (
            f"insert into {self.table('sync_state')} ({cols}) select {p(sync_name)},"
            f" unnest({p(list(keys))}), unnest({p(list(hashes))}), {p(synced_at)}, {p(run_id)}"
        )

    def previous_errors(self, p: Params, sync_name: str, keys: Sequence[str]) -> str:
        k = self.col("sync_key")
        return (
            f"select {k}, count(*) from {self.table('sync_errors')} where"
            f" {self.col('sync_name')} = {p(sync_name)} and {k} in {p.in_list(keys)}"
            f" group by {k}"
        )

    def insert_plans(
        self, p: Params, run_id: str, sync_name: str, work: str, planned_at: Any
    ) -> str:
        cols = ", ".join(self.col(c) for c, _ in STATE_TABLES["sync_plans"])
        return (
            f"insert into {self.table('sync_plans')} ({cols})"
            f" select {p(run_id)}, {p(sync_name)}, sync_key, operation, hash_before,"
            f" hash_after, {p(planned_at)} from {work}"
        )

    # --- runs -----------------------------------------------------------------------------

    def finish_run(self, p: Params, run_id: str, values: dict[str, Any]) -> str:
        types = dict(STATE_TABLES["sync_runs"])
        sets = ", ".join(f"{self.col(k)} = {p(v, types[k])}" for k, v in values.items())
        return (
            f"update {self.table('sync_runs')} set {sets} where {self.col('run_id')} = {p(run_id)}"
        )

    def abandon_runs(self, p: Params, sync_name: str, now: Any) -> str:
        """Runs still 'running' when we hold the lease died without finishing."""
        return (
            f"update {self.table('sync_runs')} set {self.col('status')} = 'abandoned',"
            f" {self.col('finished_at')} = {p(now)}"
            f" where {self.col('sync_name')} = {p(sync_name)}"
            f" and {self.col('status')} = 'running'"
        )

    def last_success_model_rows(self, p: Params, sync_name: str) -> str:
        return self._last_success_value(p, sync_name, "model_rows")

    def state_rows_baseline(self, p: Params, sync_name: str) -> str:
        """`state_rows_after` of the sync's latest real run that recorded it, provided the
        sync has a successful run at all (else no row)."""
        c, runs = self.col, self.table("sync_runs")
        return (
            f"select {c('state_rows_after')} from {runs}"
            f" where {c('sync_name')} = {p(sync_name)} and {c('dry_run')} = false"
            f" and {c('state_rows_after')} is not null"
            f" and exists (select 1 from {runs} where {c('sync_name')} = {p(sync_name)}"
            f" and {c('status')} in ('succeeded', 'partial') and {c('dry_run')} = false)"
            f" order by {c('started_at')} desc limit 1"
        )

    def last_success_model_columns(self, p: Params, sync_name: str) -> str:
        return self._last_success_value(p, sync_name, "model_columns", skip_nulls=True)

    def _last_success_value(
        self, p: Params, sync_name: str, column: str, skip_nulls: bool = False
    ) -> str:
        """One column of the sync's latest real (not dry) succeeded or partial run."""
        c = self.col
        return (
            f"select {c(column)} from {self.table('sync_runs')}"
            f" where {c('sync_name')} = {p(sync_name)}"
            f" and {c('status')} in ('succeeded', 'partial') and {c('dry_run')} = false"
            + (f" and {c(column)} is not null" if skip_nulls else "")
            + f" order by {c('started_at')} desc limit 1"
        )

    def recent_runs(self, p: Params, per_sync: int) -> str:
        c = self.col
        cols = [
            "sync_name", "run_id", "started_at", "finished_at", "status", "dry_run",
            "planned", "succeeded", "failed", "skipped", "duration_s", "error",
        ]  # fmt: skip
        sel = ", ".join(c(x) for x in cols)
        return (
            f"select {sel} from (select {sel}, row_number() over (partition by"
            f" {c('sync_name')} order by {c('started_at')} desc) as rn"
            f" from {self.table('sync_runs')}) as r where rn <= {p(per_sync)}"
            f" order by {c('sync_name')}, {c('started_at')} desc"
        )

    # --- leases ---------------------------------------------------------------------------

    def delete_expired_lease(self, p: Params, sync_name: str, now: Any) -> str:
        return (
            f"delete from {self.table('sync_leases')} where {self.col('sync_name')} ="
            f" {p(sync_name)} and {self.col('expires_at')} < {p(now)}"
        )

    def insert_lease_if_free(
        self,
        p: Params,
        sync_name: str,
        holder: str,
        now: Any,
        expires: Any,
        host: str | None = None,
        pid: int | None = None,
    ) -> str:
        c, t = self.col, self.table("sync_leases")
        return (
            f"insert into {t} ({c('sync_name')}, {c('holder')}, {c('acquired_at')},"
            f" {c('expires_at')}, {c('holder_host')}, {c('holder_pid')})"
            f" select {p(sync_name)}, {p(holder)}, {p(now)}, {p(expires)},"
            f" {p(host, 'string')}, {p(pid, 'integer')}"
            f" from (select 1 as one) as x where not exists"
            f" (select 1 from {t} where {c('sync_name')} = {p(sync_name)})"
        )

    def live_leases(self, p: Params, now: Any) -> str:
        c = self.col
        return (
            f"select {c('sync_name')} from {self.table('sync_leases')}"
            f" where {c('expires_at')} >= {p(now)}"
        )

    def lease_holders(self, p: Params, sync_name: str) -> str:
        c = self.col
        return (
            f"select {c('holder')}, {c('expires_at')}, {c('holder_host')}, {c('holder_pid')}"
            f" from {self.table('sync_leases')}"
            f" where {c('sync_name')} = {p(sync_name)} order by {c('acquired_at')}, {c('holder')}"
        )

    def renew_lease(self, p: Params, sync_name: str, holder: str, expires: Any) -> str:
        c = self.col
        return (
            f"update {self.table('sync_leases')} set {c('expires_at')} = {p(expires)}"
            f" where {c('sync_name')} = {p(sync_name)} and {c('holder')} = {p(holder)}"
        )

    def release_lease(self, p: Params, sync_name: str, holder: str) -> str:
        c = self.col
        return (
            f"delete from {self.table('sync_leases')} where {c('sync_name')} ="
            f" {p(sync_name)} and {c('holder')} = {p(holder)}"
        )
