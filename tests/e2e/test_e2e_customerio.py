"""Demo warehouse -> `plg-sync run` -> Customer.io Track API stand-in.

People (identify), account objects, person<->account relationships and signal events, each
compared field by field with its sync model in Customer.io's formatting: timestamps as Unix
seconds, nulls as absent attributes (sent as "" which removes them).

The tests of a module share one warehouse copy and one stand-in and run in file order; each
leaves the sync converged (a run sends nothing) for the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.conftest import (
    CANARY,
    FAST,
    Warehouse,
    partial_failure_round_trip,
    unix_seconds,
)
from tests.standins.customerio import CustomerIoStandIn

pytestmark = pytest.mark.slow

SYNCS = ("cio_people", "cio_accounts", "cio_relationships", "cio_events")


@pytest.fixture(scope="module")
def cio(warehouse: Warehouse, canary_env: pytest.MonkeyPatch) -> Iterator[CustomerIoStandIn]:
    canary_env.setenv("E2E_CIO_SITE_ID", "site-e2e")
    canary_env.setenv("E2E_CIO_API_KEY", CANARY)
    with CustomerIoStandIn(site_id="site-e2e", api_key=CANARY) as standin:
        warehouse.destination = "customerio"
        warehouse.write_config(
            destinations={
                "customerio": {
                    "type": "customerio",
                    "site_id": {"env": "E2E_CIO_SITE_ID"},
                    "api_key": {"env": "E2E_CIO_API_KEY"},
                    "base_url": standin.url,
                    **FAST,
                }
            },
            syncs=[
                {
                    "name": "cio_people",
                    "model": "sync_customerio_people",
                    "destination": "customerio",
                    "object": "person",
                    "identifier": {"id": "sync_key"},
                    "on_remove": "unset",
                    "batch_size": 500,
                },
                {
                    "name": "cio_accounts",
                    "model": "sync_customerio_accounts",
                    "destination": "customerio",
                    "object": "object",
                    "identifier": {"object_id": "object_id"},
                    "batch_size": 500,
                },
                {
                    "name": "cio_relationships",
                    "model": "sync_customerio_relationships",
                    "destination": "customerio",
                    "object": "relationship",
                    "identifier": {"id": "id", "object_id": "object_id"},
                    "batch_size": 500,
                },
                {
                    "name": "cio_events",
                    "model": "sync_signal_events",
                    "destination": "customerio",
                    "object": "event",
                    "mode": "event",
                    "identifier": {"id": "id"},
                },
            ],
        )
        yield standin


@pytest.fixture(scope="module")
def first_runs(warehouse: Warehouse, cio: CustomerIoStandIn) -> dict[str, dict[str, Any]]:
    runs = {}
    for sync in SYNCS:  # one at a time, so a failure names its sync
        runs |= warehouse.run(sync, expect=None)
    return runs


def expected_attributes(row: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    """A model row as Customer.io stores it: Unix seconds, nulls absent."""
    out = {}
    for column, value in row.items():
        if column in drop or column in ("sync_key", "sync_hash") or value is None:
            continue
        out[column] = unix_seconds(value) if isinstance(value, datetime) else value
    return out


def test_first_run_lands_every_person_with_customerio_formatting(warehouse, cio, first_runs):
    people = warehouse.model("sync_customerio_people")
    assert first_runs["cio_people"]["status"] == "succeeded"
    assert set(cio.people) == set(people)
    mismatched = {
        key: (cio.people[key], expected_attributes(row, drop=("id",)))
        for key, row in people.items()
        if cio.people[key] != expected_attributes(row, drop=("id",))
    }
    assert not mismatched, f"{len(mismatched)} people differ, e.g. {next(iter(mismatched.items()))}"


def test_first_run_lands_every_account_object(warehouse, cio, first_runs):
    accounts = warehouse.model("sync_customerio_accounts")
    assert first_runs["cio_accounts"]["status"] == "succeeded"
    assert set(cio.objects) == {("1", key) for key in accounts}
    mismatched = {
        key: (cio.objects[("1", key)], expected_attributes(row, drop=("object_id",)))
        for key, row in accounts.items()
        if cio.objects[("1", key)] != expected_attributes(row, drop=("object_id",))
    }
    assert not mismatched, (
        f"{len(mismatched)} objects differ, e.g. {next(iter(mismatched.items()))}"
    )


def test_first_run_links_every_person_to_their_account(warehouse, cio, first_runs):
    links = warehouse.model("sync_customerio_relationships")
    assert first_runs["cio_relationships"]["status"] == "succeeded"
    assert cio.relationships == {(r["id"], "1", r["object_id"]) for r in links.values()}


def test_first_run_sends_every_signal_event_once_with_unix_timestamps(warehouse, cio, first_runs):
    events = warehouse.model("sync_signal_events")
    assert first_runs["cio_events"]["status"] == "succeeded", warehouse.errors("cio_events")[:1]
    assert len(cio.events) == len(events)
    got = {
        (e["person"], e["name"], e["timestamp"], e["attributes"].get("account_id"))
        for e in cio.events.values()
    }
    want = {
        (r["id"], r["event_name"], unix_seconds(r["occurred_at"]), r["account_id"])
        for r in events.values()
    }
    assert got == want
    sample = next(iter(cio.events.values()))
    assert len(sample["id"]) == 26  # a ULID, so Customer.io deduplicates a resend


def test_second_run_sends_zero_requests(warehouse, cio, first_runs):
    before = cio.requests
    runs = warehouse.run(*SYNCS[:3])
    assert cio.requests == before
    assert {s: (r["planned"], r["requests"]) for s, r in runs.items()} == {
        s: (0, 0) for s in SYNCS[:3]
    }


def test_changing_n_people_and_accounts_sends_exactly_n(warehouse, cio, first_runs):
    warehouse.update(
        "sync_customerio_people",
        "activation_status = 'activated', activated_at = timestamp '2026-11-02 08:30:00'",
        "sync_key in (select sync_key from main.sync_customerio_people"
        " where activation_status <> 'activated' order by sync_key limit 7)",
    )
    warehouse.update(
        "sync_customerio_accounts",
        "mrr = mrr + 1",
        "sync_key in (select sync_key from main.sync_customerio_accounts order by 1 limit 3)",
    )
    before = cio.requests
    runs = warehouse.run("cio_people", "cio_accounts")

    assert (runs["cio_people"]["changed"], runs["cio_people"]["succeeded"]) == (7, 7)
    assert (runs["cio_accounts"]["changed"], runs["cio_accounts"]["succeeded"]) == (3, 3)
    assert cio.requests - before == 2  # one batch request per sync
    sent = [op for r in cio.request_log[before:] for op in r.json()["batch"]]
    assert len(sent) == 10
    changed = [op["identifiers"]["id"] for op in sent if op["type"] == "person"]
    assert len(changed) == 7
    assert all(cio.people[key]["activation_status"] == "activated" for key in changed)


def test_new_event_rows_send_exactly_those_events(warehouse, cio, first_runs):
    key = sorted(warehouse.model("sync_signal_events"))[0]
    for i in range(4):
        warehouse.add_copy(
            "sync_signal_events",
            key,
            {
                "sync_key": f"'e2e-new-event-{i}'",
                "occurred_at": f"timestamp '2026-11-02 0{i}:00:00'",
            },
        )
    posts = cio.event_posts
    runs = warehouse.run("cio_events")
    assert (runs["cio_events"]["added"], runs["cio_events"]["succeeded"]) == (4, 4)
    assert cio.event_posts - posts == 4


def test_oversized_attribute_is_logged_not_synced_and_lands_once_fixed(warehouse, cio, first_runs):
    template = sorted(warehouse.model("sync_customerio_people"))[0]
    warehouse.add_copy(
        "sync_customerio_people",
        template,
        {
            "sync_key": "'user_e2e_big'",
            "id": "'user_e2e_big'",
            "milestones_completed": "repeat('x', 1001)",
        },
    )
    runs = warehouse.run("cio_people", expect=7)  # 7: failed records above the threshold

    assert (runs["cio_people"]["succeeded"], runs["cio_people"]["failed"]) == (0, 1)
    (error,) = warehouse.errors("cio_people")
    assert (error["sync_key"], error["operation"], error["error_code"]) == (
        "user_e2e_big",
        "add",
        "invalid_value",
    )
    assert "'milestones_completed' value is 1001 bytes" in error["message"]
    assert "user_e2e_big" not in warehouse.state_keys("cio_people")
    assert "user_e2e_big" not in cio.people

    warehouse.update(
        "sync_customerio_people", "milestones_completed = 'project_created'", "id = 'user_e2e_big'"
    )
    runs = warehouse.run("cio_people")
    assert (runs["cio_people"]["succeeded"], runs["cio_people"]["failed"]) == (1, 0)
    assert "user_e2e_big" in warehouse.state_keys("cio_people")
    assert cio.people["user_e2e_big"]["milestones_completed"] == "project_created"


def test_207_without_index_keeps_two_people_for_the_next_run(warehouse, cio, first_runs):
    """Customer.io's documented 207 lists errors without saying which operation failed: the
    batch is split until each error belongs to one person; those two are in sync_errors and
    keep their old state, the others are acknowledged, and the next run delivers the two."""
    assert cio.error_index is False  # the documented shape
    partial_failure_round_trip(
        warehouse,
        sync="cio_people",
        model="sync_customerio_people",
        change="account_plan = 'e2e_plan'",
        reject=lambda keys: setattr(cio, "reject_ids", set(keys)),
        landed=lambda key: cio.people.get(key, {}).get("account_plan") == "e2e_plan",
        code="rejected",
    )


def test_removed_person_loses_its_synced_attributes(warehouse, cio, first_runs):
    # its own person, so the test holds alone (-k) and in any order
    template = sorted(warehouse.model("sync_customerio_people"))[0]
    warehouse.add_copy(
        "sync_customerio_people",
        template,
        {"sync_key": "'user_e2e_removed'", "id": "'user_e2e_removed'"},
    )
    warehouse.run("cio_people")
    assert cio.people["user_e2e_removed"] != {}
    assert "user_e2e_removed" in warehouse.state_keys("cio_people")

    warehouse.delete("sync_customerio_people", "sync_key = 'user_e2e_removed'")
    runs = warehouse.run("cio_people")
    assert (runs["cio_people"]["removed"], runs["cio_people"]["succeeded"]) == (1, 1)
    # on_remove: unset -> every attribute the sync wrote is removed from the person
    assert cio.people["user_e2e_removed"] == {}
    assert "user_e2e_removed" not in warehouse.state_keys("cio_people")


def test_no_credential_in_state_tables(warehouse, cio, first_runs):
    warehouse.assert_no_canary_in_tables()
