"""HubSpot destination against its stand-in: companies and contacts as HubSpot stores them."""

from __future__ import annotations

import logging
import math
from datetime import UTC, date, datetime

import pytest

from sync.destinations.hubspot import HubSpot, hubspot_type
from sync.errors import DestinationError
from sync.records import Change
from tests.destinations.conftest import CANARY, FAST
from tests.standins.base import SlidingWindow
from tests.standins.hubspot import HubSpotStandIn
from tests.standins.spec import Spec

COMPANIES = Spec(object="companies", identifier={"plg_account_id": "account_id"})
CONTACTS = Spec(object="contacts", identifier={"email": "email"})
COLUMNS = {
    "sync_key": "varchar",
    "sync_hash": "varchar",
    "account_id": "varchar",
    "plg_mrr": "numeric(18,2)",
    "plg_is_pql": "boolean",
    "plg_trial_ends_date": "date",
    "plg_last_seen_at": "timestamp",
    "plg_plan": "varchar",
}


@pytest.fixture
def hubspot() -> HubSpotStandIn:
    with HubSpotStandIn(token=CANARY) as standin:
        yield standin


def make(standin: HubSpotStandIn, **overrides) -> HubSpot:
    options = HubSpot.Options.model_validate(
        {"access_token": CANARY, "base_url": standin.url, **FAST, **overrides}
    )
    return HubSpot("hubspot", options)


@pytest.fixture
def ready(hubspot) -> HubSpot:
    """A portal where setup() has created the plg properties."""
    dest = make(hubspot)
    dest.setup(COMPANIES, COLUMNS, apply=True)
    return dest


def company(i: int, **fields) -> Change:
    row = {
        "account_id": f"acct_{i}",
        "plg_mrr": 100.0 + i,
        "plg_is_pql": i % 2 == 0,
        "plg_trial_ends_date": date(2024, 7, 1),
        "plg_last_seen_at": datetime(2024, 6, 30, 15, 4, 5, tzinfo=UTC),
        "plg_plan": "team",
        **fields,
    }
    return Change("add", f"acct_{i}", "h", row)


def test_setup_creates_group_and_typed_properties_once(hubspot):
    dest = make(hubspot)
    planned = dest.setup(COMPANIES, COLUMNS, apply=False)
    assert "plg_signals" not in hubspot.groups["companies"]
    assert len(planned) == 1 + 6

    dest.setup(COMPANIES, COLUMNS, apply=True)
    props = hubspot.properties["companies"]
    assert props["plg_account_id"]["hasUniqueValue"] is True
    assert (props["plg_mrr"]["type"], props["plg_mrr"]["fieldType"]) == ("number", "number")
    assert props["plg_is_pql"]["type"] == "bool"
    assert props["plg_trial_ends_date"]["type"] == "date"
    assert props["plg_last_seen_at"]["type"] == "datetime"
    assert props["plg_plan"]["type"] == "string"
    assert all(props[n]["groupName"] == "plg_signals" for n in COLUMNS if n.startswith("plg_"))
    assert dest.setup(COMPANIES, COLUMNS, apply=True) == []  # idempotent


def test_setup_tolerates_a_property_created_concurrently(hubspot):
    dest = make(hubspot)
    dest.setup(COMPANIES, {"account_id": "varchar"}, apply=False)  # caches definitions
    hubspot.add_property("companies", "plg_plan")
    dest._properties.clear()
    hubspot.properties["companies"].pop("plg_plan")
    dest._definitions("companies")  # stale cache without plg_plan
    hubspot.add_property("companies", "plg_plan")
    assert dest.setup(COMPANIES, {"account_id": "varchar", "plg_plan": "varchar"}, apply=True)


def test_sql_types_map_to_hubspot_types():
    assert hubspot_type("VARCHAR") == ("string", "text")
    assert hubspot_type("bigint") == ("number", "number")
    assert hubspot_type("double precision") == ("number", "number")
    assert hubspot_type("boolean") == ("bool", "booleancheckbox")
    assert hubspot_type("date") == ("date", "date")
    assert hubspot_type("timestamp with time zone") == ("datetime", "date")


