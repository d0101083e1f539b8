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
    """(destination id field -> value, other column -> value) for one change.

    When an identifier column is absent from the change (a `remove` the engine sent with
    only its key), the sync key stands in for it: sync models use the destination id as key.
    """
    ids: dict[str, Any] = {}
    for dest_field, column in identifier.items():
        value = change.fields.get(column)
        ids[dest_field] = change.key if value is None and len(identifier) == 1 else value
    id_columns = set(identifier.values())
    attrs = {
        k: v for k, v in change.fields.items() if k not in id_columns and k not in SYNC_COLUMNS
    }
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
