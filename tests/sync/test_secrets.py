"""One secret registry, one `redact`: a secret registered once is masked in every form it can
travel in (raw, base64 HTTP Basic pair, URL-encoded, lower-cased host), at every exit: a log
line, an error the CLI prints, and the rows written to `sync_errors` and `sync_runs`.
"""

from __future__ import annotations

import ast
import base64
import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from sync.destinations.base import Destination, DestinationOptions, SyncSpec, register
from sync.errors import DestinationError
from sync.output import setup_logging
from sync.records import Change, Outcome
from sync.secrets import (
    MASK,
    Secret,
    redact,
    register_basic_auth,
    register_secret,
    registered_forms,
)
from tests.sync.conftest import Project

SYNC_DIR = Path(__file__).resolve().parents[2] / "sync"
USER = "site-7781"
PASSWORD = "pw-Zq81-Kx2v-9TtR"
# A secret inside a URL host: httpx (and most servers) print the host lower-cased.
HOOK_URL = "https://Tenant-Qx7Wv3PpL.hooks.example.com/in/AbC123"


def forms() -> dict[str, str]:
    """Each form of the two secrets as it would appear in text from the outside world."""
    return {
        "raw": PASSWORD,
        "base64 Basic": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
        "lower-cased host": "https://tenant-qx7wv3ppl.hooks.example.com/in/AbC123",
    }


def leaky_text() -> str:
    f = forms()
    return (
        f"gateway said: password {f['raw']}; header {f['base64 Basic']} (no scheme word); "
        f"posted to {f['lower-cased host']}"
    )


def assert_masked(text: str) -> None:
    for name, value in forms().items():
        assert value not in text, f"{name} form leaked: {text!r}"
        assert value.lower() not in text.lower(), f"{name} form leaked (case changed): {text!r}"
    assert MASK in text


class LeakyOptions(DestinationOptions):
    user: str
    password: Secret
    hook_url: Secret
    fail_with: str = "outcome"  # outcome | error


@register
class LeakyDestination(Destination):
    """Registers its credentials like a real destination, then quotes them back in every
    rejection or error, as an API gateway that echoes the request would."""

    type_name = "leaky_echo"
    Options = LeakyOptions
    objects = frozenset({"person"})

    def __init__(self, name: str, options: DestinationOptions) -> None:
        super().__init__(name, options)
        opts: LeakyOptions = self.options  # type: ignore[assignment]
        register_basic_auth(opts.user, opts.password)
        register_secret(opts.hook_url)

    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        if self.options.fail_with == "error":  # type: ignore[attr-defined]
            raise DestinationError(f"destination refused the credentials: {leaky_text()}")
        return [Outcome(c.key, "permanent", "http_400", leaky_text()) for c in changes]


def test_registry_keeps_every_derived_form() -> None:
    register_basic_auth(USER, PASSWORD)
    register_secret(HOOK_URL)
    known = registered_forms()
    f = forms()
    assert {f["raw"], f["base64 Basic"], f["lower-cased host"]} <= known
    assert HOOK_URL in known
    register_secret("p@ss/w0rd+x")  # URL-encoded forms: in a query string or form body
    assert {"p%40ss%2Fw0rd%2Bx"} <= registered_forms()
    # every form, whatever its case or encoding, is masked by the one redact
    for value in [*f.values(), HOOK_URL.upper(), "p%40ss%2Fw0rd%2Bx", "p%40ss%2fw0rd%2bx"]:
        assert redact(f"x {value} y") == f"x {MASK} y"
    assert redact("password%3DpwZq") == "password%3DpwZq"  # unrelated text is left alone


def test_secret_type_is_registered_when_created() -> None:
    Secret("created-secret-Hh42")
    assert redact("... CREATED-SECRET-hh42 ...") == f"... {MASK} ..."


def test_a_log_line_from_any_sync_module_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    register_basic_auth(USER, PASSWORD)
    register_secret(HOOK_URL)
    for log_format in ("text", "json"):
        setup_logging(log_format, verbosity=1)
        logging.getLogger("sync.http.client").debug("retrying after %s", leaky_text())
        logging.getLogger("sync.engine").info(
            "sync finished", extra={"fields": {"error": leaky_text()}}
        )
        err = capsys.readouterr().err
        assert "retrying after" in err  # -v shows the HTTP layer's lines through one handler
        assert_masked(err)


def _config(project: Project, fail_with: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAKY_PASSWORD", PASSWORD)
    monkeypatch.setenv("LEAKY_HOOK", HOOK_URL)
    project.write_config(
        [project.sync_entry(destination="leaky")],
        destinations={
            "leaky": {
                "type": "leaky_echo",
                "user": USER,
                "password": {"env": "LEAKY_PASSWORD"},
                "hook_url": {"env": "LEAKY_HOOK"},
                "fail_with": fail_with,
            }
        },
    )


def test_rejections_are_masked_in_sync_errors_and_sync_runs(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(project, "outcome", monkeypatch)
    result = project.cli("run", expect=7)
    assert_masked(result.stderr)  # "First reasons: ..." quotes the rejections
    messages = [m for (m,) in project.sql("select message from plg_sync.sync_errors")]
    assert len(messages) == 50
    for message in messages:
        assert message.startswith("gateway said")
        assert_masked(message)
    [(error,)] = project.sql("select error from plg_sync.sync_runs")
    assert_masked(error)
    assert_masked(project.cli("--log-format", "json", "status").stdout)


def test_an_error_printed_by_the_cli_is_masked(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(project, "error", monkeypatch)
    result = project.cli("run", expect=6)
    assert result.stderr.startswith("error: ") or "\nerror: " in result.stderr
    assert "destination refused the credentials" in result.stderr
    assert_masked(result.stderr)
    assert PASSWORD not in result.stdout


def test_sync_has_one_redact_and_one_registry() -> None:
    """No second copy can creep back: only sync/secrets.py defines redact/reveal/Secret."""
    defined: dict[str, list[str]] = {}
    for path in SYNC_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in (
                "redact",
                "reveal",
                "register_secret",
                "Secret",
                "RedactingFilter",
            ):
                defined.setdefault(node.name, []).append(str(path.relative_to(SYNC_DIR)))
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Attribute) and b.attr == "Filter" for b in node.bases
            ):
                defined.setdefault("logging.Filter subclass", []).append(
                    str(path.relative_to(SYNC_DIR))
                )
    assert {k: sorted(set(v)) for k, v in defined.items()} == {
        name: ["secrets.py"]
        for name in (
            "redact",
            "reveal",
            "register_secret",
            "Secret",
            "RedactingFilter",
            "logging.Filter subclass",
        )
    }