def test_companies_land_with_values_formatted_for_hubspot(hubspot, ready):
    changes = [company(i) for i in range(250)]  # 3 calls of at most 100
    outcomes = ready.send(COMPANIES, changes)
    assert all(o.ok for o in outcomes)
    assert len(hubspot.records["companies"]) == 250
    stored = hubspot.records["companies"]["acct_2"]
    assert stored == {
        "plg_account_id": "acct_2",
        "plg_mrr": "102",  # every value is a string, as HubSpot's schema types them
        "plg_is_pql": "true",
        "plg_trial_ends_date": "2024-07-01",
        "plg_last_seen_at": "2024-06-30T15:04:05.000Z",
        "plg_plan": "team",
    }
    upserts = [r for r in hubspot.request_log if r.path.endswith("/batch/upsert")]
    assert sorted(len(r.json()["inputs"]) for r in upserts) == [50, 100, 100]


def test_datetime_sent_to_a_date_property_becomes_midnight(hubspot, ready):
    change = company(1, plg_trial_ends_date=datetime(2024, 7, 1, 18, 30, tzinfo=UTC))
    assert ready.send(COMPANIES, [change])[0].ok
    assert hubspot.records["companies"]["acct_1"]["plg_trial_ends_date"] == "2024-07-01"


def test_value_that_became_null_is_cleared(hubspot, ready):
    ready.send(COMPANIES, [company(1)])
    ready.send(COMPANIES, [company(1, plg_plan=None)])
    assert "plg_plan" not in hubspot.records["companies"]["acct_1"]


def test_bad_email_gets_validation_reason_and_rest_of_batch_goes_through(hubspot):
    dest = make(hubspot)
    rows = [
        Change("add", f"c{i}", "h", {"email": f"p{i}@example.com", "firstname": "Zoë"})
        for i in range(30)
    ]
    rows.insert(12, Change("add", "bad", "h", {"email": "not-an-email", "firstname": "X"}))
    outcomes = {o.key: o for o in dest.send(CONTACTS, rows)}
    assert outcomes["bad"].status == "permanent"
    assert outcomes["bad"].code == "VALIDATION_ERROR"
    assert "INVALID_EMAIL" in outcomes["bad"].message
    assert sum(o.ok for o in outcomes.values()) == 30
    assert hubspot.records["contacts"]["p3@example.com"]["firstname"] == "Zoë"


def test_unknown_property_is_reported_per_record(hubspot, ready):
    rows = [company(i) for i in range(10)]
    rows[4] = company(4, plg_not_created=1)
    outcomes = {o.key: o for o in ready.send(COMPANIES, rows)}
    assert outcomes["acct_4"].status == "permanent"
    assert "PROPERTY_DOESNT_EXIST" in outcomes["acct_4"].message
    assert "plg_not_created" in outcomes["acct_4"].message
    assert sum(o.ok for o in outcomes.values()) == 9


def test_enumeration_value_outside_options_is_refused_before_sending(hubspot):
    dest = make(hubspot)
    rows = [
        Change("add", "ok", "h", {"email": "a@example.com", "lifecyclestage": "customer"}),
        Change("add", "bad", "h", {"email": "b@example.com", "lifecyclestage": "whale"}),
    ]
    outcomes = {o.key: o for o in dest.send(CONTACTS, rows)}
    assert outcomes["ok"].ok
    assert outcomes["bad"].status == "permanent"
    assert "'lifecyclestage' value 'whale' is not one of its options" in outcomes["bad"].message
    assert "b@example.com" not in hubspot.records["contacts"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [(math.nan, "is nan"), (math.inf, "is inf"), ("x" * 70_000, "at most 65536")],
    ids=["nan", "infinity", "oversized_text"],
)
def test_unsendable_value_gets_reason_naming_the_field(hubspot, ready, value, reason):
    outcomes = {o.key: o for o in ready.send(COMPANIES, [company(1), company(2, plg_plan=value)])}
    assert outcomes["acct_1"].ok
    assert outcomes["acct_2"].status == "permanent"
    assert "plg_plan" in outcomes["acct_2"].message
    assert reason in outcomes["acct_2"].message


