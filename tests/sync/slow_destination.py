"""A destination for the kill test: slow, and logs every record it acknowledged to a file.

Loaded by a subprocess (`python slow_destination.py <plg-sync args>`), which then runs the
real CLI; the test SIGKILLs it mid-run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sync.destinations.base import Destination, DestinationOptions, SyncSpec, register
from sync.records import Change, Outcome


class SlowOptions(DestinationOptions):
    received: Path
    delay_s: float = 0.02


@register
class SlowDestination(Destination):
    type_name = "slow"
    Options = SlowOptions
    objects = frozenset({"person"})

    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        opts: SlowOptions = self.options  # type: ignore[assignment]
        time.sleep(opts.delay_s)
        with opts.received.open("a") as fh:
            fh.write("".join(f"{c.key}\n" for c in changes))
        return [Outcome.success(c.key) for c in changes]


if __name__ == "__main__":
    from sync.cli import cli

    cli(sys.argv[1:])
