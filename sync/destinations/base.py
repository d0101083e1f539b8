"""The contract every destination implements, and the registry that finds them by type.

A destination is a translator plus an HTTP client: rows in, one `Outcome` per row out.
Retries, pacing and concurrency live in the shared HTTP layer (`sync.http`), so a
destination module is mostly payload shapes and response parsing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from sync.records import Change, Outcome
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
