"""Slack destination against its stand-in: alerts for valuable accounts, paced per webhook."""

from __future__ import annotations

import logging
import time

import pytest

from sync.destinations.slack import Slack
from sync.errors import DestinationError
from sync.records import Change
from tests.destinations.conftest import CANARY, FAST
from tests.standins.slack import SlackStandIn
from tests.standins.spec import Spec

ALERTS = Spec(
    object="message",
    identifier={},
    mode="event",
    options={"mrr_threshold": 500, "link_columns": ["hubspot_url"]},
)


@pytest.fixture
def slack() -> SlackStandIn:
    with SlackStandIn(secret_path=f"/services/T01/B02/{CANARY}", rate_limit=None) as standin:
        yield standin


def make(standin: SlackStandIn, **overrides) -> Slack:
    options = Slack.Options.model_validate(
        {"webhook_url": standin.webhook_url, **FAST, **overrides}
    )
    return Slack("slack", options)


def signal(i: int, mrr: float, **fields) -> Change:
    row = {
        "account_name": f"Acme {i} <Ltd>",
        "signal_name": "became_pql",
        "reason": "invited 5 teammates in 7 days",
        "plan": "team",
        "mrr": mrr,
        "user_email": f"owner{i}@acme.test",
        "hubspot_url": f"https://app.hubspot.com/contacts/1/company/{i}",
        **fields,
    }
    return Change("add", f"evt{i}", "h", row)


def test_only_new_signals_above_the_mrr_threshold_post(slack):
    dest = make(slack)
    changes = [signal(1, 1200), signal(2, 100), signal(3, 500)]
    changes.append(Change("change", "evt1", "h2", changes[0].fields))
    outcomes = dest.send(ALERTS, changes)
    assert all(o.ok for o in outcomes)
    assert len(slack.messages) == 2
    assert dest.stats.extra["skipped_below_threshold"] == 1


def test_message_says_who_what_why_plan_mrr_and_links(slack):
    make(slack).send(ALERTS, [signal(1, 1200)])
    (message,) = slack.messages
    assert message["text"] == (
        "Acme 1 &lt;Ltd&gt; crossed became_pql (plan team, MRR $1,200) — owner1@acme.test"
    )
    rendered = str(message["blocks"])
    for expected in ("invited 5 teammates", "*Plan*\\nteam", "$1,200", "owner1@acme.test"):
        assert expected in rendered
    assert "<https://app.hubspot.com/contacts/1/company/1|hubspot>" in rendered


def test_messages_are_paced_at_one_per_second_per_webhook(slack):
    from tests.standins.base import SlidingWindow

    # Slack's 1 message/s per webhook, scaled down to 5/s to keep the test short; the pacing
    # (3/s) leaves 0.13 s of slack per message for scheduling jitter on a busy machine
    slack.limiter = SlidingWindow(1, 0.2)
    dest = make(slack, requests_per_second=3, burst=1)
    started = time.monotonic()
    outcomes = dest.send(ALERTS, [signal(i, 1000) for i in range(4)])
    elapsed = time.monotonic() - started
    assert all(o.ok for o in outcomes)
    assert len(slack.messages) == 4
    assert elapsed >= 3 / 3 - 0.05
    assert slack.throttled == 0


def test_429_retry_after_is_honoured(slack):
    dest = make(slack, max_retry_after_seconds=1)
    slack.inject("status", status=429, times=2, body="rate_limited", headers={"Retry-After": "0.3"})
    started = time.monotonic()
    outcomes = dest.send(ALERTS, [signal(1, 1000)])
    assert outcomes[0].ok
    assert time.monotonic() - started >= 0.6
    assert dest.stats.throttled == 2


def test_non_finite_mrr_is_a_permanent_error_for_that_event(slack):
    outcomes = {
        o.key: o for o in make(slack).send(ALERTS, [signal(1, float("nan")), signal(2, 900)])
    }
    assert outcomes["evt1"].status == "permanent" and "'mrr'" in outcomes["evt1"].message
    assert outcomes["evt2"].ok


def test_revoked_webhook_stops_the_run_and_the_url_is_never_shown(slack, caplog):
    caplog.set_level(logging.DEBUG)
    dest = make(slack)
    slack.secret_path = "/services/other"  # the webhook was deleted in Slack
    with pytest.raises(DestinationError, match="revoked") as err:
        dest.send(ALERTS, [signal(1, 1000)])
    assert CANARY not in str(err.value) + caplog.text + repr(dest.options)


def test_webhook_url_is_masked_in_retry_logs(slack, caplog):
    caplog.set_level(logging.DEBUG)
    dest = make(slack, max_retries=1)
    slack.inject("drop", times=5)
    outcomes = dest.send(ALERTS, [signal(1, 1000)])
    assert outcomes[0].status == "retryable"
    assert CANARY not in caplog.text + repr(outcomes)
