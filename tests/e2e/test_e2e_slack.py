"""Demo warehouse -> `plg-sync run` -> Slack incoming-webhook stand-in.

Every new signal event on an account at or above the MRR threshold becomes exactly one
message saying who, what, plan and MRR; events below the threshold and changed events post
nothing. The stand-in limits at 100 messages/s here (Slack's own 1/s would make the test
wait a minute); pacing at 1/s is covered in tests/destinations/test_slack.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import FAST, Warehouse
from tests.standins.slack import SlackStandIn

pytestmark = pytest.mark.slow

THRESHOLD = 500
SECRET_PATH = "/services/T0E2E/B0E2E/CANARY-e2e-s3cr3t-4b7a1c"


@pytest.fixture(scope="module")
def slack(warehouse: Warehouse, canary_env: pytest.MonkeyPatch) -> Iterator[SlackStandIn]:
    with SlackStandIn(secret_path=SECRET_PATH, rate_limit=100) as standin:
        canary_env.setenv("E2E_SLACK_WEBHOOK_URL", standin.webhook_url)
        warehouse.destination = "slack"
        warehouse.write_config(
            destinations={
                "slack": {
                    "type": "slack",
                    "webhook_url": {"env": "E2E_SLACK_WEBHOOK_URL"},
                    **FAST,
                    "requests_per_second": 50,
                    "burst": 5,
                    "max_in_flight": 1,
                }
            },
            syncs=[
                {
                    "name": "slack_signals",
                    "model": "sync_signal_events",
                    "destination": "slack",
                    "object": "message",
                    "mode": "event",
                    "identifier": {"id": "sync_key"},
                    "options": {
                        "mrr_threshold": THRESHOLD,
                        "signal_column": "event_name",
                        "user_column": "email",
                    },
                }
            ],
        )
        yield standin


@pytest.fixture(scope="module")
def first_runs(warehouse: Warehouse, slack: SlackStandIn) -> dict[str, dict[str, Any]]:
    return warehouse.run("slack_signals")


def expected_text(row: dict[str, Any]) -> str:
    who = f" — {row['email']}" if row["email"] else ""
    return (
        f"{row['account_name']} crossed {row['event_name']} "
        f"(plan {row['plan']}, MRR ${row['mrr']:,.0f}){who}"
    )


def test_first_run_posts_one_message_per_event_above_the_threshold(warehouse, slack, first_runs):
    events = warehouse.model("sync_signal_events").values()
    wanted = Counter(expected_text(r) for r in events if r["mrr"] >= THRESHOLD)
    assert first_runs["slack_signals"]["status"] == "succeeded"
    assert first_runs["slack_signals"]["succeeded"] == len(events)  # below threshold: acked
    assert Counter(m["text"] for m in slack.messages) == wanted
    header = slack.messages[0]["blocks"][0]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "New product signal"},
    }


def test_second_run_sends_zero_requests(warehouse, slack, first_runs):
    before = slack.requests
    runs = warehouse.run("slack_signals")
    assert slack.requests == before
    assert (runs["slack_signals"]["planned"], runs["slack_signals"]["requests"]) == (0, 0)


def test_n_new_signals_post_exactly_n_and_changed_ones_post_nothing(warehouse, slack, first_runs):
    rows = warehouse.model("sync_signal_events")
    big = sorted(k for k, r in rows.items() if r["mrr"] >= THRESHOLD)
    for i in range(3):
        warehouse.add_copy(
            "sync_signal_events",
            big[0],
            {"sync_key": f"'e2e-signal-{i}'", "account_name": f"'E2E Account {i}'"},
        )
    warehouse.update("sync_signal_events", "reason = 'edited'", f"sync_key = '{big[1]}'")
    posted = len(slack.messages)
    runs = warehouse.run("slack_signals")

    run = runs["slack_signals"]
    assert (run["added"], run["changed"], run["succeeded"]) == (3, 1, 4)
    new = slack.messages[posted:]
    assert len(new) == 3
    assert sorted(m["text"].split(" crossed ")[0] for m in new) == [
        "E2E Account 0",
        "E2E Account 1",
        "E2E Account 2",
    ]


def test_nan_mrr_is_logged_not_synced_and_posts_once_fixed(warehouse, slack, first_runs):
    template = sorted(warehouse.model("sync_signal_events"))[0]
    warehouse.add_copy(
        "sync_signal_events",
        template,
        {"sync_key": "'e2e-signal-nan'", "mrr": "'nan'::double", "account_name": "'NaN Inc'"},
    )
    posted = len(slack.messages)
    runs = warehouse.run("slack_signals", expect=7)

    assert (runs["slack_signals"]["succeeded"], runs["slack_signals"]["failed"]) == (0, 1)
    (error,) = warehouse.errors("slack_signals")
    assert (error["sync_key"], error["error_code"]) == ("e2e-signal-nan", "invalid_value")
    assert "field 'mrr' is nan" in error["message"]
    assert "e2e-signal-nan" not in warehouse.state_keys("slack_signals")
    assert len(slack.messages) == posted

    warehouse.update("sync_signal_events", "mrr = 4200", "sync_key = 'e2e-signal-nan'")
    runs = warehouse.run("slack_signals")
    assert runs["slack_signals"]["succeeded"] == 1
    assert slack.messages[-1]["text"].startswith("NaN Inc crossed")
    assert "MRR $4,200" in slack.messages[-1]["text"]


def test_webhook_url_never_in_state_tables(warehouse, slack, first_runs):
    warehouse.assert_no_canary_in_tables()
