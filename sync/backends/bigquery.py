"""BigQuery backend (google-cloud-bigquery), from the same profile dbt-bigquery uses.

Auth: `method: service-account` (keyfile), `service-account-json` (keyfile_json), `oauth`
(application default credentials); `anonymous` for local emulators. `client_options:
{api_endpoint: ...}` in the profile points the client elsewhere (tests, emulators).

BigQuery DML is slow and quota-limited, so checkpoints are larger; a batch of state rows is
one `ARRAY<STRUCT>` parameter, and a checkpoint is one multi-statement transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from typing import Any

from sync.backends.base import Backend, log_sql, register_backend
from sync.dbt_project import Profile
from sync.errors import ConfigError, WarehouseError
from sync.secrets import reveal
from sync.state_sql import Dialect, Params, StructRows, Typed, json_string_template

_PARAM = re.compile(r"@p(\d+)\b")
_LOGICAL = {
    "string": "STRING",
    "integer": "INT64",
    "double": "FLOAT64",
    "boolean": "BOOL",
    "timestamp": "TIMESTAMP",
}


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP"
    return "STRING"


def _column_types(rows: Sequence[Sequence[Any]], n: int) -> list[str]:
    types = ["STRING"] * n
    for i in range(n):
        for row in rows:
            if row[i] is not None:
                types[i] = _scalar_type(row[i])
                break
    return types


def to_query_parameters(params: Params | None) -> list[Any]:
    """Our collected values -> bigquery Scalar/Array/Struct query parameters (@p0, @p1...)."""
    from google.cloud import bigquery as bq

    out: list[Any] = []
    for i, v in enumerate(params.values if params else []):
        name = f"p{i}"
        if isinstance(v, Typed):
            out.append(bq.ScalarQueryParameter(name, _LOGICAL[v.type], v.value))
        elif isinstance(v, StructRows):
            types = (
                [_LOGICAL[t] for t in v.types] if v.types else _column_types(v.rows, len(v.columns))
            )
            structs = [
                bq.StructQueryParameter(
                    None,
                    *[
                        bq.ScalarQueryParameter(c, t, x)
                        for c, t, x in zip(v.columns, types, row, strict=True)
                    ],
                )
                for row in v.rows
            ]
            out.append(bq.ArrayQueryParameter(name, "STRUCT", structs))
        elif isinstance(v, list):
            out.append(bq.ArrayQueryParameter(name, "STRING", [str(x) for x in v]))
        else:
            out.append(bq.ScalarQueryParameter(name, _scalar_type(v), v))
    return out


# CODE_POINTS_TO_STRING takes any code point, 0 included (U+0000 must be escaped too).
_JSON = json_string_template("code_points_to_string([{}])")
# Unix seconds toward zero, as Python's int(datetime.timestamp()): microseconds minus their
# remainder (MOD keeps the dividend's sign) is a whole number of seconds, so DIV is exact
# whichever way it rounds. (UNIX_SECONDS rounds down: -0.5 s would become -1, Python says 0.)
# The inner parentheses are redundant in BigQuery; sqlglot drops DIV's argument grouping
# without them when transpiling (the stand-in would compute a - (b // c)).
_EPOCH = "cast(div((unix_micros({0}) - mod(unix_micros({0}), 1000000)), 1000000) as string)"


@register_backend
class BigQueryBackend(Backend):
    type_name = "bigquery"
    dialect = Dialect(
        name="bigquery",
        string="string",
        integer="int64",
        double="float64",
        boolean="bool",
        timestamp="timestamp",
        quote="`",
        param_style="named",
        string_escapes=True,
        json_text=_JSON,
        byte_length="byte_length({})",
        payload_types={
            "STRING": ("text", _JSON),
            # CAST, not TO_JSON_STRING: that writes INT64 outside +-2^53 as a quoted string.
            **dict.fromkeys(("INTEGER", "INT64"), ("integer", "cast({} as string)")),
            **dict.fromkeys(("BOOLEAN", "BOOL"), ("boolean", "cast({} as string)")),
            "TIMESTAMP": ("time", _EPOCH.format("{0}")),
            # DATETIME is a wall clock; Python reads the naive value as UTC, as TIMESTAMP() does.
            "DATETIME": ("time", _EPOCH.format("timestamp({0})")),
            "DATE": ("time", "cast(unix_date({}) * 86400 as string)"),
            # FLOAT/FLOAT64 are absent on purpose: BigQuery's CAST/TO_JSON_STRING spell
            # doubles with their own rules, not Python's shortest repr (1.0 vs 1, 1e+16), so
            # float columns are encoded in Python; NUMERIC/BIGNUMERIC (Decimal), JSON,
            # RECORD, BYTES, TIME, GEOGRAPHY and REPEATED columns likewise.
        },
    )
    checkpoint_every = 5000
    fetch_size = 10000

    def __init__(self, profile: Profile, state_schema: str, client: Any = None) -> None:
        super().__init__(profile, state_schema)
        self._client = client or self._make_client(profile)

    @staticmethod
    def _make_client(profile: Profile) -> Any:
        from google.cloud import bigquery as bq

        s = profile.settings
        method = s.get("method", "oauth")
        try:
            if method == "service-account":
                from google.oauth2 import service_account

                creds = service_account.Credentials.from_service_account_file(str(s["keyfile"]))
            elif method == "service-account-json":
                import json

                from google.oauth2 import service_account

                info = reveal(s["keyfile_json"])
                info = json.loads(info) if isinstance(info, str) else info
                creds = service_account.Credentials.from_service_account_info(info)
            elif method == "anonymous":
                from google.auth.credentials import AnonymousCredentials

                creds = AnonymousCredentials()
            elif method == "oauth":
                import google.auth

                creds, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/bigquery"])
            else:
                raise ConfigError(
                    f"profile target {profile.target_name!r}: BigQuery method {method!r} is not "
                    "supported; use service-account, service-account-json, oauth or anonymous"
                )
        except (OSError, KeyError, ValueError) as e:
            raise ConfigError(f"BigQuery credentials ({method}): {e}") from None
        except Exception as e:  # google.auth.exceptions.DefaultCredentialsError, ...
            raise WarehouseError(f"BigQuery credentials ({method}): {e}") from None
        return bq.Client(
            project=s.get("project") or s.get("database"),
            credentials=creds,
            location=s.get("location"),
            client_options=s.get("client_options"),
        )

    def state_database(self) -> str | None:
        return self.profile.settings.get("project") or self.profile.settings.get("database")

    def _job(self, sql: str, params: Params | None, **config: Any) -> Any:
        log_sql(sql)
        from google.api_core import exceptions as gexc
        from google.cloud import bigquery as bq

        job_config = bq.QueryJobConfig(query_parameters=to_query_parameters(params), **config)
        try:
            return self._client.query(sql, job_config=job_config)
        except gexc.GoogleAPIError as e:
            raise WarehouseError(f"BigQuery: {getattr(e, 'message', e)}") from None

    def _result(self, job: Any, **kwargs: Any) -> Any:
        from google.api_core import exceptions as gexc

        try:
            return job.result(**kwargs)
        except gexc.GoogleAPIError as e:
            raise WarehouseError(f"BigQuery: {getattr(e, 'message', e)}") from None

    def execute(self, sql: str, params: Params | None = None) -> None:
        self._result(self._job(sql, params))

    def query(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) for r in self._result(self._job(sql, params))]

    def stream(
        self, sql: str, params: Params | None, chunk_size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        # Page iteration: the client fetches one page of `chunk_size` rows at a time.
        rows = self._result(self._job(sql, params), page_size=chunk_size)
        for page in rows.pages:
            yield [tuple(r.values()) for r in page]

    def column_names(self, relation: str) -> list[str]:
        rows = self._result(self._job(f"select * from {relation} limit 0", None))
        return [f.name.lower() for f in rows.schema]

    def column_types(self, relation: str) -> dict[str, str | None]:
        rows = self._result(self._job(f"select * from {relation} limit 0", None))
        # A REPEATED field reports its element type; spelt ARRAY<...> so no caller takes a
        # list of strings for a STRING column.
        return {
            f.name.lower(): f"ARRAY<{f.field_type}>" if f.mode == "REPEATED" else f.field_type
            for f in rows.schema
        }

    def transaction(self, statements: Sequence[tuple[str, Params]]) -> None:
        """One script: parameters are renumbered so each statement keeps its own values."""
        merged = Params("named")
        parts = []
        for sql, params in statements:
            offset = len(merged.values)
            merged.values.extend(params.values)
            parts.append(_PARAM.sub(lambda m, o=offset: f"@p{int(m.group(1)) + o}", sql))
        script = "begin transaction;\n" + ";\n".join(parts) + ";\ncommit transaction;"
        self.execute(script, merged)

    def materialize(self, table: str, select_sql: str, params: Params) -> None:
        """A query job writing its result to `table` (DDL cannot take query parameters)."""
        from google.cloud import bigquery as bq

        ref = table.replace("`", "")
        self._result(
            self._job(
                select_sql,
                params,
                destination=ref,
                write_disposition=bq.WriteDisposition.WRITE_TRUNCATE,
            )
        )

    def close(self) -> None:
        self._client.close()
