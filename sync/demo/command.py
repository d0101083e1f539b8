"""`plg-sync demo-data`: write the synthetic warehouse into a DuckDB file."""

from __future__ import annotations

import datetime as dt
import os

import click

from sync.demo.generator import SCALES, generate


@click.command("demo-data")
@click.option(
    "--scale",
    type=click.Choice(list(SCALES)),
    default="small",
    show_default=True,
    help="small: ~1k accounts, 10k users, 500k events; medium: 10x; large: 50x users, 100x events.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same data.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the data ends (exclusive), UTC. Default: today.",
)
@click.option(
    "--path",
    type=click.Path(dir_okay=False),
    default=lambda: os.environ.get("PLG_DUCKDB_PATH", "data/plg_signals.duckdb"),
    show_default="$PLG_DUCKDB_PATH or data/plg_signals.duckdb",
    help="DuckDB file to write (the same file the dbt duckdb target uses).",
)
@click.option("--schema", default="raw", show_default=True, help="Schema for the raw tables.")
def demo_data(scale: str, seed: int, as_of: dt.datetime | None, path: str, schema: str) -> None:
    """Generate a synthetic SaaS warehouse with planted, known behaviour.

    Writes the tables real loaders land, in their documented shapes (docs/sources.md):
    Segment tracks and groups; Stripe subscription_history, subscription_item, price and
    customer as Fivetran lands them; HubSpot company and owner and Zendesk ticket,
    organization, user and satisfaction_rating via Fivetran; the product's accounts, users
    and daily usage; and `planted_truth` (what was planted), to SCHEMA in the DuckDB file,
    replacing earlier tables.
    """
    result = generate(
        path, scale=scale, seed=seed, as_of=as_of.date() if as_of else None, schema=schema
    )
    click.echo(
        f"wrote {sum(result.row_counts.values()):,} rows to {result.path} "
        f"(schema {result.schema}, as of {result.as_of}) in {result.seconds:.1f}s"
    )
    for table, count in result.row_counts.items():
        click.echo(f"  {schema}.{table:<22} {count:>12,}")
