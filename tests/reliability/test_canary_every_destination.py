"""The acceptance canary of issue 15: a registered secret never leaks, in any derived form.

Every destination is driven through 400, 401, 403, 413, 429 and 500 answers that echo the
request's headers (Authorization: Basic / Bearer), its path and its body (a Salesforce login
form carries `client_secret` URL-encoded) back in every field a parser might surface
(`message`, `error`, `errors[]`, Salesforce's error list, Slack's text body). Afterwards the
canary must be absent, raw, as the base64 Basic pair, URL-encoded and lower-cased, from
stdout, stderr, the log records, a log file, and every state table.

An API gateway or debugging proxy that echoes requests is ordinary; the fix (issue 15, item
1) redacts every text from a response where it enters the program.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.reliability.conftest import FAST, FULL, REPO
from tests.standins.base import Request, Response, StandIn
from tests.sync.conftest import Project, people

# Upper case, `+`, `=` and `!`: its URL-encoded and lower-cased forms differ from it.
CANARY = "Cn4ryS3cr3t+Key=77d1e0!"
SITE = "site-canary"
CLIENT_ID = "3MVGcanary"
FORMS = {
    "raw": CANARY,
    "base64 Basic pair": base64.b64encode(f"{SITE}:{CANARY}".encode()).decode(),
    "base64 of the secret": base64.b64encode(CANARY.encode()).decode(),
    "URL-encoded": quote(CANARY, safe=""),
    "URL-encoded (form)": quote(CANARY, safe="").replace("%20", "+"),
    "lower-cased": CANARY.lower(),
}
STATUSES = (400, 401, 403, 413, 429, 500)
DESTINATIONS = ("customerio", "hubspot", "salesforce", "slack", "webhook")
STATE_TABLES = ("sync_state", "sync_runs", "sync_errors", "sync_plans", "sync_leases")


class EchoingApi(StandIn):
    """Answers every request with `status`, quoting the request back in every error field.

    `echo_login=False` lets a Salesforce login succeed (so data calls are made and echoed);
    `True` echoes the login form itself (client_secret, URL-encoded).
    """

    name = "echoing-api"

    def __init__(self, status: int, echo_login: bool = True) -> None:
        super().__init__()
        self.status = status
        self.echo_login = echo_login

    def handle(self, request: Request) -> Response:
        if request.path.endswith("/services/oauth2/token") and not self.echo_login:
            return Response(200, {"access_token": "00Dsession!canary", "instance_url": self.url})
        echo = (
            f"you sent {request.method} {request.path} headers={json.dumps(request.headers)}"
            f" body={request.body.decode(errors='replace')}"
        )
        headers = {"Retry-After": "0"} if self.status == 429 else {}
        if "/services/" in request.path and "/data/" in request.path:  # Salesforce REST
            body: Any = [{"message": echo, "errorCode": "INVALID_FIELD", "fields": []}]
        elif request.path.startswith("/services/T"):  # a Slack webhook answers in text
            return Response(self.status, f"invalid_payload {echo}", headers)
        else:
            body = {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": echo,
                "error": echo,
                "error_description": echo,
                "errors": [{"message": echo, "reason": echo, "field": "batch"}],
            }
        return Response(self.status, body, headers)


def _config(project: Project, kind: str, api: EchoingApi) -> None:
    """One sync of the 6-row model to `kind`, every credential the canary (from the env)."""
    fast = FAST | {"max_retries": 2}
    dest: dict[str, Any]
    if kind == "customerio":
        dest = {
            "type": kind,
            "site_id": SITE,
            "api_key": {"env": "CANARY_KEY"},
            "base_url": api.url,
        }
    elif kind == "hubspot":
        dest = {"type": kind, "access_token": {"env": "CANARY_KEY"}, "base_url": api.url}
    elif kind == "salesforce":
        dest = {"type": kind, "client_id": CLIENT_ID, "client_secret": {"env": "CANARY_KEY"}}
        dest["login_url"] = api.url
    elif kind == "webhook":  # the secret in the URL's query and in a header
        dest = {
            "type": kind,
            "url": {"env": "CANARY_HOOK_URL"},
            "headers": {"X-Api-Key": {"env": "CANARY_KEY"}},
        }
    else:
        dest = {"type": kind, "webhook_url": {"env": "CANARY_WEBHOOK"}, "max_in_flight": 1}
        fast.pop("burst")
    dest |= fast
    entry: dict[str, Any] = {"batch_size": 3, "checkpoint_every": 3}
    if kind == "customerio":
        entry |= {"object": "person", "identifier": {"id": "sync_key"}}
    elif kind == "hubspot":
        entry |= {"object": "contacts", "identifier": {"email": "email"}}
    elif kind == "webhook":
        entry |= {"object": "person", "identifier": {"id": "sync_key"}}
    elif kind == "salesforce":
        entry |= {
            "object": "Account",
            "identifier": {"PLG_Account_Id__c": "sync_key"},
            "options": {"field_map": {"email": "Name", "plan": "PLG_Plan__c"}},
        }
    else:
        entry |= {
            "object": "message",
            "mode": "event",
            "options": {
                "mrr_column": "score",
                "account_column": "email",
                "signal_column": "plan",
                "reason_column": "plan",
                "plan_column": "plan",
                "user_column": None,
            },
        }
    project.write_config([project.sync_entry(destination=kind, **entry)], destinations={kind: dest})


def _leaks(texts: dict[str, str]) -> list[str]:
    return [
        f"{form} in {where}"
        for where, text in texts.items()
        for form, value in FORMS.items()
        if value in text
    ]


def _state_tables(project: Project) -> dict[str, str]:
    return {t: repr(project.sql(f"select * from plg_sync.{t}")) for t in STATE_TABLES}


@pytest.fixture
def canary_project(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("CANARY_KEY", CANARY)
    project.set_model(people(6))
    return project


def _cases() -> list[Any]:
    cases: list[Any] = [(d, s, True) for d in DESTINATIONS for s in STATUSES]
    cases += [("salesforce", s, False) for s in STATUSES]  # login ok: data calls are echoed
    return cases


@pytest.mark.parametrize(("kind", "status", "echo_login"), _cases())
def test_the_canary_never_leaks_whatever_the_destination_answers(
    canary_project: Project,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    status: int,
    echo_login: bool,
) -> None:
    project = canary_project
    caplog.set_level(logging.DEBUG)
    with EchoingApi(status, echo_login) as api:
        monkeypatch.setenv("CANARY_WEBHOOK", f"{api.url}/services/T0CANARY/B0CANARY/{CANARY}")
        monkeypatch.setenv("CANARY_HOOK_URL", f"{api.url}/hooks/ingest?token={quote(CANARY)}")
        _config(project, kind, api)
        runs = [
            project.cli("-v", "run", expect=None),
            project.cli("--log-format", "json", "status", expect=None),
        ]
        if FULL:
            runs.append(project.cli("--log-format", "json", "-v", "run", expect=None))
            runs.append(project.cli("status", expect=None))
        assert api.requests > 0
    assert runs[0].exit_code in (6, 7), runs[0].output  # the answers were errors
    texts: dict[str, str] = {}
    for i, r in enumerate(runs):
        texts[f"stdout of command {i}"] = r.stdout
        texts[f"stderr of command {i}"] = r.stderr
    texts["log records"] = caplog.text
    texts.update(_state_tables(project))
    assert _leaks(texts) == []
    assert any(r.exit_code for r in runs)


@pytest.mark.parametrize(
    "kind",
    DESTINATIONS if FULL else ("customerio", "salesforce"),
)  # the CLI as a scheduler runs it: stdout and stderr to files
def test_the_canary_never_reaches_a_log_file(
    canary_project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    project = canary_project
    with EchoingApi(400) as api:
        monkeypatch.setenv("CANARY_WEBHOOK", f"{api.url}/services/T0CANARY/B0CANARY/{CANARY}")
        monkeypatch.setenv("CANARY_HOOK_URL", f"{api.url}/hooks/ingest?token={quote(CANARY)}")
        _config(project, kind, api)
        log, out = tmp_path / "plg-sync.log", tmp_path / "plg-sync.out"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with log.open("w") as err_fh, out.open("w") as out_fh:
            proc = subprocess.run(
                [sys.executable, "-m", "sync.cli", "--config", str(project.config), "-v", "run"],
                cwd=project.root,
                env=env,
                stdout=out_fh,
                stderr=err_fh,
                timeout=120,
            )
    assert proc.returncode in (6, 7)
    texts = {"log file": log.read_text(), "stdout file": out.read_text()}
    texts.update(_state_tables(project))
    assert _leaks(texts) == []
