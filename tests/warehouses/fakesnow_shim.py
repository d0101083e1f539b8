"""Start the fakesnow server with test-only shims for constructs real Snowflake supports
and fakesnow 0.12 does not. Each shim changes what the stand-in accepts, never the SQL
the models send; docs/warehouses.md lists every gap and how it is covered.

Run as: python -m tests.warehouses.fakesnow_shim -s -p PORT (the fakesnow CLI's arguments).
"""

from __future__ import annotations

import sys

from sqlglot import exp


def _qualified_temporary_table_as_session_table(expression: exp.Expr) -> exp.Expr:
    """`create temporary table db.schema.t` (dbt-snowflake's unit tests and incremental
    merges write it) fails in fakesnow, because DuckDB keeps temporary tables in its own
    `temp` catalog. Snowflake accepts it; the shim creates an ordinary table instead,
    which the same statements then describe, read and drop by its qualified name."""
    if isinstance(expression, exp.Create) and expression.find(exp.TemporaryProperty):
        table = expression.find(exp.Table)
        if table is not None and (table.args.get("catalog") or table.args.get("db")):
            for prop in list(expression.find_all(exp.TemporaryProperty)):
                prop.pop()
    return expression


def _octet_length_of_text(expression: exp.Expr) -> exp.Expr:
    """`octet_length(text)` (Snowflake: UTF-8 bytes of a string or binary) reaches DuckDB as
    `OCTET_LENGTH`, which takes only BLOBs; DuckDB's `strlen` counts a VARCHAR's UTF-8 bytes.
    Only text is measured by the SQL under test (payload limits), so binaries are not
    bridged."""
    return expression.transform(
        lambda node: (
            exp.Anonymous(this="strlen", expressions=[node.this])
            if isinstance(node, exp.ByteLength)
            else node
        )
    )


def transform(expression: exp.Expr) -> exp.Expr:
    """Every shim, applied to one parsed statement."""
    return _octet_length_of_text(_qualified_temporary_table_as_session_table(expression))


def shimmed_transform():  # type: ignore[no-untyped-def]
    """fakesnow's statement transform with the shims in front (for in-process fakesnow)."""
    from fakesnow.cursor import FakeSnowflakeCursor

    original = FakeSnowflakeCursor._transform

    def _transform(self, expression, params):  # type: ignore[no-untyped-def]
        return original(self, transform(expression), params)

    return _transform


def install() -> None:
    """Apply the shims to fakesnow's statement transform (in this process only)."""
    from fakesnow.cursor import FakeSnowflakeCursor

    FakeSnowflakeCursor._transform = shimmed_transform()  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    install()
    from fakesnow.cli import main as fakesnow_main

    return fakesnow_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
