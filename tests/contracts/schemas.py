"""Load the vendors' schemas kept under tests/contracts/ and check JSON against them.

One place for the contract tests and the stand-ins: both validate with the same files, so a
stand-in can never accept what the vendor's own schema refuses. Every file names its source
(repository + path + commit, or the documentation URLs) and the date it was read.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

HERE = Path(__file__).resolve().parent

# (vendor, schema file) of each API operation the destinations call.
CUSTOMERIO_BATCH = ("customerio", "track_v2_batch")
HUBSPOT_COMPANIES = ("hubspot", "companies_batch_upsert")
HUBSPOT_CONTACTS = ("hubspot", "contacts_batch_upsert")
HUBSPOT_PROPERTIES = ("hubspot", "properties")
HUBSPOT_ASSOCIATIONS = ("hubspot", "associations_v4_default")
SALESFORCE_UPSERT = ("salesforce", "sobject_collections_upsert")
SLACK_WEBHOOK = ("slack", "incoming_webhook")


@cache
def document(vendor: str, name: str) -> dict[str, Any]:
    """The schema file as stored (with its x-source block)."""
    return json.loads((HERE / vendor / f"{name}.json").read_text())


@cache
def _validator(vendor: str, name: str, definition: str | None) -> Draft202012Validator:
    doc = document(vendor, name)
    root = Resource.from_contents(doc)
    uri = f"urn:plg-contracts:{vendor}:{name}"
    registry = Registry().with_resource(uri, root)
    schema = {"$ref": f"{uri}#/$defs/{definition}"} if definition else {"$ref": uri}
    return Draft202012Validator(schema, registry=registry)


def problems(contract: tuple[str, str], instance: Any, definition: str | None = None) -> list[str]:
    """Every way `instance` breaks the vendor's schema (empty when it conforms).

    `definition` picks a `$defs` entry (a response schema, say); without it the file's
    top-level schema (the request body) is used.
    """
    validator = _validator(*contract, definition)
    found = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        found.append(f"{where}: {_leaf_message(error)}")
    return found


def _leaf_message(error: Any) -> str:
    """The most specific message: for anyOf/oneOf, the branch that matched the `type`/
    `action` discriminators and failed deepest (jsonschema's own relevance ranking)."""
    if error.context:
        best = best_match(error.context, key=_relevance)
        where = "/".join(str(p) for p in best.absolute_path)
        return f"{best.message} (at {where})" if where else best.message
    return error.message


def _relevance(error: Any) -> tuple[int, int]:
    # prefer errors that are not about the discriminating enums, then the deepest
    discriminator = error.validator in ("enum", "const") and list(error.path)[-1:] in (
        ["type"],
        ["action"],
    )
    return (0 if discriminator else 1, len(error.absolute_path))


# (type, action) of a Track API v2 operation -> its definition in track_v2_batch.json.
CUSTOMERIO_OPERATIONS = {
    ("person", "identify"): "person_identify",
    ("person", "delete"): "person_delete",
    ("person", "event"): "person_event",
    ("person", "add_relationships"): "person_add_relationships",
    ("person", "delete_relationships"): "person_delete_relationships",
    ("object", "identify"): "object_identify",
    ("object", "delete"): "object_delete",
}


def customerio_operation_problems(op: Any) -> list[str]:
    """Schema problems of one batch operation, checked against the branch its `type` and
    `action` select (the same verdict as the batch's anyOf, a dozen times faster).

    The stand-in checks thousands of operations per second, so the verdict is cached by the
    operation's shape: the Track API schema constrains only keys, JSON types and the
    `type`/`action` enums (attribute maps are free-form objects), so two operations with the
    same shape get the same verdict.
    """
    if not isinstance(op, dict):
        return ["(operation): not an object"]
    found = _operation_problems(json.dumps(_reduce(op, "", _CIO_FREE, _CIO_KEEP), sort_keys=True))
    definition = CUSTOMERIO_OPERATIONS.get((op.get("type"), op.get("action")))
    if found and definition is not None:  # rare: say it with the operation's own values
        return problems(CUSTOMERIO_BATCH, op, definition)
    return list(found)


# The Track API schema's free-form maps and the keys whose enums it checks: the shape of
# an operation is `_reduce`d with these (no list bound in that schema, so keeping one copy
# of each distinct list item gives the same verdict).
_CIO_FREE = frozenset({"attributes", "relationship_attributes"})
_CIO_KEEP = frozenset({"type", "action"})


@cache
def _operation_problems(shape_json: str) -> tuple[str, ...]:
    op = json.loads(shape_json)
    definition = CUSTOMERIO_OPERATIONS.get((op.get("type"), op.get("action")))
    if definition is None:
        return (f"action: {op.get('type')!r}/{op.get('action')!r} is not an operation we know",)
    return tuple(problems(CUSTOMERIO_BATCH, op, definition))


def fast_problems(
    contract: tuple[str, str],
    instance: Any,
    definition: str | None = None,
    *,
    free: frozenset[str] = frozenset(),
    keep: frozenset[str] = frozenset(),
) -> list[str]:
    """`problems`, cached by the instance's shape, for the stand-ins' hot paths.

    Valid for schemas that constrain only keys, JSON types and the enums of the keys in
    `keep` (HubSpot batch upsert, Salesforce sObject Collections): strings become "" (but
    `keep` keys), numbers 0 / 0.5, maps under a `free` key become {}, and a list keeps one
    copy of each distinct item shape (none of these schemas bounds a list's length here;
    the stand-ins check the documented batch limits themselves). Not for schemas with
    length limits (Slack's Block Kit). When the shape fails, the real instance is validated
    so the messages quote its own values.
    """
    shape = json.dumps(_reduce(instance, "", free, keep), sort_keys=True)
    if _shape_problems(contract, definition, shape):
        return problems(contract, instance, definition)
    return []


def _reduce(value: Any, key: str, free: frozenset[str], keep: frozenset[str]) -> Any:
    if isinstance(value, dict):
        if key in free:
            return {}
        return {k: _reduce(v, k, free, keep) for k, v in value.items()}
    if isinstance(value, list):
        items: list[Any] = []
        for v in value:
            reduced = _reduce(v, "", free, keep)
            if reduced not in items:
                items.append(reduced)
        return items
    if isinstance(value, str):
        return value if key in keep else ""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.5
    return value


@cache
def _shape_problems(contract: tuple[str, str], definition: str | None, shape: str) -> bool:
    return bool(problems(contract, json.loads(shape), definition))
