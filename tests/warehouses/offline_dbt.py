"""Run the dbt CLI for an offline BigQuery compile (test-only).

`dbt compile --no-introspect --no-populate-cache` still asks BigQuery whether each
incremental model's table exists (`is_incremental()` -> `adapter.get_relation`), which
needs a connection, so an offline compile stops at the first incremental model. Here the
adapter treats its (empty) relation cache as complete: no table exists, so incremental
models compile in their full-refresh form, the SQL a first `dbt build` runs.

Run as: python -m tests.warehouses.offline_dbt compile ... (dbt's own arguments).
"""

from __future__ import annotations

import sys


def main() -> int:
    from dbt.adapters.bigquery.impl import BigQueryAdapter
    from dbt.cli.main import dbtRunner

    BigQueryAdapter._schema_is_cached = lambda self, database, schema: True  # type: ignore[method-assign]
    result = dbtRunner().invoke(sys.argv[1:])
    if result.exception is not None:
        print(f"dbt failed: {result.exception}", file=sys.stderr)
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
