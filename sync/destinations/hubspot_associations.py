"""HubSpot: associate upserted deals and tasks with their company, and tasks also with the
account's contact (issue 18).

The batch upsert input (`SimplePublicObjectBatchInputUpsert`) carries no associations, so
after a batch is upserted the records that HubSpot acknowledged are linked in two calls per
target object type: `POST /crm/v3/objects/{toObjectType}/batch/read` with `idProperty`
finds the targets by a unique property (companies by plg_account_id, contacts by email),
and `POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default`
(`BatchInputPublicDefaultAssociationMultiPost`, tests/contracts/hubspot/) links each record
with the default association type. Both are idempotent, so a record whose association
failed is reported `retryable`: the next run upserts it again (same external id, same
record) and retries the link. A record is acknowledged only when its upsert and every
association it needs are proven. An optional association (`required: false`, e.g. the
task's contact) is skipped for a row whose column is empty; `if_missing: skip` links when
the target exists and otherwise acknowledges the record without that link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sync.http import HttpClient, TransientHttpError, body_excerpt, response_json, retryable
from sync.records import Outcome

MAX_INPUTS = 100  # per batch read / batch associate call


class HubSpotAssociation(BaseModel):
    """One entry of per-sync `options.associate`: which record of `to_object` each synced
    record is linked to."""

    model_config = ConfigDict(extra="forbid")

    to_object: str = "companies"
    id_property: str = "plg_account_id"  # the target's unique property (contacts: email)
    column: str = "plg_account_id"  # the model column holding its value
    # required: a row with an empty column is rejected (it cannot be linked); optional: the
    # link is skipped for that row
    required: bool = True
    # the target does not exist (yet): retry the record next run, or acknowledge it unlinked
    if_missing: Literal["retry", "skip"] = "retry"

    def key(self, value: str) -> str:
        """The value as HubSpot compares it (emails are case-insensitive)."""
        return value.lower() if self.id_property == "email" else value


def associate(
    http: HttpClient,
    object_type: str,
    assoc: HubSpotAssociation,
    outcomes: Sequence[Outcome],
    record_ids: Mapping[str, str],
    targets: Mapping[str, str],
) -> list[Outcome]:
    """The batch's outcomes after linking each acknowledged record that has a target."""
    pending = [o.key for o in outcomes if o.ok and o.key in targets]
    failed: dict[str, str] = {}
    for key in pending:
        if key not in record_ids:
            failed[key] = "HubSpot did not return the record's id in the upsert answer"
    values = sorted({targets[k] for k in pending if k not in failed})
    try:
        found = _find(http, assoc, values)
        links: list[tuple[str, str, str]] = []
        for key in pending:
            if key in failed:
                continue
            target = found.get(assoc.key(targets[key]))
            if target is None and assoc.if_missing == "skip":
                continue
            if target is None:
                failed[key] = (
                    f"no {assoc.to_object} with {assoc.id_property}={targets[key]!r} yet "
                    f"(sync the {assoc.to_object} first); the link is retried next run"
                )
            else:
                links.append((key, record_ids[key], target))
        failed.update(_link(http, object_type, assoc.to_object, links))
    except TransientHttpError as exc:
        failed.update(dict.fromkeys((k for k in pending if k not in failed), str(exc)))
    return [
        retryable(o.key, "association_failed", failed[o.key]) if o.key in failed else o
        for o in outcomes
    ]


def _find(http: HttpClient, assoc: HubSpotAssociation, values: Sequence[str]) -> dict[str, str]:
    """Unique property value -> record id, for the targets that exist."""
    found: dict[str, str] = {}
    for start in range(0, len(values), MAX_INPUTS):
        chunk = values[start : start + MAX_INPUTS]
        response = http.request(
            "POST",
            f"/crm/v3/objects/{assoc.to_object}/batch/read",
            json_body={
                "idProperty": assoc.id_property,
                "inputs": [{"id": v} for v in chunk],
                "properties": [assoc.id_property],
            },
        )
        if response.status_code not in (200, 207):
            raise TransientHttpError(
                f"http_{response.status_code}",
                f"HubSpot batch read of {assoc.to_object} answered HTTP "
                f"{response.status_code}: {body_excerpt(response)}",
            )
        for result in _results(response_json(response)):
            value = (result.get("properties") or {}).get(assoc.id_property)
            if value is not None and result.get("id") is not None:
                found[assoc.key(str(value))] = str(result["id"])
    return found


def _link(
    http: HttpClient, from_object: str, to_object: str, links: Sequence[tuple[str, str, str]]
) -> dict[str, str]:
    """Create default associations; record key -> reason for each link not proven made."""
    failed: dict[str, str] = {}
    for start in range(0, len(links), MAX_INPUTS):
        chunk = links[start : start + MAX_INPUTS]
        response = http.request(
            "POST",
            f"/crm/v4/associations/{from_object}/{to_object}/batch/associate/default",
            json_body={"inputs": [{"from": {"id": rec}, "to": {"id": co}} for _, rec, co in chunk]},
        )
        made: set[tuple[str, str]] = set()
        if response.status_code in (200, 201, 207):
            for result in _results(response_json(response)):
                frm = (result.get("from") or {}).get("id")
                to = (result.get("to") or {}).get("id")
                if frm is not None and to is not None:
                    made.add((str(frm), str(to)))
        reason = f"HubSpot associate answered HTTP {response.status_code}: {body_excerpt(response)}"
        for key, rec, co in chunk:
            if (rec, co) not in made:
                failed[key] = reason
    return failed


def _results(body: Any) -> list[dict[str, Any]]:
    results = body.get("results") if isinstance(body, dict) else None
    return [r for r in results or [] if isinstance(r, dict)]
