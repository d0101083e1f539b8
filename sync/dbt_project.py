"""Read the dbt project's own profile and manifest, so connection and relation names are
configured once for both tools.

`profiles.yml` is rendered the way dbt renders it (`{{ env_var('X', 'default') }}`), with a
small jinja2 environment rather than dbt's internals, which change between minor versions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from sync.errors import ConfigError
from sync.secrets import Secret

# Profile keys whose values are credentials: wrapped as Secret right after rendering.
_SECRET_KEYS = frozenset(
    {
        "password",
        "private_key",
        "private_key_passphrase",
        "token",
        "keyfile_json",
        "refresh_token",
        "client_secret",
        "motherduck_token",
    }
)


@dataclass(frozen=True)
class Profile:
    """The chosen output of a dbt profile: adapter type plus its settings."""

    profile_name: str
    target_name: str
    type: str
    settings: dict[str, Any]
    project_dir: Path


@dataclass(frozen=True)
class ModelRelation:
    """Where a dbt model lives and, when its contract declares them, its column types."""

    name: str
    database: str | None
    schema: str
    alias: str
    columns: dict[str, str | None] = field(default_factory=dict)  # name -> data_type
    contract_enforced: bool = False


class _MissingEnv(Exception):
    pass


def _env_var(name: str, default: str | None = None) -> str:
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    raise _MissingEnv(name)


_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
_JINJA.globals["env_var"] = _env_var


def _render(value: Any, where: str, file: Path) -> Any:
    if isinstance(value, Mapping):
        return {k: _render(v, f"{where}.{k}", file) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, f"{where}[{i}]", file) for i, v in enumerate(value)]
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        try:
            out = _JINJA.from_string(value).render()
        except _MissingEnv as e:
            raise ConfigError(
                f"{file}: {where} uses env_var('{e}') but environment variable {e} is not set"
            ) from None
        except jinja2.TemplateError as e:
            raise ConfigError(f"{file}: {where}: cannot render {value!r}: {e}") from None
        # dbt turns rendered numbers/bools back into YAML scalars (port: "{{ env_var(..) }}").
        try:
            parsed = yaml.safe_load(out)
        except yaml.YAMLError:
            return out
        return parsed if isinstance(parsed, int | float | bool) else out
    return value


def _project_yml(project_dir: Path) -> dict[str, Any]:
    path = project_dir / "dbt_project.yml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()) or {}


def find_profiles_dir(project_dir: Path, explicit: Path | None) -> Path:
    """sync.yml's dbt.profiles_dir, else $DBT_PROFILES_DIR, else the project dir, else ~/.dbt."""
    if explicit:
        return explicit
    if os.environ.get("DBT_PROFILES_DIR"):
        return Path(os.environ["DBT_PROFILES_DIR"])
    if (project_dir / "profiles.yml").is_file():
        return project_dir
    return Path.home() / ".dbt"


def load_profile(
    project_dir: Path,
    profiles_dir: Path | None = None,
    target: str | None = None,
    profile_name: str | None = None,
) -> Profile:
    """Render profiles.yml and pick the target (explicit, else the profile's `target:`)."""
    pdir = find_profiles_dir(project_dir, profiles_dir)
    path = pdir / "profiles.yml"
    if not path.is_file():
        raise ConfigError(
            f"{path}: dbt profiles.yml not found (set dbt.profiles_dir in sync.yml or "
            "DBT_PROFILES_DIR)"
        )
    profile_name = profile_name or _project_yml(project_dir).get("profile")
    if not profile_name:
        raise ConfigError(
            f"{project_dir / 'dbt_project.yml'}: no `profile:`; set dbt.profile in sync.yml"
        )
    raw = yaml.safe_load(path.read_text()) or {}
    if profile_name not in raw:
        raise ConfigError(f"{path}: no profile named {profile_name!r}; found {sorted(raw)}")
    prof = raw[profile_name]
    target_name = target or _render(prof.get("target"), f"{profile_name}.target", path)
    outputs = prof.get("outputs") or {}
    if target_name not in outputs:
        raise ConfigError(
            f"{path}: profile {profile_name!r} has no target {target_name!r}; "
            f"targets: {sorted(outputs)}"
        )
    settings = _render(outputs[target_name], f"{profile_name}.outputs.{target_name}", path)
    settings = {
        k: Secret(str(v)) if k in _SECRET_KEYS and v not in (None, "") else v
        for k, v in settings.items()
    }
    if "type" not in settings:
        raise ConfigError(f"{path}: target {target_name!r} has no `type:`")
    return Profile(
        profile_name=profile_name,
        target_name=target_name,
        type=settings["type"],
        settings=settings,
        project_dir=project_dir,
    )


