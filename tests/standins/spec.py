"""A minimal `SyncSpec` for driving destinations without the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Spec:
    object: str
    identifier: dict[str, str]
    name: str = "test_sync"
    model: str = "sync_test_model"
    destination: str = "dest"
    mode: str = "upsert"
    on_remove: str = "ignore"
    batch_size: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    enumerations: dict[str, list[str]] = field(default_factory=dict)
