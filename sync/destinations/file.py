"""`type: file`: one JSON-lines file per sync, one line per applied change.

For the demo and for debugging a mapping without touching a real tool: `tail -f` shows
exactly what a destination would receive. Every change is accepted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from sync.destinations.base import Destination, DestinationOptions, SyncSpec, register
from sync.records import Change, Outcome
from sync.values import jsonable


class FileOptions(DestinationOptions):
    path: Path  # directory; created if missing
    fsync: bool = False  # flush to disk per batch (slower; for crash experiments)


@register
class FileDestination(Destination):
    type_name = "file"
    Options = FileOptions
    objects = frozenset({"*"})  # any object name: it is only written into each line
    modes = frozenset({"upsert", "update", "insert", "event"})

    def validate_sync(self, sync: SyncSpec, columns: Mapping[str, str]) -> list[str]:
        if sync.mode not in self.modes:
            return [f"mode {sync.mode!r} is not supported by file; use one of {sorted(self.modes)}"]
        return []

    def _file(self, sync: SyncSpec) -> Path:
        opts: FileOptions = self.options  # type: ignore[assignment]
        opts.path.mkdir(parents=True, exist_ok=True)
        return opts.path / f"{sync.name}.jsonl"

    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        lines = [
            json.dumps(
                {"op": c.op, "key": c.key, "object": sync.object, "fields": jsonable(c.fields)},
                separators=(",", ":"),
            )
            for c in changes
        ]
        with self._file(sync).open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
            fh.flush()
            if self.options.fsync:  # type: ignore[attr-defined]
                os.fsync(fh.fileno())
        self.stats.requests += 1
        return [Outcome.success(c.key) for c in changes]

    def setup(self, sync: SyncSpec, columns: Mapping[str, str], apply: bool) -> list[str]:
        target = self._file(sync) if apply else None
        path = target or (self.options.path / f"{sync.name}.jsonl")  # type: ignore[attr-defined]
        return [f"{'created' if apply else 'would create'} directory for {path}"]
