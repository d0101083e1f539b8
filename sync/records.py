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


@dataclass(frozen=True, slots=True)
class Frame:
    """Consecutive changed rows whose operations the warehouse built, column by column.

    The fast path of a large sync (issue 19): a Python object per record per step (a
    `Change`, an encoded item, an `Outcome`, a state row) cost more CPU than the
    destination's rate limit allows for, so rows whose operation the warehouse already
    built (`Destination.payload_sql`) travel as one list per column instead. `payloads` is
    each row's operation as JSON text, `problems` the documented limit the row breaks
    (then it is not sent) or None. Removes never travel in a frame (they need the
    destination's own per-record remove logic).
    """

    ops: list[Operation]
    keys: list[str]
    hashes: list[str | None]
    payloads: list[str | None]
    problems: list[str | None]

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, part: slice) -> Frame:
        return Frame(
            self.ops[part],
            self.keys[part],
            self.hashes[part],
            self.payloads[part],
            self.problems[part],
        )

    def __add__(self, other: Frame) -> Frame:
        return Frame(
            self.ops + other.ops,
            self.keys + other.keys,
            self.hashes + other.hashes,
            self.payloads + other.payloads,
            self.problems + other.problems,
        )

    def take(self, indexes: list[int]) -> Frame:
        """The rows at `indexes`, in that order."""
        return Frame(*([col[i] for i in indexes] for col in self.columns()))

    def columns(self) -> tuple[list[Any], ...]:
        return (self.ops, self.keys, self.hashes, self.payloads, self.problems)

    def changes(self) -> list[Change]:
        """One `Change` per row (for destinations that only take changes)."""
        return [
            Change(op=op, key=key, hash=h, payload=payload, problem=problem)
            for op, key, h, payload, problem in zip(*self.columns(), strict=True)
        ]


# Outcomes of one batch: a list with one `Outcome` per record, or None when the answer
# proved every record of the batch (the common case, kept free of per-record objects).
Outcomes = list[Outcome] | None
