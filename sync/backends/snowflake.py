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
from sync.state_sql import Dialect, Params, json_string_template

_PASSTHROUGH = (
    "account", "user", "role", "warehouse", "database", "schema", "host", "port", "protocol",
    "authenticator", "login_timeout", "network_timeout", "socket_timeout",
)  # fmt: skip


# CHR(0) is documented as valid (the NUL character), so every control character is escaped.
_JSON = json_string_template("chr({})")


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
        string_escapes=True,
        json_text=_JSON,
        # OCTET_LENGTH: bytes of a string (LENGTH counts characters). Not
        # LENGTH(TO_BINARY(x, 'UTF-8')): a text longer than BINARY's maximum would fail the
        # whole query instead of flagging its row.
        byte_length="octet_length({})",
        payload_types={
            **dict.fromkeys(("TEXT", "VARCHAR", "STRING"), ("text", _JSON)),
            "NUMBER(*,0)": ("integer", "cast({} as varchar)"),  # the connector's int
            "BOOLEAN": ("boolean", "cast({} as varchar)"),  # 'true' / 'false'
            # Whole microseconds since the epoch (the instant for _LTZ/_TZ, the wall clock
            # read as UTC for _NTZ, as Python reads naive values) truncated toward zero.
            **dict.fromkeys(
                ("TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ", "TIMESTAMP"),
                (
                    "time",
                    "cast(cast(trunc(date_part(epoch_microsecond, {}) / 1000000)"
                    " as number(38, 0)) as varchar)",
                ),
            ),
            "DATE": ("time", "cast(date_part(epoch_second, cast({} as timestamp_ntz)) as varchar)"),
            # FLOAT is absent on purpose: Snowflake writes doubles with its own digit rules
            # (1.0 as 1, at most 15-17 significant digits) where Python writes the shortest
            # repr (1.0, 0.30000000000000004), so float columns are encoded in Python.
            # NUMBER(p, s>0) (Python: Decimal -> int or float), VARIANT/OBJECT/ARRAY
            # (JSON text from the connector), BINARY and TIME likewise.
        },
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

    def column_types(self, relation: str) -> dict[str, str | None]:
        from snowflake.connector.constants import FIELD_ID_TO_NAME

        cur = self._cursor_execute(f"select * from {relation} where 1 = 0", None)
        try:
            out: dict[str, str | None] = {}
            for d in cur.description:
                name = FIELD_ID_TO_NAME.get(d.type_code)
                if name == "FIXED":  # NUMBER(p, s): the scale tells integer from decimal
                    name = f"NUMBER({d.precision or 38},{d.scale or 0})"
                out[d.name.lower()] = name
            return out
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()
