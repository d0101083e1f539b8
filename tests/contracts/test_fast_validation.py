"""The stand-ins' cached validation gives the vendor schema's own verdict.

`fast_problems` and `customerio_operation_problems` validate a reduced shape of a body and
cache the answer, because a stand-in sees thousands of records a second; these cases show
the shortcut refuses exactly what the full validation refuses, with the same messages.
"""

from __future__ import annotations

import pytest

from tests.contracts.schemas import (
    CUSTOMERIO_BATCH,
    HUBSPOT_COMPANIES,
    SALESFORCE_UPSERT,
    customerio_operation_problems,
    fast_problems,
    problems,
)

HUBSPOT = [
    {"inputs": [{"idProperty": "plg_account_id", "id": "a1", "properties": {"m": "225.5"}}]},
    {"inputs": [{"idProperty": "plg_account_id", "id": "a1", "properties": {"m": 225.5}}]},
    {"inputs": [{"id": "a1", "properties": {"m": "1"}}, {"id": 2, "properties": {}}]},
    {"inputs": [{"idProperty": "plg_account_id", "properties": {}}]},
    {"inputs": "not a list"},
    {},
]
SALESFORCE = [
    {"allOrNone": False, "records": [{"attributes": {"type": "Account"}, "X__c": 1.5}]},
    {"allOrNone": "no", "records": [{"attributes": {"type": "Account"}}]},
    {"records": [{"attributes": {"type": "Account"}, "Id": "001"}]},
    {"records": [{"attributes": {}, "X__c": {"nested": 1}}]},
    {"records": [{"X__c": "1"}]},
]
CUSTOMERIO = [
    {"type": "person", "action": "identify", "identifiers": {"id": "1"}, "attributes": {"a": 1}},
    {"type": "person", "action": "identify", "identifiers": {"id": 1}},
    {
        "type": "person",
        "action": "event",
        "identifiers": {"id": "1"},
        "name": "x",
        "timestamp": 1.5,
    },
    {"type": "person", "action": "event", "identifiers": {"email": "a@b"}},
    {"type": "object", "action": "delete", "identifiers": {"object_type_id": "1"}},
    {"type": "person", "action": "add_relationships", "identifiers": {"id": "1"}},
]


@pytest.mark.parametrize("body", HUBSPOT)
def test_hubspot_shortcut_agrees_with_the_schema(body):
    assert fast_problems(HUBSPOT_COMPANIES, body) == problems(HUBSPOT_COMPANIES, body)


@pytest.mark.parametrize("body", SALESFORCE)
def test_salesforce_shortcut_agrees_with_the_schema(body):
    assert fast_problems(SALESFORCE_UPSERT, body) == problems(SALESFORCE_UPSERT, body)


@pytest.mark.parametrize("op", CUSTOMERIO)
def test_customerio_shortcut_agrees_with_the_schema(op):
    assert bool(customerio_operation_problems(op)) == bool(
        problems(CUSTOMERIO_BATCH, {"batch": [op]})
    )
