"""Customer.io `deliver`: requests are packed while earlier ones travel, memory stays bounded,
and the outcome rules are those of `send` (one per record, acknowledged only when proven).

Issue 19: building and sending took turns, so the senders waited on the builder and the
builder on them; and a run held every batch of its chunk at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from sync.destinations.customerio import CustomerIo
from sync.errors import DestinationError
from sync.http import HttpClient, Item, PacingOptions, SendWindow
from sync.records import Change, Outcome
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
    for group, outcomes in dest.deliver(PEOPLE, people(3000), batch_size=100):
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
