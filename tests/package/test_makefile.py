"""`make test` installs what the suite needs on a fresh machine (issue 12).

Make expands a rule's prerequisites when it reads the rule. When `CHROMIUM ?= ...` stood
below `test: install lint $(CHROMIUM)`, the variable was still empty there, the apt-get step
was never a prerequisite, and `make test` failed on every machine without a preinstalled
Chromium while passing on ours. These tests read make's own plan, so they fail again if the
variable moves below the rule or the prerequisite is dropped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _env() -> dict[str, str]:
    """The caller's environment without anything that would set CHROMIUM from outside."""
    return {k: v for k, v in os.environ.items() if k not in {"CHROMIUM", "MAKEFLAGS", "MFLAGS"}}


def _make(*args: str) -> str:
    completed = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    return completed.stdout


def _prerequisites(database: str, target: str) -> list[str]:
    """The prerequisites make resolved for `target` (from `make -p`'s rule database)."""
    for line in database.splitlines():
        if line.startswith(f"{target}:") and not line.startswith(f"{target}:="):
            return line.split(":", 1)[1].split()
    raise AssertionError(f"make -p printed no rule for {target!r}")


def test_test_target_depends_on_the_chromium_install_rule_with_default_settings() -> None:
    # No CHROMIUM on the command line or in the environment: the value must come from the
    # Makefile itself, before the `test` rule is read.
    database = _make_database()
    assert "/usr/bin/chromium" in _prerequisites(database, "test")


def _make_database() -> str:
    # -p prints the rule database; -q asks only whether a target is up to date, so nothing runs.
    completed = subprocess.run(
        ["make", "--no-print-directory", "-p", "-q", "-f", "Makefile", ".DEFAULT_GOAL"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.stdout


def test_make_test_plans_the_apt_install_when_chromium_is_missing() -> None:
    plan = _make("-n", "test", "CHROMIUM=/nonexistent/chromium")
    assert "apt-get install" in plan and "chromium" in plan, plan
    # Installed before the suite starts, so the docs-site tests never find it missing.
    assert plan.index("apt-get install") < plan.index("-m pytest"), plan


def test_make_test_does_not_reinstall_chromium_when_it_is_present(tmp_path: Path) -> None:
    present = tmp_path / "chromium"
    present.write_text("#!/bin/sh\n")
    plan = _make("-n", "test", f"CHROMIUM={present}")
    assert "apt-get install" not in plan, plan
