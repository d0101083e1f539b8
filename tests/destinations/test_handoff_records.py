"""The handoff's CRM records at the destination level (issue 18), against the stand-ins:
Salesforce Opportunities on the Account by the Account's external id, owners on Accounts,
and HubSpot deals associated with their company.

Shapes: Salesforce REST `composite/sobjects/{SObject}/{ExternalIdField}` upsert with a
relationship set by the parent's external id (`"Account": {"attributes": {"type":
"Account"}, "PLG_Account_Id__c": ...}`), as the REST API Developer Guide documents for
upserts; HubSpot CRM v3 `objects/deals/batch/upsert` (`SimplePublicObjectBatchInputUpsert`,
properties as strings), `objects/companies/batch/read` with `idProperty`, and v4
`associations/deals/companies/batch/associate/default` (HubSpot-public-api-spec-collection,
checked 2026-11-29).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from sync.destinations.hubspot import HubSpot
from sync.destinations.salesforce import Salesforce
from sync.records import Change
from tests.destinations.conftest import CANARY, FAST
from tests.standins.hubspot import HubSpotStandIn
from tests.standins.salesforce import SalesforceStandIn
from tests.standins.spec import Spec

OPPORTUNITIES = Spec(
    object="Opportunity",
    identifier={"PLG_Deal_Id__c": "deal_external_id"},
    options={
        "field_map": {
            "deal_name": "Name",
            "deal_stage": "StageName",
            "amount": "Amount",
            "close_at": "CloseDate",
            "crm_owner_id": "OwnerId",
            "note": "Description",
            "plan": "PLG_Plan__c",
            "mrr": "PLG_MRR__c",
        },
        "value_map": {"StageName": {"open": "Qualification", "won": "Closed Won"}},
        "date_fields": ["CloseDate"],
        "references": {
            "Account": {"type": "Account", "field": "PLG_Account_Id__c", "column": "plg_account_id"}
        },
    },
)
ACCOUNT_OWNERS = Spec(
    object="Account",
    identifier={"PLG_Account_Id__c": "plg_account_id"},
    options={"field_map": {"crm_owner_id": "OwnerId"}},
)
# sync.example.yml's salesforce_accounts, reduced to the field Salesforce requires on create
ACCOUNTS = Spec(
    object="Account",
    identifier={"PLG_Account_Id__c": "plg_account_id"},
    options={"field_map": {"name": "Name"}},
)


def owned_account(dest: Salesforce, key: str = "acct_1", owner: str = "005X") -> None:
    """Account `key` as the accounts sync creates it, then owned by the owners sync."""
    company = Change("add", key, "h", {"plg_account_id": key, "name": f"{key} Inc"})
    assert dest.send(ACCOUNTS, [company])[0].ok
    assignment = Change("add", key, "h", {"plg_account_id": key, "crm_owner_id": owner})
    assert dest.send(ACCOUNT_OWNERS, [assignment])[0].ok


def deal(key: str, account_id: str, stage: str = "open") -> Change:
    row = {
        "deal_external_id": key,
        "plg_account_id": account_id,
        "deal_name": f"{account_id} - PQL (free)",
        "deal_stage": stage,
        "amount": 6000.0,
        "close_at": datetime(2027, 1, 30, 14, 5),
        "crm_owner_id": "005000000000001",
        "note": "Why: invited teammates (3 in 30 days, +30 pts) | Usage: ▁▂▅█",
        "plan": "free",
        "mrr": 0.0,
    }
    return Change("add", key, "h", row)


@pytest.fixture
def salesforce() -> SalesforceStandIn:
    with SalesforceStandIn(client_id="cid", client_secret=CANARY) as standin:
        yield standin


def test_an_opportunity_lands_on_its_account_by_external_id_and_once_on_resend(salesforce):
    dest = Salesforce(
        "sf",
        Salesforce.Options.model_validate(
            {"login_url": salesforce.url, "client_id": "cid", "client_secret": CANARY, **FAST}
        ),
    )
    owned_account(dest)
    assert salesforce.records["Account"]["acct_1"]["OwnerId"] == "005X"

    outcomes = dest.send(OPPORTUNITIES, [deal("d1", "acct_1"), deal("d2", "acct_missing")])
    assert outcomes[0].ok
    assert outcomes[1].status == "permanent" and "acct_missing" in outcomes[1].message
    opportunity = salesforce.records["Opportunity"]["d1"]
    assert opportunity["AccountId"] == salesforce.record_ids["Account"]["acct_1"]
    assert opportunity["StageName"] == "Qualification"
    assert opportunity["CloseDate"] == "2027-01-30"  # a Date field gets a date
    assert opportunity["Amount"] == 6000.0 and opportunity["PLG_Plan__c"] == "free"
    assert "plg_account_id" not in {k.lower() for k in opportunity}  # only the lookup carries it

    # a resend after a crash (same external id) updates the same Opportunity
    assert all(o.ok for o in dest.send(OPPORTUNITIES, [deal("d1", "acct_1", stage="won")]))
    assert list(salesforce.records["Opportunity"]) == ["d1"]
    assert salesforce.records["Opportunity"]["d1"]["StageName"] == "Closed Won"


def test_a_hubspot_deal_without_its_company_yet_is_retried_not_lost():
    with HubSpotStandIn(token=CANARY) as hubspot:
        hubspot.add_property("deals", "plg_deal_id", hasUniqueValue=True)
        hubspot.add_property("deals", "plg_account_id")
        hubspot.add_property("companies", "plg_account_id", hasUniqueValue=True)
        dest = HubSpot(
            "hs",
            HubSpot.Options.model_validate(
                {"access_token": CANARY, "base_url": hubspot.url, **FAST}
            ),
        )
        spec = Spec(
            object="deals",
            identifier={"plg_deal_id": "deal_external_id"},
            options={
                "value_map": {"dealstage": {"open": "qualifiedtobuy"}},
                "associate": {"column": "plg_account_id"},
            },
        )
        change = Change(
            "add",
            "d1",
            "h",
            {"deal_external_id": "d1", "dealname": "Acme - PQL", "dealstage": "open",
             "amount": 6000.0, "plg_account_id": "acct_1"},
        )  # fmt: skip
        first = dest.send(spec, [change])
        assert first[0].status == "retryable" and "acct_1" in first[0].message
        companies = Spec(object="companies", identifier={"plg_account_id": "plg_account_id"})
        company = Change("add", "acct_1", "h", {"plg_account_id": "acct_1", "name": "Acme"})
        assert dest.send(companies, [company])[0].ok
        assert dest.send(spec, [change])[0].ok
        assert list(hubspot.records["deals"]) == ["d1"]  # the resend did not add a deal
        deal_id = hubspot.record_ids["deals"]["d1"]
        company_id = hubspot.record_ids["companies"]["acct_1"]
        assert hubspot.associations == {("deals", deal_id, "companies", company_id)}
        assert float(hubspot.records["deals"]["d1"]["amount"]) == 6000


CS_TASKS = Spec(
    object="Task",
    identifier={"PLG_Task_Id__c": "task_external_id"},
    options={
        "match_by_query": True,
        "field_map": {
            "subject": "Subject",
            "body": "Description",
            "task_status": "Status",
            "priority": "Priority",
            "due_at": "ActivityDate",
            "outcome": "PLG_Outcome__c",
        },
        "value_map": {
            "Status": {"open": "Not Started", "completed": "Completed"},
            "Priority": {"high": "High", "medium": "Normal"},
        },
        "date_fields": ["ActivityDate"],
        "references": {
            "What": {
                "type": "Account",
                "field": "PLG_Account_Id__c",
                "column": "plg_account_id",
                "id_field": "WhatId",
            }
        },
    },
)


def task(key: str, account_id: str, status: str = "open", outcome: str | None = None) -> Change:
    row = {
        "task_external_id": key,
        "plg_account_id": account_id,
        "subject": "Churn risk: Acme",
        "body": "Why: usage down 62% | Usage: ▆▅▃▁",
        "task_status": status,
        "priority": "medium",
        "due_at": datetime(2026, 10, 28),
        "outcome": outcome,
    }
    return Change("add", key, "h", row)


def salesforce_with_owned_account(salesforce: SalesforceStandIn) -> Salesforce:
    """The destination against the stand-in, with Account acct_1 owned by 005X."""
    dest = Salesforce(
        "sf",
        Salesforce.Options.model_validate(
            {"login_url": salesforce.url, "client_id": "cid", "client_secret": CANARY, **FAST}
        ),
    )
    owned_account(dest)
    return dest


def test_a_salesforce_cs_task_is_created_once_and_completed_on_recovery(salesforce):
    """Task has no external id to upsert by: the sync queries PLG_Task_Id__c, creates the
    task once (WhatId = the Account found by its external id), and updates it later, also
    after a crash that lost the checkpoint (the resend finds it and does not duplicate it)."""
    dest = salesforce_with_owned_account(salesforce)

    first = {
        o.key: o for o in dest.send(CS_TASKS, [task("t1", "acct_1"), task("t2", "acct_missing")])
    }
    assert first["t1"].ok
    assert first["t2"].status == "retryable" and "acct_missing" in first["t2"].message
    (created,) = salesforce.records["Task"].values()
    assert created["WhatId"] == salesforce.record_ids["Account"]["acct_1"]
    assert created["Status"] == "Not Started" and created["ActivityDate"] == "2026-10-28"

    assert dest.send(CS_TASKS, [task("t1", "acct_1")])[0].ok  # resend after a crash
    done = dest.send(CS_TASKS, [task("t1", "acct_1", "completed", "recovered")])
    assert done[0].ok
    (only,) = salesforce.records["Task"].values()  # still one task
    assert only["Status"] == "Completed" and only["PLG_Outcome__c"] == "recovered"


def test_a_task_is_owned_by_the_accounts_crm_owner_and_a_null_owner_is_left_out(salesforce):
    """`omit_null: [OwnerId]`: Salesforce requires an owner, so a row whose CRM shows no
    owner sends no OwnerId at all (the record keeps its owner; on create the integration
    user) instead of a null that the API would refuse; a row with an owner sets it."""
    dest = salesforce_with_owned_account(salesforce)
    options = {
        **CS_TASKS.options,
        "field_map": {**CS_TASKS.options["field_map"], "crm_owner_id": "OwnerId"},
    }
    owned = Spec(
        object="Task", identifier=CS_TASKS.identifier, options={**options, "omit_null": ["ownerid"]}
    )
    with_owner, without_owner = task("t1", "acct_1"), task("t2", "acct_1")
    with_owner.fields["crm_owner_id"] = "005X"
    without_owner.fields["crm_owner_id"] = None
    assert all(o.ok for o in dest.send(owned, [with_owner, without_owner]))
    sent = {r["PLG_Task_Id__c"]: r for r in salesforce.records["Task"].values()}
    assert sent["t1"]["OwnerId"] == "005X"
    assert "OwnerId" not in sent["t2"]  # left out, not sent as null

    # without the option the null is sent as null, which Salesforce refuses for a field its
    # describe marks nillable: false ("Required Fields", SOAP/REST API guides): that record
    # fails on its own with REQUIRED_FIELD_MISSING (kept unsynced, retried) and the rest lands
    plain = Spec(object="Task", identifier=CS_TASKS.identifier, options=options)
    third, fourth = task("t3", "acct_1"), task("t4", "acct_1")
    fourth.fields["crm_owner_id"] = None
    outcomes = {o.key: o for o in dest.send(plain, [third, fourth])}
    assert outcomes["t3"].ok
    assert (outcomes["t4"].status, outcomes["t4"].code) == ("permanent", "REQUIRED_FIELD_MISSING")
    assert "OwnerId" in outcomes["t4"].message
    assert "t4" not in {r["PLG_Task_Id__c"] for r in salesforce.records["Task"].values()}


HUBSPOT_TASKS = Spec(
    object="tasks",
    identifier={"plg_task_id": "task_external_id"},
    options={
        "associate": [
            {"to_object": "companies", "column": "plg_account_id"},
            {
                "to_object": "contacts",
                "id_property": "email",
                "column": "plg_contact_email",
                "required": False,
            },
        ]
    },
)


def hubspot_task(key: str, account_id: str, contact: str | None) -> Change:
    row = {
        "task_external_id": key,
        "hs_task_subject": "Churn risk: Acme",
        "hs_task_status": "NOT_STARTED",
        "hs_timestamp": datetime(2026, 10, 28),
        "plg_account_id": account_id,
        "plg_contact_email": contact,
    }
    return Change("add", key, "h", row)


def test_a_hubspot_cs_task_is_linked_to_the_company_and_the_accounts_contact():
    """HubSpot tasks: the company link is required, the contact link is made when the row
    names a contact (v4 `batch/associate/default`, request checked by the stand-in against
    HubSpot's `BatchInputPublicDefaultAssociationMultiPost`). A contact that is not in
    HubSpot yet keeps the task retryable (not lost, not duplicated) until it is."""
    with HubSpotStandIn(token=CANARY) as hubspot:
        for prop in ("plg_task_id", "plg_account_id", "plg_contact_email"):
            hubspot.add_property("tasks", prop, hasUniqueValue=prop == "plg_task_id")
        hubspot.add_property("companies", "plg_account_id", hasUniqueValue=True)
        dest = HubSpot(
            "hs",
            HubSpot.Options.model_validate(
                {"access_token": CANARY, "base_url": hubspot.url, **FAST}
            ),
        )
        companies = Spec(object="companies", identifier={"plg_account_id": "plg_account_id"})
        contacts = Spec(object="contacts", identifier={"email": "email"})
        assert dest.send(companies, [Change("add", "a1", "h", {"plg_account_id": "a1"})])[0].ok
        assert dest.send(companies, [Change("add", "a2", "h", {"plg_account_id": "a2"})])[0].ok
        assert dest.send(contacts, [Change("add", "b", "h", {"email": "bill@acme.example"})])[0].ok

        outcomes = {
            o.key: o
            for o in dest.send(
                HUBSPOT_TASKS,
                [
                    hubspot_task("t1", "a1", "Bill@Acme.example"),  # emails match case-blind
                    hubspot_task("t2", "a2", None),  # no known contact: company only
                    hubspot_task("t3", "a1", "new@acme.example"),  # contact not in HubSpot yet
                ],
            )
        }
        assert outcomes["t1"].ok and outcomes["t2"].ok
        assert outcomes["t3"].status == "retryable" and "new@acme.example" in outcomes["t3"].message
        ids = hubspot.record_ids
        task_ids = ids["tasks"]
        assert hubspot.associations == {
            ("tasks", task_ids["t1"], "companies", ids["companies"]["a1"]),
            ("tasks", task_ids["t1"], "contacts", ids["contacts"]["bill@acme.example"]),
            ("tasks", task_ids["t2"], "companies", ids["companies"]["a2"]),
            ("tasks", task_ids["t3"], "companies", ids["companies"]["a1"]),
        }

        assert dest.send(contacts, [Change("add", "n", "h", {"email": "new@acme.example"})])[0].ok
        assert dest.send(HUBSPOT_TASKS, [hubspot_task("t3", "a1", "new@acme.example")])[0].ok
        assert ("tasks", task_ids["t3"], "contacts", ids["contacts"]["new@acme.example"]) in (
            hubspot.associations
        )
        assert sorted(hubspot.records["tasks"]) == ["t1", "t2", "t3"]  # no task twice

        # if_missing: skip acknowledges a task whose contact never reaches HubSpot
        skip = Spec(
            object="tasks",
            identifier={"plg_task_id": "task_external_id"},
            options={
                "associate": [
                    {"to_object": "companies", "column": "plg_account_id"},
                    {"to_object": "contacts", "id_property": "email",
                     "column": "plg_contact_email", "required": False, "if_missing": "skip"},
                ]
            },
        )  # fmt: skip
        assert dest.send(skip, [hubspot_task("t4", "a2", "ghost@acme.example")])[0].ok
        assert not any(link[1] == task_ids["t4"] and link[2] == "contacts"
                       for link in hubspot.associations)  # fmt: skip


def test_the_association_request_matches_hubspots_v4_schema():
    from tests.contracts.schemas import HUBSPOT_ASSOCIATIONS, problems

    good = {"inputs": [{"from": {"id": "1"}, "to": {"id": "2"}}]}
    assert problems(HUBSPOT_ASSOCIATIONS, good) == []
    assert problems(HUBSPOT_ASSOCIATIONS, {"inputs": [{"from": {"id": 1}, "to": {}}]})
    answer = {"status": "COMPLETE", "startedAt": "2026-11-29T10:00:00.000Z",
              "completedAt": "2026-11-29T10:00:00.000Z",
              "results": [{"from": {"id": "1"}, "to": {"id": "2"}, "associationSpec": {
                  "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}}]}  # fmt: skip
    assert problems(HUBSPOT_ASSOCIATIONS, answer, "BatchResponsePublicDefaultAssociation") == []


def test_an_owner_for_an_account_not_yet_in_salesforce_waits_for_the_accounts_sync(salesforce):
    """The owners sync upserts by external id with OwnerId only; an Account that does not
    exist yet would be created without Name, which Salesforce requires on create: that
    record fails alone (REQUIRED_FIELD_MISSING) and lands once the accounts sync (listed
    before it in sync.example.yml) has created the Account."""
    dest = salesforce_with_owned_account(salesforce)
    early = Change("add", "acct_2", "h", {"plg_account_id": "acct_2", "crm_owner_id": "005Y"})
    (outcome,) = dest.send(ACCOUNT_OWNERS, [early])
    assert (outcome.status, outcome.code) == ("permanent", "REQUIRED_FIELD_MISSING")
    assert "Name" in outcome.message and "acct_2" not in salesforce.records["Account"]

    company = Change("add", "acct_2", "h", {"plg_account_id": "acct_2", "name": "Beta"})
    assert dest.send(ACCOUNTS, [company])[0].ok
    assert dest.send(ACCOUNT_OWNERS, [early])[0].ok
    assert salesforce.records["Account"]["acct_2"] == {
        "PLG_Account_Id__c": "acct_2",
        "Name": "Beta",
        "OwnerId": "005Y",
    }
