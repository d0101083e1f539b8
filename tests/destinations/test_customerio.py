"""Customer.io destination against its stand-in: what ends up in the workspace."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

import pytest

from sync.destinations.customerio import CustomerIo, stable_ulid
from sync.errors import DestinationError
from sync.records import Change
from tests.destinations.conftest import CANARY, FAST
from tests.standins.base import SlidingWindow
from tests.standins.customerio import CustomerIoStandIn
from tests.standins.spec import Spec

PEOPLE = Spec(object="person", identifier={"id": "user_id"}, on_remove="delete")


def make(standin: CustomerIoStandIn, **overrides) -> CustomerIo:
    options = CustomerIo.Options.model_validate(
        {"site_id": "site-42", "api_key": CANARY, "base_url": standin.url, **FAST, **overrides}
    )
    return CustomerIo("cio", options)


def person(i: int, **fields) -> Change:
    row = {"user_id": f"u{i}", "plan": "pro", "pql_score": i, "sync_key": f"u{i}", **fields}
    return Change(op="add", key=f"u{i}", hash=f"h{i}", fields=row)


def statuses(outcomes):
    return {o.key: o.status for o in outcomes}


def test_people_land_with_their_attributes_and_timestamps_as_unix_seconds(cio_standin):
    dest = make(cio_standin)
    at = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    changes = [person(i, activated_at=at) for i in range(250)]

    outcomes = dest.send(PEOPLE, changes)

    assert statuses(outcomes) == {c.key: "ok" for c in changes}
    assert len(cio_standin.people) == 250
    assert cio_standin.people["u7"] == {"plan": "pro", "pql_score": 7, "activated_at": 1714564800}


def test_attribute_that_became_null_is_removed_with_an_empty_string(cio_standin):
    dest = make(cio_standin)
    dest.send(PEOPLE, [person(1, churn_risk="high")])
    dest.send(PEOPLE, [Change("change", "u1", "h2", {"user_id": "u1", "churn_risk": None})])
    assert "churn_risk" not in cio_standin.people["u1"]
    assert cio_standin.people["u1"]["plan"] == "pro"


def test_removed_person_is_deleted_when_on_remove_is_delete(cio_standin):
    dest = make(cio_standin)
    dest.send(PEOPLE, [person(1), person(2)])
    outcomes = dest.send(PEOPLE, [Change("remove", "u1", None, {})])
    assert statuses(outcomes) == {"u1": "ok"}
    assert set(cio_standin.people) == {"u2"}


def test_removed_person_loses_synced_attributes_when_on_remove_is_unset(cio_standin):
    dest = make(cio_standin)
    spec = Spec(object="person", identifier={"id": "user_id"}, on_remove="unset")
    dest.send(spec, [person(1, email_opt="yes")])
    dest.send(
        spec, [Change("remove", "u1", None, {"user_id": "u1", "plan": None, "pql_score": None})]
    )
    assert cio_standin.people["u1"] == {"email_opt": "yes"}


def test_accounts_become_objects_of_the_configured_type(cio_standin):
    dest = make(cio_standin)
    spec = Spec(
        object="object", identifier={"object_id": "account_id"}, options={"object_type_id": "3"}
    )
    change = Change("add", "a1", "h", {"account_id": "a1", "mrr": 1200.5, "plan": "team"})
    assert statuses(dest.send(spec, [change])) == {"a1": "ok"}
    assert cio_standin.objects[("3", "a1")] == {"mrr": 1200.5, "plan": "team"}


def test_relationships_link_people_to_accounts_and_removal_unlinks(cio_standin):
    dest = make(cio_standin)
    spec = Spec(
        object="relationship",
        identifier={"id": "user_id", "object_id": "account_id"},
        on_remove="delete",
    )
    rows = [
        Change("add", f"u{i}:a1", "h", {"user_id": f"u{i}", "account_id": "a1"}) for i in range(3)
    ]
    dest.send(spec, rows)
    assert cio_standin.relationships == {(f"u{i}", "1", "a1") for i in range(3)}
    dest.send(spec, [Change("remove", "u0:a1", None, {"user_id": "u0", "account_id": "a1"})])
    assert ("u0", "1", "a1") not in cio_standin.relationships


def test_resent_event_keeps_its_id_so_it_does_not_fire_twice(cio_standin):
    dest = make(cio_standin)
    spec = Spec(object="event", identifier={"id": "user_id"}, mode="event")
    at = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)
    event = Change(
        "add",
        "evt-1",
        "h",
        {"user_id": "u1", "event_name": "became_pql", "occurred_at": at, "score": 87},
    )
    dest.send(spec, [event])
    dest.send(spec, [event])  # e.g. the run crashed before checkpointing
    assert cio_standin.event_posts == 2
    assert len(cio_standin.events) == 1
    (stored,) = cio_standin.events.values()
    assert stored["name"] == "became_pql"
    assert stored["timestamp"] == int(at.timestamp())
    assert stored["attributes"] == {"score": 87}
    assert stored["id"] == stable_ulid("test_sync\x00evt-1", at)
    assert len(stored["id"]) == 26


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"bio": "x" * 1001}, "attribute 'bio' value is 1001 bytes"),
        ({"bio": "é" * 501}, "attribute 'bio' value is 1002 bytes"),
        ({f"a{i}": i for i in range(301)}, "301 attributes"),
        ({"n" * 151: 1}, "attribute name"),
        ({"score": math.nan}, "field 'score' is nan"),
        ({"score": math.inf}, "field 'score' is inf"),
        ({"user_id": "u" * 151}, "identifier 'id' is 151 bytes"),
    ],
    ids=["oversized", "oversized_unicode", "too_many_attrs", "long_name", "nan", "inf", "long_id"],
)
def test_rejected_record_gets_reason_and_rest_of_batch_goes_through(cio_standin, fields, reason):
    dest = make(cio_standin)
    bad = Change("add", "bad", "h", {"user_id": "bad", **fields})
    good = [person(i) for i in range(20)]

    outcomes = {o.key: o for o in dest.send(PEOPLE, [*good[:10], bad, *good[10:]])}

    assert outcomes["bad"].status == "permanent"
    assert reason in outcomes["bad"].message
    assert all(outcomes[c.key].ok for c in good)
    assert len(cio_standin.people) == 20


def test_unicode_values_arrive_intact(cio_standin):
    dest = make(cio_standin)
    dest.send(PEOPLE, [person(1, name="Zoë 日本 🚀")])
    assert cio_standin.people["u1"]["name"] == "Zoë 日本 🚀"


def test_batches_stay_under_the_request_size_limit(cio_standin):
    dest = make(cio_standin)
    changes = [person(i, notes="n" * 900) for i in range(1500)]  # ~1.4 MB in total
    outcomes = dest.send(PEOPLE, changes)
    assert all(o.ok for o in outcomes)
    assert len(cio_standin.people) == 1500
    assert max(len(r.body) for r in cio_standin.request_log) < 500_000


def test_batch_the_api_refuses_is_bisected_to_the_bad_record(cio_standin):
    # Lift our own checks so the stand-in sees (and refuses) the oversized value.
    dest = make(cio_standin)
    import sync.destinations.customerio as cio

    original = cio.MAX_ATTRIBUTE_VALUE_BYTES
    cio.MAX_ATTRIBUTE_VALUE_BYTES = 10_000
    try:
        changes = [person(i) for i in range(64)]
        changes[37] = person(37, bio="y" * 2000)
        outcomes = {o.key: o for o in dest.send(PEOPLE, changes)}
    finally:
        cio.MAX_ATTRIBUTE_VALUE_BYTES = original
    assert outcomes["u37"].status == "permanent"
    assert "attribute value too long" in outcomes["u37"].message
    assert sum(o.ok for o in outcomes.values()) == 63
    assert len(cio_standin.people) == 63
    assert cio_standin.requests <= 1 + 2 * 6  # log2(64) levels, two halves each


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 429, "times": 4, "headers": {"Retry-After": "0.01"}},
        {"kind": "status", "status": 503, "times": 3},
        {"kind": "html", "times": 2},
        {"kind": "slow", "delay": 0.8, "times": 2},
        {"kind": "drop", "times": 3},
    ],
    ids=["429_burst", "5xx", "html_502", "timeout", "dropped_connection"],
)
def test_transient_failures_are_retried_until_everything_lands(cio_standin, fault):
    dest = make(cio_standin, max_in_flight=2)
    cio_standin.inject(**fault)
    changes = [person(i) for i in range(50)]
    outcomes = dest.send(PEOPLE, changes)
    assert all(o.ok for o in outcomes), [o for o in outcomes if not o.ok][:3]
    assert len(cio_standin.people) == 50
    assert dest.stats.retries >= 1
    if fault.get("status") == 429:
        assert dest.stats.throttled == 4


def test_failures_that_outlast_retries_are_retryable_outcomes_not_errors(cio_standin):
    dest = make(cio_standin, max_retries=2)
    cio_standin.inject("status", status=500, times=100)
    outcomes = dest.send(PEOPLE, [person(1), person(2)])
    assert {o.status for o in outcomes} == {"retryable"}
    assert outcomes[0].code == "http_500"


def test_partial_failures_are_reported_per_record(cio_standin):
    """Customer.io's documented 207 names no operation: the batch is split until each
    refused operation is alone, so exactly the refused ones fail and the rest land."""
    cio_standin.reject_ids = {f"u{i}" for i in range(0, 200, 17)}
    dest = make(cio_standin)
    outcomes = dest.send(PEOPLE, [person(i) for i in range(200)])
    failed = {o.key: o for o in outcomes if not o.ok}
    assert set(failed) == cio_standin.reject_ids
    assert {o.status for o in failed.values()} == {"permanent"}
    assert set(cio_standin.people) == {f"u{i}" for i in range(200)} - set(failed)


def test_random_partial_failures_never_acknowledge_an_operation_that_was_not_applied(
    cio_standin,
):
    cio_standin.fail_rate = 0.2
    dest = make(cio_standin)
    outcomes = dest.send(PEOPLE, [person(i) for i in range(200)])
    acknowledged = {o.key for o in outcomes if o.ok}
    assert acknowledged <= set(cio_standin.people)
    assert len(acknowledged) > 100


def test_rate_limit_is_respected_and_429s_converge(cio_standin):
    cio_standin.limiter = SlidingWindow(20, 0.2)
    cio_standin.retry_after = 0.05
    dest = make(cio_standin)
    spec = Spec(object="person", identifier={"id": "user_id"}, batch_size=5)
    outcomes = dest.send(spec, [person(i) for i in range(300)])  # 60 requests
    assert all(o.ok for o in outcomes)
    assert cio_standin.throttled > 0
    assert dest.stats.throttled == cio_standin.throttled
    assert len(cio_standin.people) == 300


def test_wrong_api_key_stops_the_run_without_leaking_it(cio_standin, caplog):
    caplog.set_level(logging.DEBUG)
    dest = make(cio_standin, api_key="WRONG-" + CANARY)
    with pytest.raises(DestinationError) as err:
        dest.send(PEOPLE, [person(1)])
    assert "credentials" in str(err.value)
    assert CANARY not in str(err.value)
    assert CANARY not in caplog.text
    assert CANARY not in repr(dest.options)


def test_api_key_never_appears_in_logs_outcomes_or_options(cio_standin, caplog):
    caplog.set_level(logging.DEBUG)
    dest = make(cio_standin, max_retries=1)
    cio_standin.inject("status", status=500, times=10, body={"echo": CANARY})
    outcomes = dest.send(PEOPLE, [person(1)])
    dest.send(PEOPLE, [person(2)])
    assert outcomes[0].status == "retryable"
    text = caplog.text + repr(outcomes) + repr(dest.options) + str(dest.options.model_dump())
    assert CANARY not in text


def test_plain_http_is_refused_for_non_loopback_hosts():
    from sync.errors import ConfigError

    with pytest.raises(ConfigError, match="https"):
        CustomerIo(
            "cio",
            CustomerIo.Options.model_validate(
                {"site_id": "s", "api_key": CANARY, "base_url": "http://track.example.com"}
            ),
        )


def test_validate_sync_explains_missing_identifier():
    dest = CustomerIo("cio", CustomerIo.Options.model_validate({"site_id": "s", "api_key": CANARY}))
    problems = dest.validate_sync(Spec(object="relationship", identifier={"id": "user_id"}), {})
    assert any("object_id" in p for p in problems)


class _EngineSecret:
    """Shaped like the engine's sync.secrets.Secret: masked repr, value via reveal()."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"


def test_options_accept_the_engines_secret_type(cio_standin):
    options = CustomerIo.Options.model_validate(
        {
            "site_id": _EngineSecret("site-42"),
            "api_key": _EngineSecret(CANARY),
            "base_url": cio_standin.url,
            **FAST,
        }
    )
    dest = CustomerIo("cio", options)
    assert dest.send(PEOPLE, [person(1)])[0].ok
    assert CANARY not in repr(options)
