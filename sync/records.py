"""The two values that cross the engine/destination boundary.

The engine turns diff rows into `Change`s; a destination answers every change with exactly
one `Outcome`. State is committed only for `ok` outcomes, which is what makes delivery
at-least-once without loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Operation = Literal["add", "change", "remove"]
OutcomeStatus = Literal["ok", "retryable", "permanent"]


@dataclass(frozen=True, slots=True)
class Change:
    """One record to apply: its key, new hash (None when removed) and mapped fields."""

    op: Operation
    key: str
    hash: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    old_hash: str | None = None
    # Set when the warehouse built the destination operation (`Destination.payload_sql`):
    # its JSON text, or the limit the row breaks (then nothing is sent for it).
    payload: str | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the destination said about one record."""

    key: str
    status: OutcomeStatus
    code: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def success(cls, key: str) -> Outcome:
        return cls(key=key, status="ok")
