"""User-facing exceptions, each with one documented exit code.

`PlgSyncError` is a `click.ClickException`: click prints it (through `show`, which redacts)
and exits with the class's `exit_code`, so there is one mapping from error to exit code and
it is this file. A scheduler can act on the code without parsing text.
"""

from __future__ import annotations

from typing import IO, Any

import click

from sync.secrets import redact


class PlgSyncError(click.ClickException):
    """Base class: the message is written for the person running the command."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def show(self, file: IO[Any] | None = None) -> None:
        """`error: <message>` on stderr, secrets masked (click's default says `Error:`)."""
        click.echo(f"error: {redact(self.format_message())}", file=file, err=file is None)


class ConfigError(PlgSyncError):
    """sync.yml, profiles.yml, the dbt manifest or an env var is wrong or missing."""

    exit_code = 2


class WarehouseError(PlgSyncError):
    """The warehouse rejected a query or could not be reached."""

    exit_code = 3


class LockHeldError(PlgSyncError):
    """Another run of the same sync holds the lease; this run sent nothing."""

    exit_code = 4


class GuardrailError(PlgSyncError):
    """The planned change is larger than the configured guardrail allows."""

    exit_code = 5


class DestinationError(PlgSyncError):
    """A destination could not be used at all (auth, setup, unreachable)."""

    exit_code = 6


class FailedRecordsError(PlgSyncError):
    """The run finished but more records failed than the sync's threshold allows."""

    exit_code = 7


EXIT_CODES: dict[int, str] = {
    0: "ok: every planned record was delivered (or failures stayed under the threshold)",
    1: "unexpected error (a bug: please report it with the log)",
    2: "configuration error (sync.yml, profiles.yml, manifest, env vars)",
    3: "warehouse error",
    4: "lock held: another run of this sync is in progress; nothing was sent",
    5: "guardrail tripped: too many removals or the model shrank; rerun with --allow-mass-change",
    6: "destination error: auth, setup or connectivity",
    7: "failed records above the sync's threshold; they stay unsynced and are retried next run",
}
