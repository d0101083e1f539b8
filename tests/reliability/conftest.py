"""Reliability suite fixtures: fault-injecting stand-ins, a tiny sync project, and figures.

Quick by default (part of `make test`); `make reliability` sets PLG_RELIABILITY_FULL=1, which
also runs the tests marked `reliability_full` and writes the figures that
`tests/reliability/report.py` turns into the table in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.http import reset_gates
from tests.standins.base import Request, Response, StandIn
from tests.standins.customerio import CustomerIoStandIn
from tests.standins.hubspot import HubSpotStandIn
from tests.standins.salesforce import SalesforceStandIn
from tests.sync.conftest import Project, people

FULL = os.environ.get("PLG_RELIABILITY_FULL") == "1"
HERE = Path(__file__).parent
REPO = HERE.parents[1]
FIGURES_FILE = REPO / "target" / ("reliability_figures.json" if FULL else "reliability_quick.json")
CANARY = "CANARY-rel-s3cr3t-77d1e0"  # every credential of this suite

# Fast pacing so a faulty run takes seconds; timeouts short enough to inject cheaply.
FAST = {
    "requests_per_second": 2000,
    "burst": 200,
    "timeout_seconds": 0.25,
    "backoff_initial_seconds": 0.005,
    "backoff_max_seconds": 0.05,
    "max_retry_after_seconds": 0.05,
    "max_retries": 6,
    # The fault matrix measures retries under flaky answers (60% resets/timeouts included),
    # not the circuit breaker; test_circuit_breaker.py covers the breaker with its defaults.
    "unreachable_after_failures": 25,
}

FIGURES: dict[str, list[dict[str, Any]]] = {"faults": [], "crashes": [], "bad_input": []}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FULL:
        return
    skip = pytest.mark.skip(reason="full reliability run only: make reliability")
    for item in items:
        if HERE in Path(str(item.fspath)).parents and "reliability_full" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not any(FIGURES.values()):
        return
    FIGURES_FILE.parent.mkdir(exist_ok=True)
    FIGURES_FILE.write_text(json.dumps({"full": FULL, **FIGURES}, indent=1, default=str))


@pytest.fixture(autouse=True)
def _fresh_rate_limiters() -> Iterator[None]:
    reset_gates()
    yield
    reset_gates()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The tiny one-table sync project of tests/sync, with canary credentials in the env."""
    for var in ("CIO_KEY", "HS_TOKEN", "SF_SECRET", "T_API_KEY"):
        monkeypatch.setenv(var, CANARY)
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    monkeypatch.delenv("T_DUCKDB_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    p = Project(tmp_path)
    p.set_model(people(50))
    return p


# --- fault injection at a rate --------------------------------------------------------------

KINDS = ("429", "5xx", "timeout", "reset", "partial")


class FaultyMixin:
    """Misbehave on a share of requests (`rate`) with one `kind`, and count what happened.

    - 429: rate-limited with Retry-After (bursts: a fault repeats on the next 0-2 requests);
    - 5xx: 500/502/503 with a JSON or HTML body; timeout: answer (and apply!) after the
      client's timeout, so a retry delivers twice; reset: close the connection unanswered;
    - partial: the stand-in's own per-record failure (`fail_rate`).
    """

    kind: str = ""
    rate: float = 0.0
    injected: int = 0
    accepted: Counter[str]
    times: list[float]

    def setup_faults(self, kind: str, rate: float, seed: int = 11) -> None:
        self.kind, self.rate, self.injected = kind, rate, 0
        self.fault_random = random.Random(seed)
        self.burst_left = 0
        self.accepted = Counter()
        self.times = []
        self.fault_lock = threading.Lock()
        if kind == "partial":
            self.fail_rate = rate  # type: ignore[attr-defined]

    def dispatch(self, request: Request) -> Response | None:
        with self.fault_lock:
            self.times.append(time.monotonic())
            hit = False
            if self.kind not in ("", "partial") and not request.path.endswith("/token"):
                if self.burst_left > 0:
                    self.burst_left -= 1
                    hit = True
                elif self.fault_random.random() < self.rate:
                    hit = True
                    if self.kind == "429":
                        self.burst_left = self.fault_random.randint(0, 2)
            if hit:
                self.injected += 1
            status = self.fault_random.choice((500, 502, 503))
        if hit and self.kind == "429":
            return self.rate_limited(0.01)  # type: ignore[attr-defined]
        if hit and self.kind == "5xx":
            if status == 502:
                return Response(502, "<html><title>502 Bad Gateway</title></html>")
            return Response(status, {"message": "internal error"})
        if hit and self.kind == "reset":
            with self.lock:  # type: ignore[attr-defined]
                self.requests += 1  # type: ignore[attr-defined]
            return None
        if hit and self.kind == "timeout":
            time.sleep(FAST["timeout_seconds"] + 0.1)
        response = super().dispatch(request)  # type: ignore[misc]
        if response is not None:
            self.count_accepted(request, response)
        return response

    def count_accepted(self, request: Request, response: Response) -> None:  # per stand-in
        pass


class FaultyCustomerIo(FaultyMixin, CustomerIoStandIn):
    def _apply(self, op: dict[str, Any]) -> None:
        super()._apply(op)
        self.accepted[str(op["identifiers"].get("id"))] += 1


class FaultyHubSpot(FaultyMixin, HubSpotStandIn):
    def count_accepted(self, request: Request, response: Response) -> None:
        body = response.body
        if request.path.endswith("/batch/upsert") and isinstance(body, dict):
            for r in body.get("results") or []:
                self.accepted[str(r["properties"]["email"])] += 1


class FaultySalesforce(FaultyMixin, SalesforceStandIn):
    def count_accepted(self, request: Request, response: Response) -> None:
        if request.method == "PATCH" and isinstance(response.body, list):
            records = request.json()["records"]
            for record, result in zip(records, response.body, strict=True):
                if result["success"]:
                    self.accepted[str(record["PLG_Account_Id__c"])] += 1


def destination_config(kind: str, standin: StandIn) -> dict[str, Any]:
    """The `destinations:` entry for a stand-in, every credential a canary from the env."""
    if kind == "customerio":
        return {
            "type": "customerio",
            "site_id": "site-rel",
            "api_key": {"env": "CIO_KEY"},
            "base_url": standin.url,
            **FAST,
        }
    if kind == "hubspot":
        return {
            "type": "hubspot",
            "access_token": {"env": "HS_TOKEN"},
            "base_url": standin.url,
            **FAST,
        }
    return {
        "type": "salesforce",
        "login_url": standin.url,
        "client_id": "3MVGrel",
        "client_secret": {"env": "SF_SECRET"},
        **FAST,
    }


def make_standin(kind: str, cls_prefix: str = "Faulty") -> Any:
    if kind == "customerio":
        return FaultyCustomerIo(site_id="site-rel", api_key=CANARY)
    if kind == "hubspot":
        s = FaultyHubSpot(token=CANARY)
        s.add_property("contacts", "plan")
        s.add_property("contacts", "score", "number")
        return s
    return FaultySalesforce(client_id="3MVGrel", client_secret=CANARY)


def sync_entry(project: Project, kind: str, **overrides: Any) -> dict[str, Any]:
    """A sync of the project's `sync_people` (email, plan, score) to one destination object."""
    base: dict[str, Any] = {"batch_size": 50, "checkpoint_every": 100}
    if kind == "customerio":
        base |= {"object": "person", "identifier": {"id": "sync_key"}}
    elif kind == "hubspot":
        base |= {"object": "contacts", "identifier": {"email": "email"}}
    else:
        base |= {
            "object": "Account",
            "identifier": {"PLG_Account_Id__c": "sync_key"},
            "options": {
                "field_map": {"email": "Name", "plan": "PLG_Plan__c", "score": "PLG_Score__c"}
            },
        }
    return project.sync_entry(destination=kind, **(base | overrides))


def destination_rows(kind: str, standin: Any) -> dict[str, tuple[str, str, float]]:
    """Destination records as {key: (email, plan, score)}, to compare with the model."""
    if kind == "customerio":
        return {
            k: (v.get("email"), v.get("plan"), float(v.get("score")))
            for k, v in standin.people.items()
        }
    if kind == "hubspot":
        return {
            k: (v.get("email"), v.get("plan"), float(v.get("score")))
            for k, v in standin.records["contacts"].items()
        }
    return {
        k: (v.get("Name"), v.get("PLG_Plan__c"), float(v.get("PLG_Score__c")))
        for k, v in standin.records.get("Account", {}).items()
    }
