"""Row -> payload helpers shared by the HTTP destinations (pure functions, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sync.records import Change

SYNC_COLUMNS = frozenset({"sync_key", "sync_hash"})


class BadValue(ValueError):
    """A value the destination cannot accept; the message names the field."""


def split_fields(
    identifier: Mapping[str, str], change: Change
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(destination id field -> value, other destination field -> value) for one change.

    The engine keys `change.fields` by destination field name (it applies the sync's
    identifier and field mapping), so identifier fields are looked up by their destination
    name (or, for callers that key by column, the identifier column) and never sent again
    as attributes. When a single identifier is missing (a
    `remove` of a row no longer in the model), the sync key stands in for it.
    """
    ids: dict[str, Any] = {}
    for dest_field, column in identifier.items():
        value = change.fields.get(dest_field, change.fields.get(column))
        ids[dest_field] = change.key if value is None and len(identifier) == 1 else value
    id_names = set(identifier) | set(identifier.values())
    attrs = {k: v for k, v in change.fields.items() if k not in id_names and k not in SYNC_COLUMNS}
    return ids, attrs


def as_utc(value: datetime) -> datetime:
    """Naive timestamps from the warehouse are UTC by the project's convention."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def unix_seconds(value: date | datetime) -> int:
    if isinstance(value, datetime):
        return int(as_utc(value).timestamp())
    return int(datetime.combine(value, time(), tzinfo=UTC).timestamp())


def epoch_ms(value: date | datetime) -> int:
    if isinstance(value, datetime):
        return int(as_utc(value).timestamp() * 1000)
    return int(datetime.combine(value, time(), tzinfo=UTC).timestamp()) * 1000


def check_finite(name: str, value: Any) -> None:
    """NaN and Infinity are not JSON and no destination stores them: refuse with a reason."""
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise BadValue(f"field {name!r} is {value}; NaN/Infinity cannot be sent")


def plain_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def byte_len(value: Any) -> int:
    return len(str(value).encode())
