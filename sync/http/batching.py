"""Batching and per-record outcomes: pack items under count and byte limits, send batches
concurrently, bisect a batch the API rejected as a whole until the bad record is alone.

One bad row never blocks a batch: a 400/413 without a per-record answer is split in halves
until each failing record gets its own permanent outcome and the rest go through.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sync.http.client import HttpClient, dumps
from sync.http.errors import BatchRejected, TransientHttpError
from sync.records import Outcome
from sync.secrets import redact


@dataclass(frozen=True, slots=True)
class Item:
    """One record ready to send: its sync key, wire payload and the payload's JSON size."""

    key: str
    payload: Any
    size: int


def make_item(key: str, payload: Any) -> Item:
    return Item(key, payload, len(dumps(payload)))


def pack(
    items: Iterable[Item], *, max_count: int, max_bytes: int, overhead: int = 64
) -> list[list[Item]]:
    """Group items into batches under both a record count and a request size in bytes."""
    batches: list[list[Item]] = []
    current: list[Item] = []
    size = overhead
    for item in items:
        if current and (len(current) >= max_count or size + item.size + 1 > max_bytes):
            batches.append(current)
            current, size = [], overhead
        current.append(item)
        size += item.size + 1
    if current:
        batches.append(current)
    return batches


def deliver(
    client: HttpClient,
    batches: Sequence[Sequence[Item]],
    send_batch: Callable[[Sequence[Item]], list[Outcome]],
) -> list[Outcome]:
    """Send batches concurrently; bisect rejected ones; one outcome per item.

    `send_batch` returns outcomes for its items, raises `BatchRejected` when the API refused
    the batch as a whole, or lets `TransientHttpError` escape after retries ran out (all its
    items become retryable). Anything else (DestinationError) stops the run.
    """

    def run(batch: Sequence[Item]) -> list[Outcome]:
        return bisect(batch, send_batch)

    results = client.map(run, list(batches))
    return [outcome for outcomes in results for outcome in outcomes]


def bisect(
    batch: Sequence[Item], send_batch: Callable[[Sequence[Item]], list[Outcome]]
) -> list[Outcome]:
    """Outcomes for `batch`, halving it on `BatchRejected` until single records remain."""
    try:
        return send_batch(batch)
    except BatchRejected as exc:
        if len(batch) == 1:
            return [permanent(batch[0].key, exc.code, exc.reason)]
        mid = math.ceil(len(batch) / 2)
        return bisect(batch[:mid], send_batch) + bisect(batch[mid:], send_batch)
    except TransientHttpError as exc:
        return [retryable(item.key, exc.code, exc.message) for item in batch]


def permanent(key: str, code: str, message: str) -> Outcome:
    """A rejection the destination will repeat until the row changes (logged, resent)."""
    return Outcome(key, "permanent", code, redact(message))


def retryable(key: str, code: str, message: str) -> Outcome:
    """A failure that may pass on the next run (throttled, locked, unattributed)."""
    return Outcome(key, "retryable", code, redact(message))
