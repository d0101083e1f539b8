"""sync.yml: load, resolve secrets, validate, and explain every mistake in user terms.

Pydantic does the checking; this module turns its errors into one message per problem that
names the file, the sync (by name, not index), the field and what would be valid.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from sync.destinations import destination_types
from sync.destinations.base import Destination, DestinationOptions
from sync.errors import ConfigError
from sync.secrets import MissingEnvVar, resolve_env

CONFIG_ENV = "PLG_SYNC_CONFIG"
DEFAULT_CONFIG = "sync.yml"

# Names that end up as SQL identifiers or file names: strict on purpose (see backends.base).
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
_COLUMN_RE = re.compile(COLUMN_PATTERN)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Guardrails(_Strict):
    """Refuse to apply a plan that looks like an upstream accident (a truncated model)."""

    max_removed_share: float = Field(0.2, ge=0, le=1)
    max_shrink_share: float = Field(0.3, ge=0, le=1)


class DbtConfig(_Strict):
    project_dir: Path | None = None
    profiles_dir: Path | None = None
    target_path: Path | None = None  # where manifest.json is; default as dbt (DBT_TARGET_PATH, ...)
    target: str | None = None
    profile: str | None = None  # defaults to `profile:` in dbt_project.yml


class SyncConfig(_Strict):
    """One sync: a dbt model pushed to one object of one destination (implements SyncSpec)."""

    name: str = Field(pattern=NAME_PATTERN)
    model: str = Field(pattern=COLUMN_PATTERN)
    destination: str
    object: str
    mode: Literal["upsert", "update", "insert", "event"] = "upsert"
    identifier: dict[str, str] = Field(default_factory=lambda: {"id": "sync_key"})
    fields: dict[str, str] | None = None
    on_remove: Literal["ignore", "unset", "delete"] = "ignore"
    batch_size: int | None = Field(None, gt=0)
    max_failed_share: float | None = Field(None, ge=0, le=1)
    max_failed_records: int | None = Field(None, ge=0)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    checkpoint_every: int | None = Field(None, gt=0)
    options: dict[str, Any] = Field(default_factory=dict)

    # The destination's `SyncOptions` model of `options`, set by `load_config`.
    _parsed_options: BaseModel | None = PrivateAttr(default=None)

    @property
    def parsed_options(self) -> BaseModel | None:
        """`options` validated by the destination's `SyncOptions` (None before load_config)."""
        return self._parsed_options

    @field_validator("identifier", "fields")
    @classmethod
    def _columns_are_identifiers(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        for dest_field, column in (v or {}).items():
            if not isinstance(column, str) or not _COLUMN_RE.match(column):
                raise ValueError(
                    f"{dest_field}: {column!r} is not a model column name "
                    f"(letters, digits and _ only)"
                )
        return v

    @field_validator("identifier")
    @classmethod
    def _identifier_not_empty(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("needs at least one `destination_field: model_column` pair")
        return v

    def model_columns(self) -> set[str]:
        """Columns this sync reads besides sync_key/sync_hash (None fields = decided later)."""
        return set(self.identifier.values()) | set((self.fields or {}).values())


class DestinationConfig(BaseModel):
    """A `destinations:` entry after its options were validated by the destination class."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    type: str
    options: DestinationOptions


class Config(_Strict):
    version: Literal[1]
    state_schema: str = Field("plg_sync", pattern=COLUMN_PATTERN)
    lease_ttl_seconds: int = Field(900, gt=0)
    dbt: DbtConfig = Field(default_factory=DbtConfig)
    destinations: dict[str, Any] = Field(default_factory=dict)
    syncs: list[SyncConfig] = Field(default_factory=list)

    # Filled in by `load_config`, never read from YAML.
    _path: Path = PrivateAttr(default=Path(DEFAULT_CONFIG))
    _destinations: dict[str, DestinationConfig] = PrivateAttr(default_factory=dict)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def resolved_destinations(self) -> dict[str, DestinationConfig]:
        return self._destinations

    def sync(self, name: str) -> SyncConfig:
        for s in self.syncs:
            if s.name == name:
                return s
        raise ConfigError(
            f"{self.path}: no sync named {name!r}{_did_you_mean(name, self.sync_names())}"
        )

    def sync_names(self) -> list[str]:
        return [s.name for s in self.syncs]

    def select(self, names: tuple[str, ...] | list[str] | None) -> list[SyncConfig]:
        """The syncs named by `--select` (all when none given), in config order."""
        if not names:
            return list(self.syncs)
        wanted = [self.sync(n) for n in names]  # raises for unknown names
        return [s for s in self.syncs if s in wanted]

    @property
    def project_dir(self) -> Path:
        base = self.path.parent
        return (base / self.dbt.project_dir).resolve() if self.dbt.project_dir else base.resolve()

    @property
    def target_path(self) -> Path | None:
        """dbt's target directory when set in sync.yml (relative to the config file)."""
        return (self.path.parent / self.dbt.target_path).resolve() if self.dbt.target_path else None


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """`--config`, else $PLG_SYNC_CONFIG, else ./sync.yml."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def read_config_file(p: Path) -> dict[str, Any]:
    """sync.yml as a mapping, secrets unresolved: the one reader of the file (`load_config`
    and `plg-sync exposures`, which must run without credentials, both use it)."""
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found (pass --config or set {CONFIG_ENV})")
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: the top level must be a mapping (version, destinations, syncs)")
    return raw


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read, resolve env references and validate sync.yml; raise ConfigError naming the spot."""
    p = config_path(path)
    raw = read_config_file(p)
    try:
        raw = resolve_env(raw)
    except MissingEnvVar as e:
        raise ConfigError(
            f"{p}: {_describe_path(e.where, raw)} needs environment variable {e.var}, "
            "which is not set"
        ) from None

    try:
        cfg = Config.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_format_errors(p, e, raw, Config)) from None
    cfg._path = p
    cfg._destinations = _validate_destinations(p, cfg.destinations)
    _cross_check(p, cfg)
    return cfg


def _validate_destinations(p: Path, raw: dict[str, Any]) -> dict[str, DestinationConfig]:
    types = destination_types()
    out: dict[str, DestinationConfig] = {}
    problems: list[str] = []
    for name, entry in raw.items():
        if not isinstance(entry, Mapping) or "type" not in entry:
            problems.append(f"destination {name!r}: needs `type:` (one of {sorted(types)})")
            continue
        type_name = entry["type"]
        if type_name not in types:
            problems.append(
                f"destination {name!r} field 'type': unknown type {type_name!r}"
                f"{_did_you_mean(str(type_name), types)}; valid: {sorted(types)}"
            )
            continue
        cls = types[type_name]
        opts = {k: v for k, v in entry.items() if k != "type"}
        try:
            out[name] = DestinationConfig(name=name, type=type_name, options=cls.Options(**opts))
        except ValidationError as e:
            for err in e.errors(include_url=False):
                problems.append(
                    f"destination {name!r} " + _describe_error(err, cls.Options, prefix="")
                )
    if problems:
        raise ConfigError(_join(p, problems))
    return out


def _cross_check(p: Path, cfg: Config) -> None:
    problems = []
    types = destination_types()
    seen: set[str] = set()
    for s in cfg.syncs:
        if s.name in seen:
            problems.append(f"sync {s.name!r}: the name is used twice; sync names must be unique")
        seen.add(s.name)
        if s.destination not in cfg.resolved_destinations:
            problems.append(
                f"sync {s.name!r} field 'destination': {s.destination!r} is not defined under "
                f"`destinations:`{_did_you_mean(s.destination, cfg.resolved_destinations)}; "
                f"defined: {sorted(cfg.resolved_destinations)}"
            )
        else:
            problems += _parse_sync_options(s, types[cfg.resolved_destinations[s.destination].type])
        if s.on_remove != "ignore" and set(s.identifier.values()) != {"sync_key"}:
            problems.append(
                f"sync {s.name!r} field 'on_remove': {s.on_remove!r} needs the identifier to come "
                "from sync_key, because a removed row is no longer in the model "
                f"(identifier is {s.identifier}); use on_remove: ignore or identifier: "
                "{<id field>: sync_key}"
            )
    if problems:
        raise ConfigError(_join(p, problems))


def _parse_sync_options(sync: SyncConfig, destination: type[Destination]) -> list[str]:
    """Validate a sync's `options:` with its destination's `SyncOptions`; problems in words."""
    try:
        sync._parsed_options = destination.SyncOptions.model_validate(sync.options)
    except ValidationError as e:
        return [
            f"sync {sync.name!r} "
            + _describe_error(err, destination.SyncOptions, "", field_prefix="options.")
            + f" ({destination.type_name} sync options)"
            for err in e.errors(include_url=False)
        ]
    return []


# --- error formatting -------------------------------------------------------------------


def _join(p: Path, problems: list[str]) -> str:
    if len(problems) == 1:
        return f"{p}: {problems[0]}"
    return f"{p}: {len(problems)} problems:\n" + "\n".join(f"  - {x}" for x in problems)


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _describe_path(where: str, raw: Any) -> str:
    """'syncs[2].options.token' -> "sync 'accounts' field 'options.token'"."""
    m = re.match(r"syncs\[(\d+)\]\.?(.*)", where)
    if m and isinstance(raw, dict) and isinstance(raw.get("syncs"), list):
        idx = int(m.group(1))
        entry = raw["syncs"][idx] if idx < len(raw["syncs"]) else {}
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"sync {name!r}" if name else f"sync #{idx + 1}"
        return f"{label} field {m.group(2)!r}" if m.group(2) else label
    m = re.match(r"destinations\.([^.]+)\.?(.*)", where)
    if m:
        return f"destination {m.group(1)!r} field {m.group(2)!r}"
    return f"field {where!r}"


def _format_errors(p: Path, e: ValidationError, raw: dict[str, Any], root: type[BaseModel]) -> str:
    problems = []
    for err in e.errors(include_url=False):
        loc = list(err["loc"])
        if loc and loc[0] == "syncs" and len(loc) >= 2 and isinstance(loc[1], int):
            idx = loc[1]
            entry = raw.get("syncs", [])[idx] if idx < len(raw.get("syncs", [])) else {}
            name = entry.get("name") if isinstance(entry, dict) else None
            label = f"sync {name!r}" if name else f"sync #{idx + 1}"
            problems.append(
                f"{label} " + _describe_error({**err, "loc": tuple(loc[2:])}, SyncConfig, "")
            )
        else:
            problems.append(_describe_error(err, root, ""))
    return _join(p, problems)


def _describe_error(
    err: Mapping[str, Any], model: type[BaseModel], prefix: str, field_prefix: str = ""
) -> str:
    loc = [str(x) for x in err["loc"]]
    field = field_prefix + ".".join(loc) if loc else (field_prefix.rstrip(".") or "(top level)")
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = _submodel(model, loc[:-1])
        valid = sorted(parent.model_fields) if parent else []
        hint = _did_you_mean(loc[-1], valid)
        accepted = f"valid keys: {valid}" if valid else "no keys are accepted here"
        return f"{prefix}field {field!r}: unknown key{hint}; {accepted}"
    if kind == "missing":
        return f"{prefix}field {field!r}: required but missing"
    if kind == "string_pattern_mismatch":
        return (
            f"{prefix}field {field!r}: {err.get('input')!r} is not a valid name "
            f"(lowercase letters, digits and _; start with a letter)"
        )
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
    return f"{prefix}field {field!r}: {err['msg']}{shown}"


def _submodel(model: type[BaseModel], loc: list[str]) -> type[BaseModel] | None:
    for part in loc:
        f = model.model_fields.get(part)
        ann = getattr(f, "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        else:
            return None
    return model
