"""Customer.io `deliver`: requests are packed while earlier ones travel, memory stays bounded,
and the outcome rules are those of `send` (one per record, acknowledged only when proven).

Issue 19: building and sending took turns, so the senders waited on the builder and the
builder on them; and a run held every batch of its chunk at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import orjson
import pytest

from sync.destinations.customerio import CustomerIo
from sync.errors import DestinationError
from sync.http import HttpClient, Item, PacingOptions, SendWindow
from sync.records import Change, Frame, Outcome
from sync.types import DestinationStats
from tests.destinations.conftest import CANARY, FAST
from tests.standins.customerio import CustomerIoStandIn
from tests.standins.spec import Spec

PEOPLE = Spec(object="person", identifier={"id": "user_id"}, on_remove="unset")


def make(standin: CustomerIoStandIn, **overrides) -> CustomerIo:
    options = CustomerIo.Options.model_validate(
        {"site_id": "site-42", "api_key": CANARY, "base_url": standin.url, **FAST, **overrides}
    )
    return CustomerIo("cio", options)


def per_record(group, outcomes: list[Outcome] | None) -> list[Outcome]:
    """None stands for "the answer proved every record of the group"."""
    keys = group.keys if isinstance(group, Frame) else [c.key for c in group]
    return [Outcome.success(key) for key in keys] if outcomes is None else outcomes


def people(n: int, consumed: list[int] | None = None) -> Iterator[Change]:
    for i in range(n):
        if consumed is not None:
            consumed[0] = i + 1
        note = "x" * 1001 if i % 97 == 0 else f"note {i}"  # every 97th breaks a limit
        row = {"user_id": f"u{i}", "plan": "pro", "note": note}
        yield Change("add", f"u{i}", f"h{i}", row)


def test_every_streamed_record_gets_exactly_one_outcome_and_bad_rows_cost_no_request(
    cio_standin,
):
    dest = make(cio_standin, max_batch_bytes=20_000)
    seen: dict[str, Outcome] = {}
    for group, answer in dest.deliver(PEOPLE, people(3000), batch_size=100):
        outcomes = per_record(group, answer)
        assert sorted(c.key for c in group) == sorted(o.key for o in outcomes)
        for o in outcomes:
            assert o.key not in seen, "one outcome per record"
            seen[o.key] = o
    assert len(seen) == 3000
    bad = {k for k, o in seen.items() if not o.ok}
    assert bad == {f"u{i}" for i in range(0, 3000, 97)}
    assert all(seen[k].code == "invalid_value" for k in bad)
    assert set(cio_standin.people) == set(seen) - bad  # the bad rows were never sent
    sizes = [len(r.body) for r in cio_standin.request_log if r.path == "/api/v2/batch"]
    assert max(sizes) <= 20_000 and len(sizes) > 10  # packed by bytes, many requests


def test_reading_stops_while_the_window_of_requests_is_full(cio_standin):
    # Slow answers: the reader may run ahead by the window only, not through the whole diff.
    cio_standin.inject("slow", times=1000, delay=0.05)
    dest = make(cio_standin, max_batch_bytes=2_000, max_in_flight=2)
    consumed = [0]
    stream = dest.deliver(PEOPLE, people(5000, consumed), batch_size=100)
    next(stream)
    ahead = consumed[0]
    stream.close()
    # window = 2 x max_in_flight requests of ~20 operations each (2 KB), plus the one packing
    assert ahead < 200, f"read {ahead} records before the first answer"


def test_a_credentials_error_stops_the_stream_and_its_senders(cio_standin):
    dest = make(cio_standin, api_key="wrong-key")
    with pytest.raises(DestinationError, match="credentials"):
        for _ in dest.deliver(PEOPLE, people(2000), 100):
            pass


def test_send_window_hands_back_batches_in_order_and_blocks_when_full():
    client = HttpClient(
        "http://127.0.0.1:9",
        pacing=PacingOptions(max_in_flight=2),
        stats=DestinationStats(),
        limit_key="window-test",
    )
    release = threading.Event()

    def send(batch):
        if batch[0].key == "0":
            release.wait(5)
        return [Outcome.success(i.key) for i in batch]

    window: SendWindow[int] = SendWindow(client, send, depth=2)
    try:
        window.submit(0, [Item("0", b"{}", 2)])
        window.submit(1, [Item("1", b"{}", 2)])
        started = time.monotonic()
        threading.Timer(0.2, release.set).start()
        first = next(window.ready())  # full window: waits for batch 0, not just any
        assert first[0] == 0 and time.monotonic() - started >= 0.15
        assert [tag for tag, _ in window.drain()] == [1]
    finally:
        window.close()
        client.close()


# --- deliver_frames: operations the warehouse built, column by column ---------------------


def frame(start: int, n: int, note=lambda i: f"note {i}", problem=lambda i: None) -> Frame:
    keys = [f"u{i}" for i in range(start, start + n)]
    texts = [
        orjson.dumps(
            {
                "type": "person",
                "action": "identify",
                "identifiers": {"id": f"u{i}"},
                "attributes": {"plan": "pro", "note": note(i)},
            }
        ).decode()
        for i in range(start, start + n)
    ]
    problems = [problem(i) for i in range(start, start + n)]
    return Frame(["add"] * n, keys, [f"h{i}" for i in keys], texts, problems)


def frames(total: int, size: int, **kw) -> Iterator[Frame]:
    for start in range(0, total, size):
        yield frame(start, min(size, total - start), **kw)


def test_frames_fill_requests_across_frame_boundaries_and_prove_every_record(cio_standin):
    # Frames of 7 rows, requests of up to 50 operations: a request's tail is carried into
    # the next frame, so only the last request is short; every record is proven once.
    dest = make(cio_standin, max_batch_operations=50)
    proven: list[str] = []
    for group, outcomes in dest.deliver_frames(PEOPLE, frames(1000, 7)):
        assert outcomes is None  # a 200 without errors proves the whole request
        proven += group.keys
    assert sorted(proven) == sorted(f"u{i}" for i in range(1000))
    counts = [len(json.loads(r.body)["batch"]) for r in cio_standin.request_log]
    assert counts == [50] * 20
    assert set(cio_standin.people) == set(proven)


def test_frame_rows_with_a_problem_or_an_oversized_operation_cost_no_request(cio_standin):
    dest = make(cio_standin, max_batch_bytes=20_000)
    seen: dict[str, Outcome] = {}
    groups = dest.deliver_frames(
        PEOPLE,
        frames(
            600,
            100,
            note=lambda i: "é" * 16_001 if i == 5 else f"note {i}",  # 32,002 bytes of UTF-8
            problem=lambda i: "attribute 'note' is too long" if i % 97 == 0 else None,
        ),
    )
    for group, answer in groups:
        outcomes = per_record(group, answer)
        assert sorted(group.keys) == sorted(o.key for o in outcomes)
        for o in outcomes:
            assert o.key not in seen, "one outcome per record"
            seen[o.key] = o
    assert len(seen) == 600
    bad = {k for k, o in seen.items() if not o.ok}
    assert bad == {f"u{i}" for i in range(0, 600, 97)} | {"u5"}
    assert seen["u5"].code == "operation_too_large" and "32" in (seen["u5"].message or "")
    assert seen["u97"].code == "invalid_value" and "too long" in (seen["u97"].message or "")
    assert set(cio_standin.people) == set(seen) - bad
    sizes = [len(r.body) for r in cio_standin.request_log]
    assert max(sizes) <= 20_000 and sorted(sizes)[1] > 19_500  # full but for the last one


def test_frame_request_size_counts_utf8_bytes_not_characters(cio_standin):
    # 3-byte characters: a body measured in characters would be ~3x over the byte limit.
    dest = make(cio_standin, max_batch_bytes=10_000)
    for _ in dest.deliver_frames(PEOPLE, frames(200, 50, note=lambda i: "€" * 60)):
        pass
    sizes = [len(r.body) for r in cio_standin.request_log]
    assert (
        max(sizes) <= 10_000
        and sum(len(json.loads(r.body)["batch"]) for r in cio_standin.request_log) == 200
    )


def test_a_partial_failure_in_a_frame_request_is_split_to_the_refused_record(cio_standin):
    # The documented 207 names no operation: only the refused record fails, the others are
    # proven by the answers to the halves, none is acknowledged on faith.
    cio_standin.reject_ids = {"u33"}
    dest = make(cio_standin)
    seen: dict[str, Outcome] = {}
    for group, answer in dest.deliver_frames(PEOPLE, frames(100, 40)):
        for o in per_record(group, answer):
            seen[o.key] = o
    assert len(seen) == 100
    assert [k for k, o in seen.items() if not o.ok] == ["u33"]
    assert seen["u33"].status == "permanent"


def test_a_frame_row_without_an_operation_is_refused_not_sent(cio_standin):
    dest = make(cio_standin)
    rows = frame(0, 3)
    rows.payloads[1] = None  # the SQL never leaves one out; if it did, nothing is sent for it
    seen: dict[str, Outcome] = {}
    for group, answer in dest.deliver_frames(PEOPLE, [rows]):
        for o in per_record(group, answer):
            seen[o.key] = o
    assert seen["u1"].code == "no_payload" and seen["u1"].status == "permanent"
    assert seen["u0"].ok and seen["u2"].ok and set(cio_standin.people) == {"u0", "u2"}
