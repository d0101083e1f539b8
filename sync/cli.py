"""Command-line interface: parses arguments, calls the engine, prints. No logic of its own."""

from __future__ import annotations

import click

from sync import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="plg-sync")
def cli() -> None:
    """Keep product signals computed by the plg_signals dbt models current in
    Customer.io, HubSpot, Salesforce and Slack, sending only what changed."""


def _register_commands() -> None:
    from sync.demo.command import demo_data

    cli.add_command(demo_data)


_register_commands()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
