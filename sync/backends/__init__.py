"""Warehouse backends, one small module each, registered by dbt adapter type like
destinations are. A built-in backend's module is imported only when a profile needs it,
so `plg-sync` on DuckDB never loads the Snowflake or BigQuery drivers."""

from __future__ import annotations

import importlib

from sync.backends.base import Backend, register_backend, registered_backends
from sync.dbt_project import Profile
from sync.errors import ConfigError

__all__ = ["BUILTIN_BACKENDS", "Backend", "backend_types", "connect", "register_backend"]

# dbt adapter type -> module whose import registers its backend (see CONTRIBUTING.md).
BUILTIN_BACKENDS: dict[str, str] = {
    "duckdb": "sync.backends.duckdb",
    "snowflake": "sync.backends.snowflake",
    "bigquery": "sync.backends.bigquery",
}


def backend_types() -> list[str]:
    """Every adapter type plg-sync can connect to: built-ins and any registered later."""
    extra = [t for t in registered_backends() if t not in BUILTIN_BACKENDS]
    return [*BUILTIN_BACKENDS, *extra]


def connect(profile: Profile, state_schema: str) -> Backend:
    """Open the backend for a dbt profile target (drivers are imported only when used)."""
    if profile.type not in registered_backends() and profile.type in BUILTIN_BACKENDS:
        importlib.import_module(BUILTIN_BACKENDS[profile.type])
    cls = registered_backends().get(profile.type)
    if cls is None:
        supported = backend_types()
        raise ConfigError(
            f"profile target {profile.target_name!r} has type {profile.type!r}; plg-sync "
            f"supports {', '.join(supported[:-1])} and {supported[-1]}"
        )
    return cls(profile, state_schema)
