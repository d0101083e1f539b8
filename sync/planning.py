"""Pure decisions about a plan: which columns a sync reads, how a row becomes a `Change`,
whether the guardrails allow applying it, and whether failures exceed the threshold.

Nothing here does I/O, so the rules are tested without a warehouse or a server.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync.errors import ConfigError
from sync.records import Change
from sync.secrets import redact
from sync.values import jsonable

if TYPE_CHECKING:  # annotations only
    from sync.config import SyncConfig
    from sync.types import DiffCounts

SYSTEM_COLUMNS = ("sync_key", "sync_hash")


@dataclass(frozen=True)
class ColumnMapping:
    """How one sync's model columns map to destination fields."""

    identifier: dict[str, str]  # dest id field -> column
    fields: dict[str, str]  # dest field -> column

    @functools.cached_property
    def columns(self) -> list[str]:
        """Model columns to select, each once, identifier first (stable order)."""
        out: list[str] = []
        for c in [*self.identifier.values(), *self.fields.values()]:
            if c not in out:
                out.append(c)
        return out


def resolve_mapping(sync: SyncConfig, model_columns: Sequence[str], where: str) -> ColumnMapping:
    """Check the sync's columns exist in the model; default fields = non-`sync_*` columns."""
    available = [c.lower() for c in model_columns]
    missing_system = [c for c in SYSTEM_COLUMNS if c not in available]
    if missing_system:
        raise ConfigError(
            f"{where}: sync {sync.name!r}: model {sync.model!r} has no {missing_system} "
            "column; every sync model needs sync_key and sync_hash"
        )
    fields = (
        dict(sync.fields)
        if sync.fields is not None
        else {c: c for c in available if not c.startswith("sync_")}
    )
    problems = []
    for kind, mapping in (("identifier", sync.identifier), ("fields", fields)):
        for dest, col in mapping.items():
            if col.lower() not in available:
                problems.append(
                    f"sync {sync.name!r} field '{kind}.{dest}': column {col!r} is not in model "
                    f"{sync.model!r}; columns: {available}"
                )
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))
    return ColumnMapping(
        identifier={k: v.lower() for k, v in sync.identifier.items()},
        fields={k: v.lower() for k, v in fields.items()},
    )


def row_to_change(row: Sequence[Any], mapping: ColumnMapping) -> Change:
    """(operation, sync_key, hash_before, hash_after, *columns) -> Change.

    `fields` is keyed by destination field name: the identifier fields first, then the
    mapped fields. Values stay as the warehouse driver returned them (datetime, date,
    Decimal, ...): each destination formats them the way its API documents (Unix seconds,
    epoch ms, ISO text); only the file destination and plan samples turn them into JSON.
    A removed row is gone from the model: its identifier comes from sync_key (config
    validation requires that for on_remove unset/delete) and every mapped field is present
    with None, so `unset` knows which attributes to clear.
    """
    op, key, before, after = row[0], str(row[1]), row[2], row[3]
    if op == "remove":
        fields: dict[str, Any] = dict.fromkeys(mapping.fields)
        fields.update(dict.fromkeys(mapping.identifier, key))
        return Change(op="remove", key=key, hash=None, fields=fields, old_hash=before)
    values = dict(zip(mapping.columns, row[4:], strict=True))
    fields = {dest: values[col] for dest, col in mapping.identifier.items()}
    fields.update({dest: values[col] for dest, col in mapping.fields.items()})
    return Change(op=op, key=key, hash=after, fields=fields, old_hash=before)


def redacted_sample(change: Change) -> dict[str, Any]:
    """A change as shown by `plan`: secrets scrubbed from every string value."""
    return {
        "op": change.op,
        "key": change.key,
        "fields": {
            k: redact(v) if isinstance(v, str) else v for k, v in jsonable(change.fields).items()
        },
    }


def column_signature(columns: Sequence[str], types: Mapping[str, str | None]) -> str:
    """`name:type,...` of the columns a sync sends (type empty when the model has no contract)."""
    return ",".join(f"{c}:{(types.get(c) or '').lower()}" for c in sorted(columns))


def schema_drift(previous: str | None, current: str) -> str | None:
    """What changed between two column signatures, in words; None if nothing did.

    A type is compared only when both runs knew it (contract on), so turning a contract on
    is not mistaken for drift.
    """
    if previous is None or previous == current:
        return None

    def parse(sig: str) -> dict[str, str]:
        return dict(x.split(":", 1) for x in sig.split(",") if x)

    before, after = parse(previous), parse(current)
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    retyped = [
        f"{c} {before[c]} -> {after[c]}"
        for c in sorted(set(before) & set(after))
        if before[c] and after[c] and before[c] != after[c]
    ]
    parts = [
        f"{label}: {', '.join(names)}"
        for label, names in (("added", added), ("removed", removed), ("type changed", retyped))
        if names
    ]
    return "; ".join(parts) or None


def guardrail_problems(
    sync: SyncConfig, counts: DiffCounts, last_model_rows: int | None
) -> list[str]:
    """Why applying this plan looks like an accident upstream; [] when it looks normal."""
    g, out = sync.guardrails, []
    if counts.state_rows and counts.removed / counts.state_rows > g.max_removed_share:
        out.append(
            f"sync {sync.name!r}: {counts.removed} of {counts.state_rows} synced records "
            f"({counts.removed / counts.state_rows:.0%}) would be removed; the guardrail "
            f"max_removed_share is {g.max_removed_share:.0%}"
        )
    if (
        last_model_rows
        and (last_model_rows - counts.model_rows) / last_model_rows > g.max_shrink_share
    ):
        shrink = (last_model_rows - counts.model_rows) / last_model_rows
        out.append(
            f"sync {sync.name!r}: model {sync.model!r} shrank from {last_model_rows} to "
            f"{counts.model_rows} rows ({shrink:.0%}) since the last successful run; the "
            f"guardrail max_shrink_share is {g.max_shrink_share:.0%}"
        )
    return out


def failures_over_threshold(sync: SyncConfig, failed: int, attempted: int) -> str | None:
    """A message when failed records exceed the sync's threshold (default: any failure)."""
    if failed == 0:
        return None
    if sync.max_failed_records is None and sync.max_failed_share is None:
        return f"sync {sync.name!r}: {failed} of {attempted} records failed (threshold: 0)"
    if sync.max_failed_records is not None and failed > sync.max_failed_records:
        return (
            f"sync {sync.name!r}: {failed} of {attempted} records failed; "
            f"max_failed_records is {sync.max_failed_records}"
        )
    if (
        sync.max_failed_share is not None
        and attempted
        and failed / attempted > sync.max_failed_share
    ):
        return (
            f"sync {sync.name!r}: {failed} of {attempted} records ({failed / attempted:.1%}) "
            f"failed; max_failed_share is {sync.max_failed_share:.1%}"
        )
    return None
