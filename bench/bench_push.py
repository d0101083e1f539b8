"""Measure push throughput against each stand-in with the vendor's published limit enforced.

Not a test: prints records/s next to the ceiling the limit implies, and the 429s received.
Run from the repo root:  .venv/bin/python bench/bench_push.py [--records 50000] [--only hubspot]

The destinations run with their default pacing (only the base URL points at a stand-in), so
this shows how close the defaults get to each ceiling without crossing it.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.destinations.customerio import CustomerIo
from sync.destinations.hubspot import HubSpot
from sync.destinations.salesforce import Salesforce
from sync.destinations.slack import Slack
from sync.http import reset_gates
from sync.records import Change
from tests.standins.customerio import CustomerIoStandIn
from tests.standins.hubspot import HubSpotStandIn
from tests.standins.salesforce import SalesforceStandIn
from tests.standins.slack import SlackStandIn
from tests.standins.spec import Spec

AT = datetime(2024, 6, 1, tzinfo=UTC)
CHUNK = 5000  # what the engine hands send() at a time


def rows(n: int) -> list[dict]:
    return [
        {
            "user_id": f"u{i}",
            "account_id": f"acct_{i}",
            "plg_pql_score": i % 100,
            "plg_plan": "team",
            "plg_last_seen_at": AT,
        }
        for i in range(n)
    ]


def push(dest, spec, changes) -> tuple[int, float]:
    started = time.monotonic()
    ok = 0
    for start in range(0, len(changes), CHUNK):
        ok += sum(o.ok for o in dest.send(spec, changes[start : start + CHUNK]))
    return ok, time.monotonic() - started


def report(name, n, ok, seconds, ceiling, standin, dest, note="") -> None:
    rate = ok / seconds if seconds else 0
    share = f"{rate / ceiling:.0%} of ceiling" if ceiling else "no published per-second limit"
    print(
        f"{name:<11} {ok:>6}/{n:<6} records in {seconds:6.1f}s = {rate:8.0f} rec/s | "
        f"ceiling {ceiling or '-':>7} rec/s ({share}) | requests {standin.requests:>4} | "
        f"429s {standin.throttled} (client saw {dest.stats.throttled}) {note}"
    )


def bench_customerio(n: int) -> None:
    with CustomerIoStandIn(rate_limit=100, rate_window=1.0) as standin:
        dest = CustomerIo(
            "cio",
            CustomerIo.Options(site_id="site-1", api_key="key-1", base_url=standin.url),
        )
        spec = Spec(object="person", identifier={"id": "user_id"})
        changes = [Change("add", r["user_id"], "h", r) for r in rows(n)]
        ok, seconds = push(dest, spec, changes)
        per_request = n / max(1, standin.requests - standin.throttled)
        report(
            "customerio",
            n,
            ok,
            seconds,
            int(100 * per_request),
            standin,
            dest,
            f"(100 req/s x {per_request:.0f} ops/batch)",
        )


def bench_hubspot(n: int) -> None:
    with HubSpotStandIn(token="pat-1", rate_limit=190, rate_window=10.0) as standin:
        for name in ("plg_account_id",):
            standin.add_property("companies", name, hasUniqueValue=True)
        for name, kind in (
            ("plg_pql_score", "number"),
            ("plg_plan", "string"),
            ("plg_last_seen_at", "datetime"),
            ("user_id", "string"),
        ):
            standin.add_property("companies", name, kind)
        dest = HubSpot("hubspot", HubSpot.Options(access_token="pat-1", base_url=standin.url))
        spec = Spec(object="companies", identifier={"plg_account_id": "account_id"})
        changes = [Change("add", r["account_id"], "h", r) for r in rows(n)]
        ok, seconds = push(dest, spec, changes)
        report("hubspot", n, ok, seconds, 1900, standin, dest, "(190 req/10s x 100)")


def bench_salesforce(n: int) -> None:
    with SalesforceStandIn() as standin:
        standin.schema["Account"]["user_id"] = {"name": "user_id", "type": "string"}
        dest = Salesforce(
            "sf",
            Salesforce.Options(login_url=standin.url, client_id="cid", client_secret="csecret"),
        )
        spec = Spec(
            object="Account",
            identifier={"PLG_Account_Id__c": "account_id"},
            options={
                "field_map": {
                    "plg_pql_score": "PLG_Score__c",
                    "plg_plan": "PLG_Plan__c",
                    "plg_last_seen_at": "PLG_Last_Seen_At__c",
                }
            },
        )
        changes = [Change("add", r["account_id"], "h", r) for r in rows(n)]
        ok, seconds = push(dest, spec, changes)
        report("salesforce", n, ok, seconds, None, standin, dest, "(paced at 20 req/s x 200)")


def bench_slack(n: int) -> None:
    with SlackStandIn(rate_limit=1, rate_window=1.0) as standin:
        dest = Slack("slack", Slack.Options(webhook_url=standin.webhook_url))
        spec = Spec(object="message", identifier={}, mode="event")
        changes = [
            Change("add", f"e{i}", "h", {"account_name": f"A{i}", "signal_name": "pql", "mrr": 900})
            for i in range(n)
        ]
        ok, seconds = push(dest, spec, changes)
        # n messages at 1/s take n-1 seconds after the first: that is the ceiling.
        report(
            "slack",
            n,
            ok,
            seconds,
            None,
            standin,
            dest,
            f"(1 msg/s: ideal {max(1, n - 1)}s for {n})",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--slack-messages", type=int, default=10)
    parser.add_argument("--only", choices=["customerio", "hubspot", "salesforce", "slack"])
    args = parser.parse_args()
    benches = {
        "customerio": lambda: bench_customerio(args.records),
        "hubspot": lambda: bench_hubspot(args.records),
        "salesforce": lambda: bench_salesforce(args.records),
        "slack": lambda: bench_slack(args.slack_messages),
    }
    for name, run in benches.items():
        if args.only in (None, name):
            reset_gates()
            run()


if __name__ == "__main__":
    main()
