"""Salesforce records without an external id to upsert by (issue 18: CS Tasks).

Upsert by external id needs a custom field marked External ID, and activities (Task,
Event) cannot reliably have one, so for a sync with `match_by_query: true` the identifier
is an ordinary custom field (e.g. `PLG_Task_Id__c`) and each batch goes:

1. `GET /query?q=SELECT Id, <field> FROM <SObject> WHERE <field> IN (...)`: which records
   exist already;
2. lookups by query: for a reference with `id_field` (e.g. `WhatId` of a Task, a
   polymorphic lookup), `SELECT Id, <ext> FROM <parent> WHERE <ext> IN (...)` gives the
   parent's Id;
3. `PATCH /composite/sobjects` (update by Id) for the ones that exist and `POST
   /composite/sobjects` (create) for the others, `allOrNone: false`, one result per record
   in order.

Idempotent across crashes: a record created just before a crash is found by step 1 on the
rerun and updated, never created twice. Two runs never overlap (the engine's lease), which
is what makes "query, then create" safe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from sync.http import Item, TransientHttpError, body_excerpt, permanent, response_json, retryable
from sync.records import Outcome

MAX_IN = 200  # ids per SOQL IN list and records per collections call


def _soql_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)


def query_ids(
    api: Callable[..., httpx.Response], base: str, sobject: str, field: str, values: Sequence[str]
) -> dict[str, str]:
    """field value -> record Id for the records of `sobject` that exist."""
    found: dict[str, str] = {}
    distinct = sorted(set(values))
    for start in range(0, len(distinct), MAX_IN):
        soql = (
            f"SELECT Id, {field} FROM {sobject} "
            f"WHERE {field} IN ({_soql_list(distinct[start : start + MAX_IN])})"
        )
        response = api("GET", f"{base}/query?q={quote(soql)}")
        if response.status_code != 200:
            raise TransientHttpError(
                f"http_{response.status_code}",
                f"Salesforce query of {sobject} answered HTTP {response.status_code}: "
                f"{body_excerpt(response)}",
            )
        for record in (response_json(response) or {}).get("records") or []:
            if record.get(field) is not None and record.get("Id"):
                found[str(record[field])] = str(record["Id"])
    return found


def send_matched(
    api: Callable[..., httpx.Response],
    base: str,
    sobject: str,
    match_field: str,
    items: Sequence[Item],
    lookups: dict[str, tuple[str, str, str]],
    parents: dict[str, dict[str, str]],
) -> list[Outcome]:
    """Create or update each item's record; `lookups`: id field -> (parent type, parent
    external id field, model column), `parents`: item key -> {id field -> parent value}."""
    try:
        existing = query_ids(
            api, base, sobject, match_field, [i.payload[match_field] for i in items]
        )
        parent_ids = {
            id_field: query_ids(
                api, base, parent, ext, [p[id_field] for p in parents.values() if id_field in p]
            )
            for id_field, (parent, ext, _) in lookups.items()
        }
    except TransientHttpError as exc:
        return [retryable(i.key, exc.code, exc.message) for i in items]
    outcomes: list[Outcome] = []
    creates: list[Item] = []
    updates: list[Item] = []
    for item in items:
        record = dict(item.payload)
        missing = None
        for id_field, (parent, ext, _) in lookups.items():
            value = parents.get(item.key, {}).get(id_field)
            if value not in parent_ids[id_field]:
                missing = f"no {parent} with {ext}={value!r} yet; retried next run"
                break
            record[id_field] = parent_ids[id_field][value]
        if missing:
            outcomes.append(retryable(item.key, "parent_not_found", missing))
            continue
        found = existing.get(str(record[match_field]))
        if found:
            updates.append(Item(item.key, {**record, "Id": found}, item.size))
        else:
            creates.append(Item(item.key, record, item.size))
    for method, batch in (("PATCH", updates), ("POST", creates)):
        for start in range(0, len(batch), MAX_IN):
            outcomes += _collections(api, base, method, batch[start : start + MAX_IN])
    return outcomes


def _collections(
    api: Callable[..., httpx.Response], base: str, method: str, batch: Sequence[Item]
) -> list[Outcome]:
    body = {"allOrNone": False, "records": [item.payload for item in batch]}
    try:
        response = api(method, f"{base}/composite/sobjects", body)
    except TransientHttpError as exc:
        return [retryable(i.key, exc.code, exc.message) for i in batch]
    results: Any = response_json(response) if response.status_code < 300 else None
    if not isinstance(results, list) or len(results) != len(batch):
        reason = f"Salesforce answered HTTP {response.status_code}: {body_excerpt(response)}"
        return [retryable(i.key, f"http_{response.status_code}", reason) for i in batch]
    outcomes = []
    for item, result in zip(batch, results, strict=True):
        if result.get("success"):
            outcomes.append(Outcome.success(item.key))
            continue
        errors = result.get("errors") or []
        code = errors[0].get("statusCode", "error") if errors else "error"
        message = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in errors)
        make = retryable if code == "UNABLE_TO_LOCK_ROW" else permanent
        outcomes.append(make(item.key, code, message))
    return outcomes
