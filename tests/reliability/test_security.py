"""Security: canary credentials never leak, TLS is always verified, identifiers cannot inject
SQL, every HTTP call has a timeout, and sync_errors keeps reasons, not payloads."""

from __future__ import annotations

import ast
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest

from sync.destinations.base import DestinationStats
from sync.errors import ConfigError
from sync.http import HttpClient, PacingOptions, check_url
from tests.reliability.conftest import (
    CANARY,
    REPO,
    destination_config,
    make_standin,
    sync_entry,
)
from tests.sync.conftest import Project


@pytest.mark.parametrize("dest", ["customerio", "hubspot", "salesforce"])
def test_canary_credentials_appear_in_no_output_log_or_table(
    project: Project, dest: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with make_standin(dest) as standin:
        standin.setup_faults("5xx", 0.3)
        standin.fail_rate = 0.2  # rejected records too, so sync_errors has rows
        project.update_model("score = 3", "email = 'broken'")
        project.write_config(
            [sync_entry(project, dest)], destinations={dest: destination_config(dest, standin)}
        )
        outputs = [project.cli("-v", "run", expect=None).output]
        outputs.append(project.cli("--log-format", "json", "run", expect=None).output)
        outputs.append(project.cli("plan", expect=None).output)
        outputs.append(project.cli("status", expect=None).output)
        standin.token = standin.api_key = standin.client_secret = "rotated"  # auth now fails
        outputs.append(project.cli("run", expect=None).output)
    tables = ["sync_state", "sync_runs", "sync_errors", "sync_plans", "sync_leases"]
    dumped = [str(project.sql(f"select * from plg_sync.{t}")) for t in tables]
    for text in [*outputs, caplog.text, *dumped]:
        assert CANARY not in text


def test_plain_http_is_refused_except_for_loopback() -> None:
    for url in ("http://api.hubapi.com", "http://10.0.0.5:8080", "ftp://x"):
        with pytest.raises(ConfigError, match="https"):
            check_url(url)
    check_url("http://127.0.0.1:9")
    check_url("https://track.customer.io")


def test_the_http_client_verifies_tls_and_times_out_every_call() -> None:
    client = HttpClient(
        "https://example.com",
        pacing=PacingOptions(timeout_seconds=7),
        stats=DestinationStats(),
        limit_key="security-test",
    )
    inner = client._client
    timeout = inner.timeout
    assert None not in (timeout.connect, timeout.read, timeout.write, timeout.pool)
    ctx = inner._transport._pool._ssl_context  # httpx keeps the verified context here
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_no_destination_builds_its_own_http_client() -> None:
    """Every request goes through sync.http (timeouts, TLS, redaction live there once)."""
    offenders = []
    for path in (REPO / "sync").rglob("*.py"):
        if path.relative_to(REPO / "sync").parts[0] == "http":  # the sync/http/ package
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("Client", "AsyncClient", "get", "post", "request")
                and isinstance(node.value, ast.Name)
                and node.value.id in ("httpx", "requests")
            ):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


INJECTIONS = ["x; drop table y", 'x"; drop table y; --', "x' or '1'='1", "sync_people--"]


@pytest.mark.parametrize("evil", INJECTIONS)
@pytest.mark.parametrize("where", ["name", "model", "identifier", "fields", "state_schema"])
def test_identifiers_from_config_cannot_inject_sql(project: Project, evil: str, where: str) -> None:
    project.sql("create table y as select 1 as one")
    top: dict[str, Any] = {}
    if where == "state_schema":
        top["state_schema"] = evil
        entry = project.sync_entry()
    elif where == "identifier":
        entry = project.sync_entry(identifier={"id": evil})
    elif where == "fields":
        entry = project.sync_entry(fields={"plan": evil})
    else:
        entry = project.sync_entry(**{where: evil})
    project.write_config([entry], **top)
    result = project.cli("run", expect=2)
    assert "valid" in result.output or "name" in result.output
    assert project.sql("select * from y") == [(1,)]
    assert project.sent_lines() == []


def test_sync_errors_keeps_the_reason_not_the_payload(project: Project) -> None:
    marker = "PAYLOAD-MARKER-" + "z" * 3000
    with make_standin("customerio") as standin:
        standin.setup_faults("", 0.0)
        project.update_model("score = 3", f"plan = '{marker}'")
        project.write_config(
            [sync_entry(project, "customerio")],
            destinations={"customerio": destination_config("customerio", standin)},
        )
        project.cli("run", expect=7)
    rows = project.sql("select message from plg_sync.sync_errors")
    assert len(rows) == 1
    assert "PAYLOAD-MARKER" not in rows[0][0] and len(rows[0][0]) <= 1000


def test_secret_values_print_masked() -> None:
    from sync.secrets import Secret

    s = Secret(CANARY)
    assert CANARY not in repr(s) + str(s) + f"{s}" + repr({"k": s})
    assert Path  # keep import used
