"""Secrets as a type: read from the environment at the edge, masked everywhere else.

A `Secret` prints as `Secret('***')`, so a config object, an exception or a log line that
happens to include one cannot leak it. Every resolved value is also remembered so the log
formatter can scrub it from free text (defence in depth for messages built by libraries).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from pydantic_core import core_schema

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_KNOWN: set[str] = set()
MASK = "***"


class Secret:
    """A string whose value is only available through `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)
        if len(self._value) >= 4:  # masking "a" everywhere would mangle logs, not protect
            _KNOWN.add(self._value)

    def reveal(self) -> str:
        """The real value, for the one place that needs it (an auth header, a connect call)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> core_schema.CoreSchema:
        # Destination Options models can declare `api_key: Secret`; plain strings are wrapped.
        return core_schema.no_info_plain_validator_function(
            lambda v: v if isinstance(v, Secret) else Secret(str(v)),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: MASK),
        )


def redact(text: str) -> str:
    """Replace every known secret value in free text with the mask."""
    for value in _KNOWN:
        if value in text:
            text = text.replace(value, MASK)
    return text


class MissingEnvVar(Exception):
    """Raised by `resolve_env` so the caller can add which sync/destination/file needs it."""

    def __init__(self, var: str, where: str) -> None:
        super().__init__(var)
        self.var = var
        self.where = where


def resolve_env(value: Any, where: str = "", env: Mapping[str, str] | None = None) -> Any:
    """Replace `{env: VAR}` mappings and `${VAR}` strings with `Secret`s, recursively.

    `where` is a dotted path ("destinations.hubspot.token") carried into `MissingEnvVar`.
    """
    env = os.environ if env is None else env
    if isinstance(value, Mapping):
        if set(value.keys()) == {"env"} and isinstance(value["env"], str):
            var = value["env"]
            if var not in env:
                raise MissingEnvVar(var, where)
            return Secret(env[var])
        return {
            k: resolve_env(v, f"{where}.{k}" if where else str(k), env) for k, v in value.items()
        }
    if isinstance(value, list):
        return [resolve_env(v, f"{where}[{i}]", env) for i, v in enumerate(value)]
    if isinstance(value, str) and _ENV_REF.search(value):

        def _sub(m: re.Match[str]) -> str:
            if m.group(1) not in env:
                raise MissingEnvVar(m.group(1), where)
            return env[m.group(1)]

        return Secret(_ENV_REF.sub(_sub, value))
    return value


def reveal(value: Any) -> Any:
    """`Secret` -> str, anything else unchanged; for handing values to driver calls."""
    return value.reveal() if isinstance(value, Secret) else value
