"""Value types that cross layers: what a run was asked to do, what the diff found, what a
destination counted, and what one sync did.

They live in this leaf module (not in the engine, state or destinations that fill them) so
every layer can name them while imports keep pointing downward only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync.errors import PlgSyncError


@dataclass(frozen=True)
class RunOptions:
    """What `run` / `plan` were asked to do."""

    full_resync: bool = False
    dry_run: bool = False  # compute and record the plan (sync_plans), send nothing
    allow_mass_change: bool = False


@dataclass(frozen=True)
class DiffCounts:
    """What the warehouse diff found for one sync."""

    added: int
    changed: int
    removed: int
    model_rows: int
    state_rows: int

    @property
    def planned(self) -> int:
        return self.added + self.changed + self.removed


@dataclass
class DestinationStats:
    """Counters a run reports in `sync_runs` and in its summary."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0  # 429 responses received
    bytes_sent: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SyncResult:
    """What one sync did; printed by the CLI and mirrored in `sync_runs`."""

    sync_name: str
    run_id: str
    status: str = "running"
    dry_run: bool = False
    counts: DiffCounts | None = None
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    duration_s: float = 0.0
    samples: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # first few rejection reasons, for humans
    model_columns: str | None = None  # column signature of what this run sends
    error: PlgSyncError | None = None
