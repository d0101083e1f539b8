"""Click owns errors and exit codes: every user-facing error is a `click.ClickException`
whose class carries its documented exit code, and whose printed form is redacted."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sync.errors import (
    EXIT_CODES,
    ConfigError,
    DestinationError,
    FailedRecordsError,
    GuardrailError,
    LockHeldError,
    PlgSyncError,
    WarehouseError,
)
from sync.secrets import register_secret

SYNC = Path(__file__).resolve().parents[2] / "sync"


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (PlgSyncError, 1),
        (ConfigError, 2),
        (WarehouseError, 3),
        (LockHeldError, 4),
        (GuardrailError, 5),
        (DestinationError, 6),
        (FailedRecordsError, 7),
    ],
)
def test_each_error_class_is_a_click_exception_with_its_documented_code(cls, code) -> None:
    assert issubclass(cls, click.ClickException)
    assert cls("x").exit_code == code and code in EXIT_CODES


def test_show_prints_error_prefix_and_masks_secrets() -> None:
    register_secret("show-secret-Vb71")
    out = io.StringIO()
    ConfigError("bad key show-secret-Vb71 in sync.yml").show(file=out)
    assert out.getvalue() == "error: bad key *** in sync.yml\n"


def test_a_command_that_raises_exits_with_the_class_code() -> None:
    @click.command()
    def boom() -> None:
        raise GuardrailError("too many removals; token show-secret-Vb71")

    register_secret("show-secret-Vb71")
    result = CliRunner().invoke(boom)
    assert result.exit_code == 5
    assert result.stderr == "error: too many removals; token ***\n"


def test_no_hand_written_exit_handling_is_left_in_sync() -> None:
    """One mapping from error to exit code (click's): no wrappers, no sys.exit in commands."""
    offenders = []
    for path in SYNC.rglob("*.py"):
        if path.name == "demo_job.py":  # `make demo` script: passes a child's exit code on
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name in (
                "_handles_errors",
                "exit_code_for",
            ):
                offenders.append(f"{path.name}: def {node.name}")
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "exit"
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            ):
                offenders.append(f"{path.name}:{node.lineno}: sys.exit")
    assert offenders == []
