"""Command-line interface: parses arguments, calls the engine, prints. No logic of its own.

Errors are `PlgSyncError`s, which are `click.ClickException`s: click prints them (redacted,
see `sync.errors`) and exits with their documented code; anything else is a bug and gets a
traceback and exit 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from sync import __version__
from sync.errors import EXIT_CODES, ConfigError
from sync.secrets import redact

_EPILOG = "\b\nExit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EPILOG)
@click.version_option(__version__, prog_name="plg-sync")
@click.option(
    "--config",
    "config_path",
    envvar="PLG_SYNC_CONFIG",
    default="sync.yml",
    show_default=True,
    help="Path to sync.yml (or set PLG_SYNC_CONFIG).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: progress bars on a terminal, log lines otherwise; json: one JSON object per line.",
)
@click.option("-v", "--verbose", count=True, help="More detail in logs.")
@click.pass_context
def cli(ctx: click.Context, config_path: str, log_format: str, verbose: int) -> None:
    """Keep product signals computed by the plg_signals dbt models current in
    Customer.io, HubSpot, Salesforce and Slack, sending only what changed."""
    from sync.output import setup_logging

    setup_logging(log_format, verbose)
    ctx.obj = {"config_path": config_path, "log_format": log_format}


def _workspace(ctx: click.Context) -> Any:
    from sync.config import load_config
    from sync.engine import Workspace

    return Workspace(load_config(ctx.obj["config_path"]))


_select = click.option(
    "--select",
    "-s",
    multiple=True,
    metavar="NAME",
    help="Only these syncs (repeatable). Default: all syncs in sync.yml.",
)


def _run_and_report(
    ctx: click.Context, select: Sequence[str], options: Any, show_plan: bool
) -> None:
    from sync.engine import Engine
    from sync.output import make_reporter

    ws = _workspace(ctx)
    try:
        syncs = ws.config.select(select)
        results = Engine(ws, make_reporter(ctx.obj["log_format"])).run(syncs, options)
    finally:
        ws.close()
    _print_results(ctx, results, show_plan)
    first_error = next((r.error for r in results if r.error), None)
    if first_error is not None:
        raise first_error  # click prints it (redacted) and exits with its code


@cli.command()
@_select
@click.option(
    "--full-resync", is_flag=True, help="Treat every model row as changed and send it again."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Compute and record the plan exactly as `plan` does; send nothing.",
)
@click.option(
    "--allow-mass-change",
    is_flag=True,
    help="Apply even when removals or model shrinkage exceed the sync's guardrails.",
)
@click.pass_context
def run(
    ctx: click.Context,
    select: tuple[str, ...],
    full_resync: bool,
    dry_run: bool,
    allow_mass_change: bool,
) -> None:
    """Send what changed since the last run (added, changed, removed rows) to each destination.

    State moves forward only for records a destination accepted; rejected ones are logged in
    sync_errors and sent again next run.
    """
    from sync.types import RunOptions

    opts = RunOptions(full_resync=full_resync, dry_run=dry_run, allow_mass_change=allow_mass_change)
    _run_and_report(ctx, select, opts, show_plan=dry_run)


@cli.command()
@_select
@click.option("--full-resync", is_flag=True, help="Plan as if every model row had changed.")
@click.pass_context
def plan(ctx: click.Context, select: tuple[str, ...], full_resync: bool) -> None:
    """Show what `run` would send (counts and sample payloads) and record it in sync_plans."""
    from sync.types import RunOptions

    _run_and_report(ctx, select, RunOptions(full_resync=full_resync, dry_run=True), show_plan=True)


@cli.command()
@click.option("--limit", default=5, show_default=True, help="Runs shown per sync.")
@click.pass_context
def status(ctx: click.Context, limit: int) -> None:
    """Show the last runs of each sync (from the sync_runs table)."""
    ws = _workspace(ctx)
    try:
        state = ws.state
        state.ensure_tables()
        rows = state.recent_runs(limit)
    finally:
        ws.close()
    if ctx.obj["log_format"] == "json":
        from sync.output import emit_json

        for r in rows:
            emit_json(r)
        return
    cols = ["sync_name", "started_at", "status", "dry_run", "planned", "succeeded", "failed",
            "skipped", "duration_s", "error"]  # fmt: skip
    _table(cols, [[r[c] for c in cols] for r in rows], empty="no runs recorded yet")


@cli.command()
@_select
@click.pass_context
def validate(ctx: click.Context, select: tuple[str, ...]) -> None:
    """Check sync.yml, env vars, the dbt profile and manifest, model columns against each
    mapping, and what each destination says about its syncs. Sends nothing."""
    ws = _workspace(ctx)
    problems: list[str] = []
    try:
        for sync in ws.config.select(select):
            try:
                columns = ws.model_columns(sync)
                ws.mapping(sync)
                dest = ws.destination(sync.destination)
                found = dest.validate_sync(sync, {k: v or "" for k, v in columns.items()})
                problems += [f"sync {sync.name!r}: {p}" for p in found]
                click.echo(f"{sync.name}: {'ok' if not found else 'problems'}")
            except ConfigError as e:
                problems.append(str(e))
                click.echo(f"{sync.name}: problems")
    finally:
        ws.close()
    if problems:
        raise ConfigError(
            f"{ws.config.path}: {len(problems)} problem(s):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    click.echo(f"{ws.config.path}: valid")


@cli.command()
@click.argument("destination")
@click.option("--apply", is_flag=True, help="Make the changes (default: only list them).")
@click.pass_context
def setup(ctx: click.Context, destination: str, apply: bool) -> None:
    """Prepare DESTINATION for its syncs (e.g. create custom properties). Dry unless --apply."""
    ws = _workspace(ctx)
    try:
        if destination not in ws.config.resolved_destinations:
            raise ConfigError(
                f"{ws.config.path}: no destination named {destination!r}; defined: "
                f"{sorted(ws.config.resolved_destinations)}"
            )
        dest = ws.destination(destination)
        for sync in [s for s in ws.config.syncs if s.destination == destination]:
            columns = {k: v or "" for k, v in ws.model_columns(sync).items()}
            for action in dest.setup(sync, columns, apply):
                click.echo(f"{sync.name}: {action}")
    finally:
        ws.close()
    if not apply:
        click.echo("(dry run: rerun with --apply to make these changes)")


# --- printing -----------------------------------------------------------------------------


def _print_results(ctx: click.Context, results: Sequence[Any], show_plan: bool) -> None:
    if ctx.obj["log_format"] == "json":
        from sync.output import emit_json

        for r in results:
            c = r.counts
            emit_json(
                {
                    "sync": r.sync_name,
                    "run_id": r.run_id,
                    "status": r.status,
                    "dry_run": r.dry_run,
                    "added": c.added if c else None,
                    "changed": c.changed if c else None,
                    "removed": c.removed if c else None,
                    "succeeded": r.succeeded,
                    "failed": r.failed,
                    "skipped": r.skipped,
                    "samples": r.samples,
                    "notes": r.notes,
                    "error": str(r.error) if r.error else None,
                }
            )
        return
    cols = ["sync", "status", "added", "changed", "removed", "sent ok", "failed", "skipped"]
    rows = []
    for r in results:
        c = r.counts
        rows.append(
            [
                r.sync_name,
                r.status,
                *([c.added, c.changed, c.removed] if c else ["-"] * 3),
                r.succeeded,
                r.failed,
                r.skipped,
            ]
        )
    _table(cols, rows, empty="no syncs selected")
    if show_plan:
        import json

        for r in results:
            for note in r.notes:
                click.echo(f"{r.sync_name}: {note}")
            for sample in r.samples:
                click.echo(f"{r.sync_name} sample: {redact(json.dumps(sample, default=str))}")


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> None:
    from rich.console import Console
    from rich.table import Table

    if not rows:
        click.echo(empty)
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*[redact(_cell(v)) for v in row])
    console = Console()
    if not console.is_terminal:  # a log file or pipe: do not wrap at 80 columns
        console = Console(width=200)
    console.print(table)


def _cell(v: Any) -> str:
    import datetime as dt

    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)


def _register_demo_commands() -> None:
    # `plg-sync demo-data` lives with the generator it drives (sync/demo/).
    from sync.demo.command import demo_data

    cli.add_command(demo_data)
    # `plg-sync exposures` lives in sync/exposures.py (dbt exposures YAML from sync.yml).
    from sync.exposures import exposures

    cli.add_command(exposures)


_register_demo_commands()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
