"""Snowflake backend (snowflake-connector-python), from the same profile dbt-snowflake uses.

Auth: password, or key pair (`private_key_path` [+ `private_key_passphrase`]); any
`authenticator` is passed through. `host`/`port`/`protocol` are passed when present so a
local fakesnow server (tests) or a private-link host works. Binding is server-side `qmark`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import snowflake.connector
from snowflake.connector import errors as sf_errors

from sync.backends.base import Backend, log_sql, register_backend
from sync.dbt_project import Profile
from sync.errors import ConfigError, WarehouseError
from sync.secrets import reveal
from sync.state_sql import Dialect, Params

_PASSTHROUGH = (
    "account", "user", "role", "warehouse", "database", "schema", "host", "port", "protocol",
    "authenticator", "login_timeout", "network_timeout", "socket_timeout",
)  # fmt: skip


@register_backend
class SnowflakeBackend(Backend):
    type_name = "snowflake"
    dialect = Dialect(
        name="snowflake",
        string="varchar",
        integer="number(38, 0)",
        double="float",
        boolean="boolean",
        timestamp="timestamp_ntz",
        upper_identifiers=True,  # dbt-snowflake creates unquoted (upper-case) names
    )
    checkpoint_every = 1000
    fetch_size = 10000

    def __init__(self, profile: Profile, state_schema: str) -> None:
        super().__init__(profile, state_schema)
        s = profile.settings
        kwargs: dict[str, Any] = {
            k: reveal(s[k]) for k in _PASSTHROUGH if s.get(k) not in (None, "")
        }
        kwargs.setdefault("login_timeout", int(s.get("connect_timeout") or 60))
        if s.get("password"):
            kwargs["password"] = reveal(s["password"])
        if s.get("private_key_path"):
            kwargs["private_key_file"] = str(s["private_key_path"])
            if s.get("private_key_passphrase"):
                kwargs["private_key_file_pwd"] = reveal(s["private_key_passphrase"])
        elif s.get("private_key"):
            kwargs["private_key"] = reveal(s["private_key"])
        if not {"password", "private_key_file", "private_key", "authenticator"} & kwargs.keys():
            raise ConfigError(
                f"profile target {profile.target_name!r}: Snowflake needs password, "
                "private_key_path, private_key or authenticator"
            )
        try:
            self._con = snowflake.connector.connect(
                paramstyle="qmark", session_parameters={"TIMEZONE": "UTC"}, **kwargs
            )
        except sf_errors.Error as e:
            raise WarehouseError(f"Snowflake: cannot connect: {e.msg or e}") from None

    def state_database(self) -> str | None:
        return self.profile.settings.get("database")

    def _cursor_execute(self, sql: str, params: Params | None) -> Any:
        log_sql(sql)
        cur = self._con.cursor()
        try:
            cur.execute(sql, params.values if params and params.values else None)
        except sf_errors.Error as e:
            cur.close()
            raise WarehouseError(f"Snowflake: {e.msg or e}") from None
        return cur

    def execute(self, sql: str, params: Params | None = None) -> None:
        self._cursor_execute(sql, params).close()

    def query(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        cur = self._cursor_execute(sql, params)
        try:
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def stream(
        self, sql: str, params: Params | None, chunk_size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        # The connector downloads result chunks lazily; fetchmany keeps one chunk in memory.
        cur = self._cursor_execute(sql, params)
        try:
            while rows := cur.fetchmany(chunk_size):
                yield [tuple(r) for r in rows]
        finally:
            cur.close()

    def column_names(self, relation: str) -> list[str]:
        cur = self._cursor_execute(f"select * from {relation} where 1 = 0", None)
        try:
            return [d.name.lower() for d in cur.description]
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()
