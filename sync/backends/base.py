"""The driver-level contract every warehouse backend implements.

A backend only runs SQL: execute, query, stream in chunks, run statements in one
transaction, and materialise a select into a table. What SQL to run lives in
`sync.state_sql` (text) and `sync.state` (semantics), so a new warehouse is one small module.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from sync.dbt_project import ModelRelation, Profile
from sync.state_sql import Dialect, Params, StateSQL

_log = logging.getLogger(__name__)


def log_sql(sql: str) -> None:
    """With -v, every statement is logged (text only: values are bind parameters)."""
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("sql: " + " ".join(sql.split())[:500])


class Backend(ABC):
    """One open connection to the warehouse of a dbt profile target."""

    type_name: ClassVar[str]  # the dbt adapter type it serves (`type:` in profiles.yml)
    dialect: ClassVar[Dialect]
    # Records between state checkpoints: small where DML is cheap, larger where it is slow.
    checkpoint_every: ClassVar[int] = 500
    # Rows per chunk pulled from the warehouse; Python holds about one chunk at a time.
    fetch_size: ClassVar[int] = 2000

    def __init__(self, profile: Profile, state_schema: str) -> None:
        self.profile = profile
        self.sql = StateSQL(self.dialect, self.state_database(), state_schema)

    def state_database(self) -> str | None:
        """Database/project holding the state schema: the profile's own."""
        return None

    def model_relation(self, rel: ModelRelation) -> str:
        return self.dialect.relation(rel.database, rel.schema, rel.alias)

    def params(self) -> Params:
        return Params(self.dialect.param_style, arrays=self.dialect.array_binds)

    @abstractmethod
    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run one statement (or script) and wait for it."""

    @abstractmethod
    def query(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run a small query and return all rows."""

    @abstractmethod
    def stream(
        self, sql: str, params: Params | None, chunk_size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Yield the result in chunks of about `chunk_size` rows without holding it all."""

    def stream_columns(
        self, sql: str, params: Params | None, chunk_size: int
    ) -> Iterator[list[list[Any]]]:
        """Like `stream`, each chunk as one list per column (no tuple per row). Backends
        that read columnar results (DuckDB's Arrow batches) override this."""
        for rows in self.stream(sql, params, chunk_size):
            if rows:
                yield [list(column) for column in zip(*rows, strict=True)]

    @abstractmethod
    def column_names(self, relation: str) -> list[str]:
        """Column names of a table or view (lower-case), without reading rows."""

    def column_types(self, relation: str) -> dict[str, str | None]:
        """Column name (lower-case) -> the warehouse's type name, None where unknown.

        The state-table contract check compares these with `STATE_TABLES`; a backend that
        cannot tell types cheaply keeps this default and only column presence is checked.
        """
        return dict.fromkeys(self.column_names(relation))

    def transaction(self, statements: Sequence[tuple[str, Params]]) -> None:
        """Run statements atomically (a checkpoint: state, errors and lease together)."""
        self.execute("begin")
        try:
            for sql, params in statements:
                self.execute(sql, params)
            self.execute("commit")
        except BaseException:
            self.execute("rollback")
            raise

    def materialize(self, table: str, select_sql: str, params: Params) -> None:
        """Replace `table` with the result of `select_sql` (the diff work table)."""
        self.execute(f"create or replace table {table} as {select_sql}", params)

    def close(self) -> None:
        """Close the connection."""


_REGISTRY: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Class decorator: serve dbt profile targets whose `type:` is `cls.type_name`."""
    _REGISTRY[cls.type_name] = cls
    return cls


def registered_backends() -> dict[str, type[Backend]]:
    """Backend classes registered so far, by dbt adapter type."""
    return dict(_REGISTRY)
