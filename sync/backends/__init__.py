"""Warehouse backends, one small module each; `connect` picks one by the profile's type."""

from __future__ import annotations

from sync.backends.base import Backend
from sync.dbt_project import Profile
from sync.errors import ConfigError

__all__ = ["Backend", "connect"]


def connect(profile: Profile, state_schema: str) -> Backend:
    """Open the backend for a dbt profile target (drivers are imported only when used)."""
    if profile.type == "duckdb":
        from sync.backends.duckdb import DuckDBBackend

        return DuckDBBackend(profile, state_schema)
    if profile.type == "snowflake":
        from sync.backends.snowflake import SnowflakeBackend

        return SnowflakeBackend(profile, state_schema)
    if profile.type == "bigquery":
        from sync.backends.bigquery import BigQueryBackend

        return BigQueryBackend(profile, state_schema)
    raise ConfigError(
        f"profile target {profile.target_name!r} has type {profile.type!r}; plg-sync supports "
        "duckdb, snowflake and bigquery"
    )
