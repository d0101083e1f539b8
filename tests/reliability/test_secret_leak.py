"""Regression (issue 15, item 1): a destination answer that echoes the request's credentials
must not carry them into any output or state table.

An API gateway or a debugging proxy that answers 400/413 with the request's headers and body
in the error text is ordinary: Customer.io's Track API puts free text in `errors[].message`
(tests/contracts/customerio). Our Customer.io client authenticates with HTTP Basic, so the
echoed header holds base64(`site_id:api_key`), a form of the secret that differs from the
raw key. Before the fix, this base64 form reached stderr ("First reasons: ..."),
`sync_errors.message`, `sync_runs.error` and `status --log-format json`.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest

from tests.reliability.conftest import CANARY, destination_config, sync_entry
from tests.standins.base import Request, Response, StandIn
from tests.sync.conftest import Project


class EchoingGateway(StandIn):
    """Answers every batch with 413 (several operations) or 400 (one operation), quoting the
    request's Authorization header, the bare credential from it, and the start of the body."""

    name = "echoing-gateway"

    def handle(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        bare = auth.split(" ", 1)[-1]
        operations = len(request.json().get("batch") or [])
        status = 413 if operations > 1 else 400
        echo = f"request headers: Authorization: {auth}; credential {bare}; body {request.body[:120]!r}"
        return Response(
            status,
            {"errors": [{"reason": "invalid request", "message": echo, "field": "batch"}]},
        )


def test_echoed_basic_auth_never_reaches_output_or_state(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = base64.b64encode(f"site-rel:{CANARY}".encode()).decode()
    with EchoingGateway() as gateway:
        project.set_model([(f"user{i}@example.com", "free", i) for i in range(8)])
        project.write_config(
            [sync_entry(project, "customerio")],
            destinations={"customerio": destination_config("customerio", gateway)},
        )
        run = project.cli("-v", "run", expect=7)
        status = project.cli("--log-format", "json", "status", expect=0)
        assert gateway.requests > 1  # the batch was bisected down to single operations

    errors = project.sql("select message from plg_sync.sync_errors")
    runs = project.sql("select error from plg_sync.sync_runs")
    assert len(errors) == 8 and all(m and "Customer.io rejected" in m for (m,) in errors)
    assert runs and runs[0][0] and "failed" in runs[0][0]
    status_docs = [json.loads(line) for line in status.stdout.splitlines() if line.strip()]
    assert status_docs and status_docs[0]["status"] == "failed"

    texts = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        "log records": caplog.text,
        "sync_errors.message": repr(errors),
        "sync_runs.error": repr(runs),
        "status --log-format json": status.stdout,
    }
    leaks = [
        f"{form} in {where}"
        for where, text in texts.items()
        for form, value in (("base64 site_id:api_key", basic), ("raw api_key", CANARY))
        if value in text
    ]
    assert leaks == []
    assert "***" in texts["sync_errors.message"]  # masked, not dropped: the reason is kept


def test_a_secret_url_printed_with_a_lower_cased_host_is_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """httpx (like most servers and proxies) prints a URL with its host lower-cased, so a
    secret in the host came back in a form a case-sensitive match missed."""
    import httpx

    from sync.output import setup_logging
    from sync.secrets import Secret, redact

    url = "https://Tenant-Qx7Wv3PpL.hooks.example.com/in/AbC123"
    Secret(url)  # what sync.yml's `url: {env: HOOK_URL}` resolves to
    printed = str(httpx.URL(url))
    assert printed == "https://tenant-qx7wv3ppl.hooks.example.com/in/AbC123"
    assert redact(f"cannot reach {printed}") == "cannot reach ***"
    setup_logging("json", verbosity=1)
    logging.getLogger("sync.http.client").debug("retrying %s after http_503", printed)
    err = capsys.readouterr().err
    assert "retrying" in err
    assert "tenant-qx7wv3ppl" not in err.lower() and "abc123" not in err.lower()
