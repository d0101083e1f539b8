"""The generic webhook destination against a receiver that answers as docs/destinations.md
documents: JSON batches under count and byte limits, headers from env secrets, 2xx = every
record acknowledged unless per-item errors name some, bisection of rejected batches,
retries through the shared HTTP layer, and credentials that never leak."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from pathlib import Path

import pytest
import yaml

from sync.config import load_config
from sync.destinations.webhook import Webhook
from sync.errors import ConfigError, DestinationError
from sync.records import Change
from tests.destinations.conftest import CANARY, FAST
from tests.standins.spec import Spec
from tests.standins.webhook import WebhookStandIn
from tests.sync.conftest import Project

SPEC = Spec(object="account", identifier={"id": "sync_key"}, name="accounts", mode="upsert")


@pytest.fixture
def hook() -> WebhookStandIn:
    with WebhookStandIn(secret_path=f"/hooks/in/{CANARY}", token=CANARY) as standin:
        yield standin


def make(standin: WebhookStandIn, **overrides) -> Webhook:
    options = Webhook.Options.model_validate(
        {
            "url": standin.hook_url,
            "headers": {"Authorization": f"Bearer {standin.token}"},
            **FAST,
            **overrides,
        }
    )
    return Webhook("hook", options)


def change(i: int, op: str = "add", **fields) -> Change:
    values = {"id": f"a{i}", "plan": "pro", "mrr": decimal.Decimal("12.50"), **fields}
    return Change(op, f"a{i}", None if op == "remove" else f"h{i}", values)


def test_records_are_posted_in_json_batches_and_all_acknowledged(hook):
    dest = make(hook, max_batch_records=100)
    changes = [change(i, signed_up_at=dt.datetime(2026, 1, 2, 3, 4, 5)) for i in range(250)]
    outcomes = dest.send(SPEC, changes)
    assert [o.key for o in outcomes if o.ok] == [c.key for c in changes]
    assert sorted(len(b["records"]) for b in hook.batches) == [50, 100, 100]  # concurrent
    first = next(b for b in hook.batches if b["records"][0]["key"] == "a0")
    assert (first["sync"], first["object"], first["event_type"]) == ("accounts", "account", None)
    assert first["records"][0] == {
        "key": "a0",
        "op": "add",
        "hash": "h0",
        "fields": {"id": "a0", "plan": "pro", "mrr": 12.5, "signed_up_at": "2026-01-02T03:04:05Z"},
    }
    assert dest.stats.requests == 3


def test_batches_stay_under_the_byte_limit(hook):
    dest = make(hook, max_batch_bytes=5_000)
    dest.send(SPEC, [change(i, note="x" * 400) for i in range(40)])
    assert len(hook.batches) > 1 and len(hook.received) == 40
    assert max(hook.body_sizes) <= 5_000 and sum(hook.body_sizes) > 16_000


def test_a_record_larger_than_a_batch_fails_alone(hook):
    dest = make(hook, max_batch_bytes=2_000)
    outcomes = dest.send(SPEC, [change(1, note="y" * 3_000), change(2)])
    by_key = {o.key: o for o in outcomes}
    assert by_key["a1"].code == "record_too_large" and by_key["a1"].status == "permanent"
    assert by_key["a2"].ok


def test_the_same_batch_resent_carries_the_same_idempotency_key(hook):
    dest = make(hook)
    dest.send(SPEC, [change(1), change(2)])
    dest.send(SPEC, [change(1), change(2)])
    dest.send(SPEC, [change(1), Change("change", "a2", "h2-new", change(2).fields)])
    keys = hook.idempotency_keys
    assert keys[0] == keys[1] and keys[2] != keys[0] and len(keys[0]) == 32
    assert hook.batches[0]["batch_id"] == keys[0]


@pytest.mark.parametrize("by_index", [False, True])
def test_documented_per_item_errors_fail_only_the_named_records(hook, by_index):
    hook.reject_keys = {"a2"}
    hook.retryable_keys = {"a4"}
    hook.errors_by_index = by_index
    outcomes = {o.key: o for o in make(hook).send(SPEC, [change(i) for i in range(6)])}
    assert outcomes["a2"].status == "permanent" and outcomes["a2"].code == "invalid_email"
    assert "not deliverable" in outcomes["a2"].message
    assert outcomes["a4"].status == "retryable"
    assert {k for k, o in outcomes.items() if o.ok} == {"a0", "a1", "a3", "a5"}


def test_an_error_that_names_no_record_acknowledges_nothing(hook):
    hook.unattributed = True
    outcomes = make(hook).send(SPEC, [change(i) for i in range(3)])
    assert {o.status for o in outcomes} == {"retryable"}
    assert {o.code for o in outcomes} == {"unattributed_error"}


def test_a_rejected_batch_is_bisected_down_to_the_bad_record(hook):
    hook.bad_keys = {"a7"}
    outcomes = {o.key: o for o in make(hook).send(SPEC, [change(i) for i in range(16)])}
    assert outcomes["a7"].status == "permanent" and outcomes["a7"].code == "http_400"
    assert sum(o.ok for o in outcomes.values()) == 15
    assert set(hook.received) == {f"a{i}" for i in range(16)} - {"a7"}


def test_throttling_and_server_errors_are_retried_by_the_shared_layer(hook):
    hook.inject("status", times=1, status=429, headers={"Retry-After": "0"})
    hook.inject("status", times=2, status=503, body={"error": "busy"})
    dest = make(hook)
    outcomes = dest.send(SPEC, [change(1), change(2)])
    assert all(o.ok for o in outcomes)
    assert dest.stats.retries == 3 and dest.stats.throttled == 1


def test_retries_exhausted_leave_records_retryable(hook):
    hook.inject("status", times=50, status=500, body={"error": "down"})
    outcomes = make(hook, max_retries=2).send(SPEC, [change(1)])
    assert outcomes[0].status == "retryable" and outcomes[0].code == "http_500"


def test_refused_credentials_stop_the_run_without_leaking_them(hook):
    dest = make(hook, headers={"Authorization": "Bearer wrong-token-123"})
    with pytest.raises(DestinationError, match="HTTP 401") as err:
        dest.send(SPEC, [change(1)])
    assert CANARY not in str(err.value) and "wrong-token-123" not in str(err.value)


def test_values_json_cannot_carry_fail_their_record_only(hook):
    outcomes = {o.key: o for o in make(hook).send(SPEC, [change(1, score=float("nan")), change(2)])}
    assert outcomes["a1"].code == "invalid_value" and "NaN" in outcomes["a1"].message
    assert outcomes["a2"].ok


def test_echoed_credentials_are_masked_in_every_outcome(hook):
    hook.echo_credentials = True
    hook.bad_keys = {"a1"}
    hook.max_body_bytes = 600  # batches of several records answer 413, with the echo
    outcomes = make(hook).send(SPEC, [change(i) for i in range(4)])
    failed = [o for o in outcomes if not o.ok]
    assert failed and all(o.message for o in failed)
    basic = base64.b64encode(CANARY.encode()).decode()
    for o in outcomes:
        assert CANARY not in (o.message or "") and basic not in (o.message or "")


def test_options_name_the_field_when_sync_yml_is_wrong(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOOK_URL", "https://hooks.example.com/in/abc")
    config = tmp_path / "sync.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "destinations": {"hook": {"type": "webhook", "url": {"env": "HOOK_URL"}}},
                "syncs": [
                    {
                        "name": "accounts",
                        "model": "sync_accounts",
                        "destination": "hook",
                        "object": "account",
                        "options": {"event_typ": "account_signal"},
                    }
                ],
            }
        )
    )
    with pytest.raises(ConfigError) as err:
        load_config(config)
    message = str(err.value)
    assert str(config) in message and "sync 'accounts'" in message
    assert "options.event_typ" in message and "did you mean 'event_type'" in message
    assert "https://hooks.example.com" not in message


def test_a_cli_run_checkpoints_what_the_webhook_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: WebhookStandIn
) -> None:
    monkeypatch.setenv("HOOK_URL", hook.hook_url)
    monkeypatch.setenv("HOOK_TOKEN", f"Bearer {CANARY}")
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    project = Project(tmp_path)
    project.set_model([(f"u{i}@example.com", "free", i) for i in range(30)])
    hook.reject_keys = {"u3@example.com"}
    project.write_config(
        [project.sync_entry(destination="hook", options={"event_type": "person_changed"})],
        destinations={
            "hook": {
                "type": "webhook",
                "url": {"env": "HOOK_URL"},
                "headers": {"Authorization": {"env": "HOOK_TOKEN"}},
                **FAST,
            }
        },
    )
    hook.inject("status", times=1, status=503, body={"error": "busy"})
    first = project.cli("-v", "run", expect=7)
    assert "retrying http://127.0.0.1" in first.stderr  # -v shows the HTTP layer's lines
    assert len(hook.received) == 29 and hook.batches[0]["event_type"] == "person_changed"
    assert len(project.state()) == 29
    [(message,)] = project.sql("select message from plg_sync.sync_errors")
    assert "not deliverable" in message
    hook.reject_keys = set()
    project.cli("run")  # only the rejected record is sent again
    assert [r["key"] for r in hook.batches[-1]["records"]] == ["u3@example.com"]
    assert len(project.state()) == 30
    assert CANARY not in first.stdout + first.stderr
