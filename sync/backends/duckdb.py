"""DuckDB backend: the embedded default (one file, no server)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from sync.backends.base import Backend, log_sql, register_backend
from sync.dbt_project import Profile
from sync.errors import ConfigError, LockHeldError, WarehouseError
from sync.state_sql import Dialect, Params

_MEMORY = re.compile(r"^\d+(\.\d+)?\s*[KMGT]i?B$", re.IGNORECASE)
DIFF_MEMORY_LIMIT = "512MB"
DELIVERY_MEMORY_LIMIT = "96MB"
_JSON = "cast(to_json({}) as varchar)"


@register_backend
class DuckDBBackend(Backend):
    type_name = "duckdb"
    dialect = Dialect(
        name="duckdb",
        string="varchar",
        integer="bigint",
        double="double",
        boolean="boolean",
        timestamp="timestamp",
        array_binds=True,
        json_text=_JSON,
        byte_length="strlen({})",
        is_finite="isfinite({})",
        payload_types={
            **dict.fromkeys(("VARCHAR", "TEXT", "STRING", "UUID"), ("text", _JSON)),
            "BOOLEAN": ("boolean", _JSON),
            **dict.fromkeys(
                (
                    "TINYINT",
                    "SMALLINT",
                    "INTEGER",
                    "BIGINT",
                    "HUGEINT",
                    "UTINYINT",
                    "USMALLINT",
                    "UINTEGER",
                    "UBIGINT",
                ),
                ("integer", _JSON),
            ),
            # to_json spells some doubles differently (1e20 vs 1e+20): the same number.
            **dict.fromkeys(("DOUBLE", "FLOAT", "REAL"), ("float", _JSON)),
            **dict.fromkeys(
                (
                    "TIMESTAMP",
                    "TIMESTAMP WITH TIME ZONE",
                    "TIMESTAMP_S",
                    "TIMESTAMP_MS",
                    "TIMESTAMP_NS",
                    "DATE",
                ),
                ("time", "cast(cast(trunc(epoch({})) as bigint) as varchar)"),
            ),
        },
    )
    # 5000, not 500: each checkpoint is a commit (WAL write and fsync); at Customer.io's
    # ~70,000 operations/s a 500-record checkpoint cost more than building the requests.
    # A crash resends at most this many records (idempotent upserts), never loses them.
    checkpoint_every = 5000
    fetch_size = 5000

    def __init__(self, profile: Profile, state_schema: str) -> None:
        super().__init__(profile, state_schema)
        path = str(profile.settings.get("path") or ":memory:")
        if path != ":memory:" and not path.startswith("md:"):
            p = Path(path).expanduser()
            # dbt resolves a relative path from where it runs: the project directory.
            path = str(p if p.is_absolute() else profile.project_dir / p)
        self.path = path
        settings = {k: str(v) for k, v in (profile.settings.get("settings") or {}).items()}
        # DuckDB's default limit (80% of RAM) lets its buffer pool grow with every state
        # row written during delivery, so delivery runs under a small limit; the diff join
        # gets a larger one for the moment it runs (it would spill and be ~2x slower).
        # 512 MB, not 1 GB: at 1M changed rows of the demo people model the diff alone took
        # the process to ~420 MB, past the 400 MB budget of a run (docs/benchmarks.md).
        # 96 MB while sending, not 128: delivery only streams the work table and appends
        # state rows, and at 1M changed rows the buffer pool filled with appended state
        # took the run past 400 MB (405-419 MB at 128 MB, 378 MB at 96 MB; 64 MB saved
        # another 30 MB but cost ~10% more CPU in evictions; issue 19).
        # A `memory_limit` in the profile's `settings` wins for both.
        self._limits = (
            (settings["memory_limit"],) * 2
            if "memory_limit" in settings
            else (DIFF_MEMORY_LIMIT, DELIVERY_MEMORY_LIMIT)
        )
        if not _MEMORY.match(self._limits[0]):
            raise ConfigError(
                f"profile settings.memory_limit {self._limits[0]!r}: use e.g. '512MB'"
            )
        settings["memory_limit"] = self._limits[1]
        try:
            self._con = duckdb.connect(path, config=settings)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise LockHeldError(
                    f"{path}: the DuckDB file is open in another process (dbt or another "
                    "plg-sync run); nothing was sent, try again when it finishes"
                ) from None
            raise WarehouseError(f"{path}: cannot open DuckDB file: {e}") from None

    def _run(self, con: duckdb.DuckDBPyConnection, sql: str, params: Params | None) -> Any:
        log_sql(sql)
        try:
            return con.execute(sql, params.values if params else None)
        except duckdb.Error as e:
            raise WarehouseError(f"DuckDB: {str(e).splitlines()[0]}") from None

    def execute(self, sql: str, params: Params | None = None) -> None:
        self._run(self._con, sql, params)

    def query(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return self._run(self._con, sql, params).fetchall()

    def stream(
        self, sql: str, params: Params | None, chunk_size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        for columns in self.stream_columns(sql, params, chunk_size):
            yield list(zip(*columns, strict=True))

    def stream_columns(
        self, sql: str, params: Params | None, chunk_size: int
    ) -> Iterator[list[list[Any]]]:
        # A separate cursor, so checkpoints can write while this result is being read;
        # Arrow record batches are produced incrementally (the result is not materialised).
        cur = self._con.cursor()
        try:
            log_sql(sql)
            try:
                rel = cur.sql(sql, params=params.values if params else None)
                reader = rel.to_arrow_reader(chunk_size)
            except duckdb.Error as e:
                raise WarehouseError(f"DuckDB: {str(e).splitlines()[0]}") from None
            for batch in reader:
                if batch.num_rows:
                    yield [c.to_pylist() for c in batch.columns]
        finally:
            cur.close()

    def materialize(self, table: str, select_sql: str, params: Params) -> None:
        diff_limit, delivery_limit = self._limits
        self._con.execute(f"set memory_limit = '{diff_limit}'")
        try:
            super().materialize(table, select_sql, params)
        finally:
            self._con.execute(f"set memory_limit = '{delivery_limit}'")

    def column_names(self, relation: str) -> list[str]:
        rel = self._run(self._con, f"select * from {relation} where 1 = 0", None)
        return [d[0].lower() for d in rel.description]

    def column_types(self, relation: str) -> dict[str, str | None]:
        rel = self._run(self._con, f"select * from {relation} where 1 = 0", None)
        return {d[0].lower(): str(d[1]) for d in rel.description}

    def close(self) -> None:
        self._con.close()
