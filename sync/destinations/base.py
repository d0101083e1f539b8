"""The contract every destination implements, and the registry that finds them by type.

A destination is a translator plus an HTTP client: rows in, one `Outcome` per row out.
Retries, pacing and concurrency live in the shared HTTP layer (`sync.http`), so a
destination module is mostly payload shapes and response parsing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from sync.records import Change, Frame, Outcome, Outcomes
from sync.state_sql import Dialect
from sync.types import DestinationStats


class SyncSpec(Protocol):
    """What a destination may read of one configured sync (implemented by config.SyncConfig)."""

    name: str
    model: str
    destination: str
    object: str  # e.g. person, object, relationship, event, company, contact, Account, message
    mode: str  # upsert | update | insert | event
    identifier: Mapping[str, str]  # destination id field -> model column
    on_remove: str  # ignore | unset | delete
    batch_size: int | None
    # Destination-specific per-sync options. `load_config` validates them with the
    # destination's `SyncOptions` and keeps the model as `parsed_options` (read it through
    # `Destination.sync_options`).
    options: Mapping[str, Any]
    # Model column -> the values its dbt `accepted_values` test allows (from the manifest):
    # everything the model can emit there, so setup declares exactly these options/picklists.
    enumerations: Mapping[str, Sequence[str]]


class DestinationOptions(BaseModel):
    """Base for a destination's own options block in sync.yml (credentials, pacing, ...)."""

    model_config = ConfigDict(extra="forbid")


class NoSyncOptions(BaseModel):
    """The per-sync `options:` of a destination that takes none: any key is a mistake."""

    model_config = ConfigDict(extra="forbid")


class Destination(ABC):
    """One configured destination (a `destinations:` entry of sync.yml)."""

    type_name: ClassVar[str]
    # The `destinations:` entry (credentials, pacing), validated when sync.yml is loaded.
    Options: ClassVar[type[DestinationOptions]]
    # Each sync's `options:` block, also validated when sync.yml is loaded (config.py), so
    # a typo fails `plg-sync validate` naming the file, sync and field, not a run mid-way.
    SyncOptions: ClassVar[type[BaseModel]] = NoSyncOptions
    objects: ClassVar[frozenset[str]]  # objects this destination can write
    modes: ClassVar[frozenset[str]] = frozenset({"upsert"})

    def __init__(self, name: str, options: DestinationOptions) -> None:
        self.name = name
        self.options = options
        self.stats = DestinationStats()

    def sync_options(self, sync: SyncSpec) -> Any:
        """The sync's `options:` as this destination's `SyncOptions` model.

        A sync from `load_config` carries them already validated (`parsed_options`); a bare
        spec (tests, library use) is validated here and raises pydantic's ValidationError.
        """
        parsed = getattr(sync, "parsed_options", None)
        if isinstance(parsed, self.SyncOptions):
            return parsed
        return self.SyncOptions.model_validate(dict(sync.options))

    def validate_sync(self, sync: SyncSpec, columns: Mapping[str, str]) -> list[str]:
        """Problems with a sync against the model's columns (name -> SQL type); [] if fine."""
        problems = []
        if sync.object not in self.objects:
            problems.append(
                f"object {sync.object!r} is not supported by {self.type_name}; "
                f"use one of {sorted(self.objects)}"
            )
        if sync.mode not in self.modes:
            problems.append(
                f"mode {sync.mode!r} is not supported by {self.type_name}; "
                f"use one of {sorted(self.modes)}"
            )
        return problems

    @abstractmethod
    def send(self, sync: SyncSpec, changes: Sequence[Change]) -> list[Outcome]:
        """Apply changes; return exactly one Outcome per change, in any order."""

    def deliver(
        self, sync: SyncSpec, changes: Iterable[Change], batch_size: int
    ) -> Iterator[tuple[Sequence[Change], Outcomes]]:
        """Apply a stream of changes; yield (changes, their outcomes) as groups finish.

        The engine feeds the changed rows as it reads them and checkpoints each group it
        gets back, so a run holds a bounded number of records whatever the diff size. The
        default sends groups of `batch_size` through `send` one after another; a destination
        whose requests are large and cheap to build (Customer.io) overrides this to pack by
        bytes and keep its senders busy while it reads on. Same rule as `send`: exactly one
        outcome per change, or None for a group whose answers proved every change.
        """
        group: list[Change] = []
        for change in changes:
            group.append(change)
            if len(group) >= batch_size:
                yield group, self.send(sync, group)
                group = []
        if group:
            yield group, self.send(sync, group)

    def deliver_frames(
        self, sync: SyncSpec, frames: Iterable[Frame]
    ) -> Iterator[tuple[Frame | Sequence[Change], Outcomes]]:
        """`deliver` for rows whose operations the warehouse built (`payload_sql`), passed
        column by column. The default turns each row into a `Change` for `deliver`; a
        destination with a columnar fast path (Customer.io) overrides it."""
        changes = (change for frame in frames for change in frame.changes())
        yield from self.deliver(sync, changes, 100)

    def payload_sql(
        self,
        sync: SyncSpec,
        identifier: Mapping[str, str],
        fields: Mapping[str, str],
        columns: Mapping[str, tuple[str, str]],
        dialect: Dialect,
    ) -> tuple[str, str] | None:
        """SQL building each row's operation in the warehouse, or None (the default: rows
        come to `deliver` as values and are encoded here, in Python).

        `identifier`/`fields` map destination fields to model columns, `columns` maps each
        model column to (its SQL expression in the query, its SQL type), and `dialect`
        carries the warehouse's JSON templates. Returns (payload, problem): the operation
        as JSON text, and the first documented limit the row breaks as text (null if
        none). A destination returns None for anything it cannot express exactly as its
        Python path would encode it; the engine then falls back to that path.
        """
        return None

    def setup(self, sync: SyncSpec, columns: Mapping[str, str], apply: bool) -> list[str]:
        """Destination-side setup (custom properties, ...); returns human-readable actions."""
        return []

    def budget_note(self, planned_records: int) -> str | None:
        """A line for `plan` about rate budgets (e.g. HubSpot's daily limit); None if n/a."""
        return None

    def close(self) -> None:
        """Release connections."""


_REGISTRY: dict[str, type[Destination]] = {}


def register(cls: type[Destination]) -> type[Destination]:
    """Class decorator: make a destination available to sync.yml under its `type_name`."""
    _REGISTRY[cls.type_name] = cls
    return cls


def registered() -> dict[str, type[Destination]]:
    """Every destination class registered so far, by type name (see `destination_types`)."""
    return dict(_REGISTRY)
