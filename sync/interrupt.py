"""Stop a run gracefully on SIGTERM or SIGINT.

SIGTERM is what `kill`, systemd, Kubernetes and Airflow send when a task times out or a pod
is rescheduled; SIGINT is Ctrl-C. Dying on the spot would leave the run `running` in
`sync_runs` and its lease held for `lease_ttl_seconds`. Instead the handler only raises a
flag: the engine stops sending before its next batch, the HTTP layer starts no new attempt
and cuts its backoff sleeps short, the acknowledged records are checkpointed, the run is
marked `interrupted`, the lease is released, and the CLI exits with code 8.

A second signal while stopping restores the default action and re-delivers itself, so an
impatient operator (or a scheduler's escalation) can still stop the process at once; the
lease is then recovered like after SIGKILL (taken over by the next run on this host).

The flag is process-wide on purpose: signals are delivered to the process, and every layer
that may be waiting (engine loop, retry sleeps) must see the same one. A leaf module, so the
HTTP layer can read it without importing the engine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

_STOP = threading.Event()
_reason: str | None = None
HANDLED = (signal.SIGTERM, signal.SIGINT)


class Interrupted(Exception):
    """Raised inside the HTTP layer when a stop was requested before an attempt or during a
    backoff sleep: the batch has no outcome and is sent again by the next run."""


def requested() -> bool:
    """True once a stop was requested (by a signal or `request`)."""
    return _STOP.is_set()


def reason() -> str | None:
    """The name of the signal that asked to stop (e.g. "SIGTERM"), if any."""
    return _reason


def request(why: str) -> None:
    """Ask every layer to stop (what the signal handler does; tests call it directly)."""
    global _reason
    _reason = _reason or why
    _STOP.set()


def clear() -> None:
    global _reason
    _reason = None
    _STOP.clear()


def sleep(seconds: float) -> None:
    """`time.sleep` that returns early, raising `Interrupted`, when a stop is requested."""
    if _STOP.wait(max(0.0, seconds)):
        raise Interrupted(f"stopped by {_reason or 'request'}")


def check() -> None:
    """Raise `Interrupted` if a stop was requested (before starting a new attempt)."""
    if _STOP.is_set():
        raise Interrupted(f"stopped by {_reason or 'request'}")


def _handler(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if _STOP.is_set():  # second signal: give the operator the default action now
        for sig in HANDLED:
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    request(name)


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """Install the SIGTERM/SIGINT handlers for the duration of a command.

    Only the main thread may install signal handlers; elsewhere (an orchestrator calling the
    engine from a worker thread) this does nothing and the caller keeps its own handling.
    """
    clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in HANDLED}
    for sig in HANDLED:
        signal.signal(sig, _handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        clear()
