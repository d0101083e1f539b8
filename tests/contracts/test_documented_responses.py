"""The response examples the contract tests replay are themselves valid by the vendors' schemas,
and every status the issue names (200, 207, 400, 401, 413, 429) is covered for each API."""

from __future__ import annotations

import json
import re

import pytest

from tests.contracts.schemas import (
    CUSTOMERIO_BATCH,
    HERE,
    HUBSPOT_COMPANIES,
    SALESFORCE_UPSERT,
    document,
    problems,
)

RESPONSE_SCHEMAS = {
    "customerio": CUSTOMERIO_BATCH,
    "hubspot": HUBSPOT_COMPANIES,
    "salesforce": SALESFORCE_UPSERT,
}
VENDORS = ["customerio", "hubspot", "salesforce", "slack"]


def entries(vendor: str) -> list[dict]:
    return json.loads((HERE / vendor / "responses.json").read_text())["responses"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_example_with_a_schema_conforms_to_it(vendor: str):
    for entry in entries(vendor):
        if entry.get("schema"):
            found = problems(RESPONSE_SCHEMAS[vendor], entry["body"], entry["schema"])
            assert found == [], f"{vendor}/{entry['name']}: {found}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_statuses_the_issue_names_are_all_replayed(vendor: str):
    statuses = {entry["status"] for entry in entries(vendor)}
    wanted = {200, 400, 413, 429} | ({207} if vendor in ("customerio", "hubspot") else set())
    wanted |= {401} if vendor != "slack" else {403, 404, 410}
    assert wanted <= statuses


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_schema_names_its_source_and_date(vendor: str):
    for path in (HERE / vendor).glob("*.json"):
        if path.name == "responses.json":
            continue
        source = document(vendor, path.stem)["x-source"]
        assert re.fullmatch(r"2026-\d\d-\d\d", source["retrieved"]), path.name  # when read
        assert source.get("commit") or source.get("repository_commit") or source.get("documents")