def test_partial_failures_in_207_become_retryable_outcomes(hubspot, ready):
    hubspot.fail_rate = 0.1
    outcomes = ready.send(COMPANIES, [company(i) for i in range(300)])
    failed = [o for o in outcomes if not o.ok]
    assert failed and all(o.status == "retryable" for o in failed)
    assert len(hubspot.records["companies"]) == 300 - len(failed)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 429, "times": 3},
        {"kind": "status", "status": 502, "times": 2},
        {"kind": "drop", "times": 2},
        {"kind": "slow", "delay": 0.8, "times": 1},
    ],
    ids=["429", "5xx", "dropped_connection", "timeout"],
)
def test_transient_failures_converge(hubspot, ready, fault):
    hubspot.inject(path_contains="/batch/upsert", **fault)
    outcomes = ready.send(COMPANIES, [company(i) for i in range(200)])
    assert all(o.ok for o in outcomes)
    assert len(hubspot.records["companies"]) == 200


def test_malformed_207_body_leaves_records_retryable(hubspot, ready):
    hubspot.inject("malformed_json", status=207, path_contains="/batch/upsert")
    outcomes = ready.send(COMPANIES, [company(1)])
    assert outcomes[0].status == "retryable"
    assert "not valid JSON" in outcomes[0].message


def test_pacing_respects_the_burst_limit(hubspot):
    # HubSpot's burst limit is counted over 10 s (190 on professional) and the default pacing
    # (18/s) leaves ~0.5 s of slack for requests that the network or a busy server bunch
    # together. This 0.5 s window is scaled down to keep the test short, so the pacing is
    # scaled with it: at 14/s an 11th request falls inside a window only if ~0.2 s of
    # send times collapse, not at the first 55 ms hiccup of a loaded machine.
    hubspot.limiter = SlidingWindow(10, 0.5)  # 20 requests/s
    paced = make(hubspot, requests_per_second=14, burst=1)
    paced.setup(COMPANIES, COLUMNS, apply=True)
    paced.send(COMPANIES, [company(i) for i in range(1500)])  # 15 calls
    assert hubspot.throttled == 0
    assert len(hubspot.records["companies"]) == 1500


def test_budget_note_estimates_share_of_daily_limit(hubspot):
    dest = make(hubspot, tier="starter")
    note = dest.budget_note(50_000)
    assert "500 requests" in note and "250,000" in note and "0.2%" in note


def test_tier_sets_default_pacing():
    free = HubSpot.Options.model_validate({"access_token": "t" * 10, "tier": "free"})
    pro = HubSpot.Options.model_validate({"access_token": "t" * 10})
    assert free.requests_per_second == 9.5
    assert pro.requests_per_second == 18.0


