"""Slack incoming webhook messages, checked against Slack's documentation.

Source: Slack's incoming-webhook page, the Block Kit reference for header/section/context
blocks and the incoming-webhook error changelog (URLs in tests/contracts/slack/, read
2026-11-29). Every message must validate; every documented answer is replayed.
"""

from __future__ import annotations

from typing import Any

import pytest

from sync.destinations.slack import Slack
from sync.errors import DestinationError
from sync.records import Change
from tests.contracts.conftest import FAST, statuses
from tests.contracts.replay import ContractStandIn, as_response, documented
from tests.contracts.schemas import SLACK_WEBHOOK, problems
from tests.standins.base import Request, Response
from tests.standins.spec import Spec

HOOK = "/services/T0CONTRACT/B0CONTRACT/contractsecret"
ROUTES = {("POST", HOOK): SLACK_WEBHOOK}
SIGNALS = Spec(
    object="message",
    mode="event",
    identifier={},
    options={"mrr_threshold": 100, "link_columns": ["crm_url"]},
)


def make(standin: ContractStandIn) -> Slack:
    options = Slack.Options.model_validate({"webhook_url": standin.url + HOOK, **FAST})
    return Slack("slack", options)


def signal(i: int, **fields: Any) -> Change:
    row = {
        "account_name": f"Acme {i} <Ltd>",
        "signal_name": "became_pql",
        "reason": "3 admins invited & 2 integrations connected " * 3,
        "plan": "team",
        "mrr": 450.0,
        "user_email": f"owner{i}@example.com",
        "crm_url": f"https://crm.example.com/accounts/{i}",
        **fields,
    }
    return Change("add", f"s{i}", "h", row)


def reply(name: str) -> Any:
    def answer(request: Request, body: Any) -> Response:
        return as_response(documented("slack", name))

    return answer


def replay(name: str, count: int = 2) -> tuple[dict[str, str], int]:
    with ContractStandIn(ROUTES, reply(name)) as standin:
        outcomes = make(standin).send(SIGNALS, [signal(i) for i in range(count)])
        assert standin.violations == []
        return statuses(outcomes), len(standin.bodies)


def test_messages_match_the_webhook_and_block_kit_schema():
    long_name = "A" * 400  # the header and sections must stay inside Block Kit's limits
    with ContractStandIn(ROUTES, reply("ok")) as standin:
        make(standin).send(SIGNALS, [signal(1), signal(2, account_name=long_name)])
        assert len(standin.bodies) == 2
        assert standin.violations == []


def test_the_schema_refuses_an_overlong_header_and_a_message_without_text():
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    assert problems(SLACK_WEBHOOK, {"text": "t", "blocks": [header]}) != []
    assert problems(SLACK_WEBHOOK, {}) != []


def test_ok_acknowledges_each_message():
    assert replay("ok") == ({"s0": "ok", "s1": "ok"}, 2)


def test_invalid_payload_rejects_that_message():
    result, _ = replay("invalid_payload")
    assert result == {"s0": "permanent", "s1": "permanent"}


@pytest.mark.parametrize("name", ["action_prohibited", "channel_not_found", "channel_is_archived"])
def test_a_webhook_that_can_no_longer_post_stops_the_run(name: str):
    with ContractStandIn(ROUTES, reply(name)) as standin, pytest.raises(DestinationError) as err:
        make(standin).send(SIGNALS, [signal(1)])
    assert "contractsecret" not in str(err.value)


def test_413_rejects_that_message():
    result, _ = replay("too_large", count=1)
    assert result == {"s0": "permanent"}


@pytest.mark.parametrize("name", ["throttled", "rollup_error"])
def test_throttling_and_server_errors_that_persist_leave_messages_retryable(name: str):
    result, requests = replay(name, count=1)
    assert result == {"s0": "retryable"}
    assert requests == 1 + FAST["max_retries"]
