"""Batching and per-record outcomes: pack items under count and byte limits, send batches
concurrently, bisect a batch the API rejected as a whole until the bad record is alone.

One bad row never blocks a batch: a 400/413 without a per-record answer is split in halves
until each failing record gets its own permanent outcome and the rest go through. The same
splitting resolves a 2xx that reports failures without naming the records (`PartiallyRejected`):
a record counts as delivered only when an answer proves it, never on faith.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sync.http.client import HttpClient, dumps
from sync.http.errors import BatchRejected, PartiallyRejected, TransientHttpError
from sync.records import Outcome, Outcomes
from sync.secrets import redact

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Item:
    """One record ready to send: its sync key, wire payload and the payload's JSON size."""

    key: str
    payload: Any
    size: int


class TextItems(Sequence[Item]):
    """Items kept as two parallel lists, keys and JSON texts, instead of one `Item` each.

    A batch of a warehouse-built sync is framed straight from these lists (one join and one
    encode per request); `Item`s are made only when something needs them one by one
    (bisecting a rejected batch, outcomes of a failed request).
    """

    __slots__ = ("keys", "texts")

    def __init__(self, keys: list[str], texts: list[str]) -> None:
        self.keys = keys
        self.texts = texts

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return TextItems(self.keys[index], self.texts[index])
        payload = self.texts[index].encode()
        return Item(self.keys[index], payload, len(payload))

    def joined(self, separator: str = ",") -> bytes:
        """The texts joined by `separator`, UTF-8 encoded (the body of a batch request)."""
        return separator.join(self.texts).encode()


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
    the batch as a whole or `PartiallyRejected` when it refused some items without naming
    them (both are split until single items remain), or lets `TransientHttpError` escape
    after retries ran out (all its items become retryable). Anything else
    (DestinationError) stops the run.
    """

    def run(batch: Sequence[Item]) -> list[Outcome]:
        return expand(batch, bisect(batch, send_batch))

    results = client.map(run, list(batches))
    return [outcome for outcomes in results for outcome in outcomes]


def expand(batch: Sequence[Item], outcomes: Outcomes) -> list[Outcome]:
    """One `Outcome` per item, also when `outcomes` is None (every item proven accepted)."""
    if outcomes is None:
        return [Outcome.success(key) for key in _keys(batch)]
    return outcomes


def _keys(batch: Sequence[Item]) -> list[str]:
    return batch.keys if isinstance(batch, TextItems) else [item.key for item in batch]


class SendWindow(Generic[T]):
    """Send batches on worker threads while the caller goes on reading and packing.

    The caller `submit`s each batch as soon as it is packed and takes finished ones back
    from `ready` (submission order). At most `depth` batches are queued or in flight: a
    full window blocks `ready` on the oldest batch, so memory stays bounded by the window
    whatever the size of the run, and neither side waits on the other while there is room.
    Each batch goes through `bisect` (one outcome per item, as `deliver`). `tag` travels
    with the batch untouched (the caller's own records for those items).
    """

    def __init__(
        self,
        client: HttpClient,
        send_batch: Callable[[Sequence[Item]], Outcomes],
        depth: int | None = None,
    ) -> None:
        workers = client.pacing.max_in_flight
        self._depth = depth or 2 * workers
        self._send_batch = send_batch
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plg-sync-http")
        self._pending: deque[tuple[T, Future[Outcomes]]] = deque()

    def submit(self, tag: T, batch: Sequence[Item]) -> None:
        self._pending.append((tag, self._pool.submit(bisect, batch, self._send_batch)))

    def ready(self) -> Iterator[tuple[T, Outcomes]]:
        """Finished batches from the front; waits for the oldest while the window is full."""
        while self._pending and (len(self._pending) >= self._depth or self._pending[0][1].done()):
            tag, future = self._pending.popleft()
            yield tag, future.result()  # DestinationError (e.g. 401) propagates: run stops

    def drain(self) -> Iterator[tuple[T, Outcomes]]:
        """Every batch still pending, waiting for each in turn."""
        while self._pending:
            tag, future = self._pending.popleft()
            yield tag, future.result()

    def close(self) -> None:
        """Cancel what has not started and wait for what has (its outcomes are dropped: those
        records keep their old state and are sent again next run)."""
        for _, future in self._pending:
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)


def bisect(batch: Sequence[Item], send_batch: Callable[[Sequence[Item]], Outcomes]) -> Outcomes:
    """Outcomes for `batch`, halving it on `BatchRejected` / `PartiallyRejected` until single
    records remain. Resending the halves is safe because destination operations are
    idempotent (upserts, identifies, events with a stable id).

    None (from `send_batch` or here) means the answers proved every item of `batch`."""
    try:
        return send_batch(batch)
    except BatchRejected as exc:
        if len(batch) == 1:
            return [permanent(batch[0].key, exc.code, exc.reason)]
        return _halves(batch, send_batch)
    except PartiallyRejected as exc:
        if len(batch) == 1:  # the error can only be this record's
            make = retryable if exc.retryable else permanent
            return [make(batch[0].key, exc.code, exc.reason)]
        return _halves(batch, send_batch)
    except TransientHttpError as exc:
        return [retryable(key, exc.code, exc.message) for key in _keys(batch)]


def _halves(batch: Sequence[Item], send_batch: Callable[[Sequence[Item]], Outcomes]) -> Outcomes:
    mid = math.ceil(len(batch) / 2)
    left, right = batch[:mid], batch[mid:]
    first, second = bisect(left, send_batch), bisect(right, send_batch)
    if first is None and second is None:
        return None
    return expand(left, first) + expand(right, second)


def permanent(key: str, code: str, message: str) -> Outcome:
    """A rejection the destination will repeat until the row changes (logged, resent)."""
    return Outcome(key, "permanent", code, redact(message))


def retryable(key: str, code: str, message: str) -> Outcome:
    """A failure that may pass on the next run (throttled, locked, unattributed)."""
    return Outcome(key, "retryable", code, redact(message))