class Manifest:
    """`target/manifest.json`, read once: model name -> relation and contract columns."""

    def __init__(self, project_dir: Path, target_path: Path | str | None = None) -> None:
        # the same precedence as dbt: --target-path (here the `dbt.target_path` setting),
        # then DBT_TARGET_PATH, then `target-path` in dbt_project.yml, then `target`
        chosen = (
            target_path
            or os.environ.get("DBT_TARGET_PATH")
            or _project_yml(project_dir).get("target-path", "target")
        )
        self.path = project_dir / chosen / "manifest.json"
        self.project_name = _project_yml(project_dir).get("name")
        if not self.path.is_file():
            raise ConfigError(
                f"{self.path}: dbt manifest not found; run `dbt build` (or `dbt parse`) in "
                f"{project_dir} first"
            )
        self._project_dir = project_dir
        self._models: dict[str, list[dict[str, Any]]] = {}
        for node in self._nodes(self._load()):
            if node.get("resource_type") == "model":
                name = node.get("name")
                if not isinstance(name, str) or not name:
                    raise self._corrupt(f"a model node has no `name` ({_node_id(node)})")
                self._models.setdefault(name, []).append(node)

    def _corrupt(self, detail: str) -> ConfigError:
        """Every unreadable manifest says the same thing: which file, what, and the fix."""
        return ConfigError(
            f"{self.path}: cannot read the dbt manifest: {detail}. It is corrupt or was "
            f"written by another tool; rerun `dbt build` (or `dbt parse`) in "
            f"{self._project_dir} to regenerate it"
        )

    def _load(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except OSError as e:
            raise self._corrupt(f"{type(e).__name__}: {e.strerror or e}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise self._corrupt(
                f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})"
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise self._corrupt(f"not valid JSON ({e})") from None
        except RecursionError:
            raise self._corrupt("JSON nested too deeply") from None
        if not isinstance(data, dict):
            raise self._corrupt(f"the top level is a JSON {_json_type(data)}, not an object")
        return data

    def _nodes(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        nodes = data.get("nodes")
        if nodes is None:
            return []
        if not isinstance(nodes, dict):
            raise self._corrupt(
                f"`nodes` is a JSON {_json_type(nodes)}; dbt writes an object keyed by unique_id"
            )
        out = []
        for key, node in nodes.items():
            if not isinstance(node, dict):
                raise self._corrupt(f"node {key!r} is a JSON {_json_type(node)}, not an object")
            out.append(node)
        return out

    def relation(self, model: str) -> ModelRelation:
        nodes = self._models.get(model)
        if not nodes:
            import difflib

            close = difflib.get_close_matches(model, list(self._models), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{self.path}: model {model!r} is not in the dbt manifest{hint}; check the "
                "sync's `model:` or run `dbt build` to refresh the manifest"
            )
        # Prefer the root project's model over a same-named one in a package.
        node = next((n for n in nodes if n.get("package_name") == self.project_name), nodes[0])
        where = _node_id(node)
        schema = node.get("schema")
        if not isinstance(schema, str) or not schema:
            raise self._corrupt(f"model node {where} has no `schema`")
        for key in ("database", "alias"):
            if node.get(key) is not None and not isinstance(node.get(key), str):
                raise self._corrupt(f"model node {where}: `{key}` is not text")
        raw_columns = node.get("columns") or {}
        if not isinstance(raw_columns, dict) or not all(
            isinstance(c, dict) for c in raw_columns.values()
        ):
            raise self._corrupt(f"model node {where}: `columns` is not an object of objects")
        columns = {str(c.get("name", k)): c.get("data_type") for k, c in raw_columns.items()}
        config = node.get("config")
        contract = (config.get("contract") if isinstance(config, dict) else None) or (
            node.get("contract") or {}
        )
        if not isinstance(contract, dict):
            raise self._corrupt(f"model node {where}: `contract` is not an object")
        return ModelRelation(
            name=model,
            database=node.get("database"),
            schema=schema,
            alias=node.get("alias") or node["name"],
            columns=columns,
            contract_enforced=bool(contract.get("enforced")),
        )


def _node_id(node: dict[str, Any]) -> str:
    return repr(node.get("unique_id") or node.get("name") or "?")


def _json_type(value: Any) -> str:
    """JSON's name for a parsed value's type, for messages about the manifest's shape."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "object"