def test_two_syncs_to_one_portal_share_one_rate_limiter(hubspot):
    hubspot.limiter = SlidingWindow(10, 0.5)  # scaled down as in the burst-limit test above
    first = make(hubspot, requests_per_second=14, burst=1)
    second = make(hubspot, requests_per_second=14, burst=1)
    first.setup(COMPANIES, COLUMNS, apply=True)
    import threading

    threads = [
        threading.Thread(target=d.send, args=(COMPANIES, [company(i) for i in range(800)]))
        for d in (first, second)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hubspot.throttled == 0


def test_revoked_token_stops_the_run_and_is_never_logged(hubspot, caplog):
    caplog.set_level(logging.DEBUG)
    dest = make(hubspot)
    hubspot.token = "rotated"
    with pytest.raises(DestinationError, match="401") as err:
        dest.send(COMPANIES, [company(1)])
    assert CANARY not in str(err.value) + caplog.text + repr(dest.options)


def test_delete_on_remove_is_refused_by_validation(hubspot):
    dest = make(hubspot)
    spec = Spec(object="companies", identifier={"plg_account_id": "account_id"}, on_remove="delete")
    assert any("on_remove" in p for p in dest.validate_sync(spec, {}))


RISK_BANDS = ["high", "medium", "low", "none", "churned", "not_scored"]
ENUM_COMPANIES = Spec(
    object="companies",
    identifier={"plg_account_id": "account_id"},
    enumerations={"plg_risk_band": RISK_BANDS},
)


def test_setup_declares_enumeration_options_from_the_models_accepted_values(hubspot):
    dest = make(hubspot)
    actions = dest.setup(ENUM_COMPANIES, {**COLUMNS, "plg_risk_band": "varchar"}, apply=True)
    assert any("'plg_risk_band' (enumeration/select, options" in a for a in actions)
    prop = hubspot.properties["companies"]["plg_risk_band"]
    assert prop["type"] == "enumeration"
    assert [o["value"] for o in prop["options"]] == RISK_BANDS
    assert dest.send(ENUM_COMPANIES, [company(1, plg_risk_band="churned")])[0].ok


def test_setup_adds_a_value_the_model_can_emit_to_an_existing_enumeration(hubspot):
    """The issue's case: a portal whose plg_risk_band lacks `churned` refuses those companies
    until setup adds the option the model can emit."""
    old = ["not_scored", "none", "low", "medium", "high"]
    hubspot.add_property(
        "companies",
        "plg_risk_band",
        "enumeration",
        options=[
            {"label": v, "value": v, "displayOrder": i, "hidden": False} for i, v in enumerate(old)
        ],
    )
    dest = make(hubspot)
    columns = {**COLUMNS, "plg_risk_band": "varchar"}
    dest.setup(ENUM_COMPANIES, columns, apply=True)  # the rest of the properties
    hubspot.properties["companies"]["plg_risk_band"]["options"] = [
        {"label": v, "value": v, "displayOrder": i, "hidden": False} for i, v in enumerate(old)
    ]
    dest = make(hubspot)
    assert not dest.send(ENUM_COMPANIES, [company(1, plg_risk_band="churned")])[0].ok
    dry = dest.setup(ENUM_COMPANIES, columns, apply=False)
    assert "would add options ['churned'] to companies property 'plg_risk_band'" in dry[0]
    dest.setup(ENUM_COMPANIES, columns, apply=True)
    values = [o["value"] for o in hubspot.properties["companies"]["plg_risk_band"]["options"]]
    assert values == [*old, "churned"]
    assert dest.send(ENUM_COMPANIES, [company(1, plg_risk_band="churned")])[0].ok


def test_validate_flags_enum_options_that_lack_a_value_the_model_can_emit(hubspot):
    spec = Spec(
        object="companies",
        identifier={"plg_account_id": "account_id"},
        options={
            "enum_options": {"plg_risk_band": ["not_scored", "none", "low", "medium", "high"]}
        },
        enumerations={"plg_risk_band": RISK_BANDS},
    )
    problems = make(hubspot).validate_sync(spec, COLUMNS)
    assert any("enum_options.plg_risk_band lacks ['churned']" in p for p in problems), problems


def test_numbers_are_plain_decimal_text_never_exponents_or_json_numbers():
    from decimal import Decimal

    from sync.destinations.hubspot import property_text

    assert property_text(225.0) == "225"
    assert property_text(Decimal("225.50")) == "225.5"
    assert property_text(Decimal("1E+2")) == "100"
    assert property_text(1e-7) == "0.0000001"
    assert property_text(-0.0) == "0"
    assert property_text(15) == "15"
    assert property_text(True) == "true"
    assert property_text(date(2024, 7, 1), "datetime") == "2024-07-01T00:00:00.000Z"
    assert property_text(datetime(2024, 7, 1, 18, 30), "date") == "2024-07-01"
