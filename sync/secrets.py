"""Secrets: one type, one registry, one `redact`, one log filter. The only place they live.

A `Secret` prints as `***`, so a config object, an exception or a log line that happens to
include one cannot leak it. Every secret is also *registered*: the registry keeps each form
in which the value can travel, because a credential is rarely printed the way it was read:

- the raw value;
- its URL-encoded forms (a token in a query string or form body);
- the base64 HTTP Basic pair `user:password` (`register_basic_auth`), which is what an API
  gateway echoes when it quotes the request's `Authorization` header;
- the lower-cased form, and for URLs the form with a lower-cased host (httpx and most
  servers lower-case hosts, so a secret in a webhook host came back lower-cased).

`redact` masks every registered form, case-insensitively, plus credential-shaped text
(`Authorization: ...`, `Bearer ...`, `user:pass@host`, Slack webhook paths) that no one
registered. It runs where text enters the program from outside (response bodies, driver
errors) and again at every exit (log handler, CLI error output, state tables), so a form
missed at one end is caught at the other.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

from pydantic import BeforeValidator
from pydantic_core import core_schema

MASK = "***"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Shorter values would mask ordinary words in logs without protecting anything real.
MIN_SECRET_LENGTH = 4

# Credential-shaped text, masked even when nobody registered the value.
_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+|basic\s+)?[^\s'\",;}]+"),
        lambda m: m.group(1) + (m.group(2) or "") + MASK,
    ),
    (
        re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
        lambda m: m.group(1) + " " + MASK,
    ),
    (re.compile(r"(?i)(https?://)[^/\s:@]+:[^/\s@]+@"), lambda m: m.group(1) + MASK + "@"),
    (re.compile(r"(?i)(hooks\.slack\.com/services/)[^\s'\"]+"), lambda m: m.group(1) + MASK),
]


class _Registry:
    """Every known form of every secret; `redact` matches them with one compiled regex."""

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._lock = threading.Lock()
        self._regex: re.Pattern[str] | None = None

    def add(self, forms: set[str]) -> None:
        forms = {f for f in forms if f and len(f) >= MIN_SECRET_LENGTH}
        with self._lock:
            if not forms <= self._forms:
                self._forms |= forms
                self._regex = None

    def forms(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._forms)

    def regex(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._regex is None and self._forms:
                # Longest first, so a value never leaves a registered suffix of itself behind.
                alternatives = sorted(self._forms, key=len, reverse=True)
                self._regex = re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)
            return self._regex


_REGISTRY = _Registry()


def derived_forms(value: str) -> set[str]:
    """The forms in which `value` can appear in text: raw, URL-encoded, lower-cased host."""
    forms = {value, quote(value, safe=""), quote_plus(value), value.lower()}
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is not None and parts.scheme and parts.netloc:
        lowered = parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower())
        forms.add(urlunsplit(lowered))
    return forms


def register_secret(value: Any, *derived: str) -> str:
    """Remember a secret and every derived form so `redact` masks it; returns the plain value.

    Accepts a `Secret`, a plain string, or anything with `get_secret_value()`; `derived` adds
    forms this module cannot compute (e.g. a signature built from the secret).
    """
    plain = reveal(value)
    if not isinstance(plain, str):
        raise TypeError(f"cannot register a {type(plain).__name__} as a secret")
    forms = derived_forms(plain)
    for extra in derived:
        forms |= derived_forms(extra)
    _REGISTRY.add(forms)
    return plain


def basic_auth_header(user: str, password: str) -> str:
    """base64(`user:password`), the credential of an HTTP Basic `Authorization` header."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def register_basic_auth(user: Any, password: Any) -> tuple[str, str]:
    """Register a Basic-auth password and the base64 pair built from it; returns (user, pw)."""
    plain_user, plain_password = str(reveal(user)), str(reveal(password))
    register_secret(plain_password, basic_auth_header(plain_user, plain_password))
    return plain_user, plain_password


def registered_forms() -> frozenset[str]:
    """Every registered form (tests use it to prove a secret is known in all its forms)."""
    return _REGISTRY.forms()


def redact(text: object) -> str:
    """`text` with every registered secret form and credential-shaped substring masked."""
    out = "" if text is None else str(text)
    regex = _REGISTRY.regex()
    if regex is not None:
        out = regex.sub(MASK, out)
    for pattern, replace in _PATTERNS:
        out = pattern.sub(replace, out)
    return out


class Secret:
    """A string whose value is only available through `reveal()`; registered on creation."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)
        register_secret(self._value)

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
        # Destination options declare `api_key: Secret`; plain strings are wrapped (and so
        # registered), and a dump shows the mask.
        return core_schema.no_info_plain_validator_function(
            _to_secret,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: MASK),
        )


def _to_secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    plain = reveal(value)  # pydantic's SecretStr, or any object with a masked reveal()
    if isinstance(plain, str):
        return Secret(plain)
    raise ValueError("expected a secret (a string, `{env: VAR}` or `${VAR}`)")


def reveal(value: Any) -> Any:
    """`Secret` -> its plain str; anything else unchanged, so driver settings pass through.

    Also reads pydantic's `SecretStr` and any object with a `reveal()` method, so a library
    caller's own secret wrapper works without converting it first.
    """
    if isinstance(value, Secret):
        return value.reveal()
    for attr in ("reveal", "get_secret_value"):
        getter = getattr(value, attr, None)
        if callable(getter):
            return str(getter())
    return value


def _unwrap_plain(value: Any) -> Any:
    # sync.yml may fill non-secret fields from env too (`${CIO_SITE_ID}`), which config turns
    # into a Secret; such fields are identifiers, not credentials, so read them as text.
    return value if isinstance(value, str) else reveal(value)


PlainStr = Annotated[str, BeforeValidator(_unwrap_plain)]
"""Type for non-secret text options that may still arrive wrapped in a Secret."""


# --- reading secrets from the environment -------------------------------------------------


class MissingEnvVar(Exception):
    """Raised by `resolve_env` so the caller can add which sync/destination/file needs it."""

    def __init__(self, var: str, where: str) -> None:
        super().__init__(var)
        self.var = var
        self.where = where


def resolve_env(value: Any, where: str = "", env: Mapping[str, str] | None = None) -> Any:
    """Replace `{env: VAR}` mappings and `${VAR}` strings with `Secret`s, recursively.

    `where` is a dotted path ("destinations.hubspot.token") carried into `MissingEnvVar`.
    Each substituted env value is registered on its own too, so a secret embedded in a
    longer string (a host in a URL) is masked wherever it appears.
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
            register_secret(env[m.group(1)])
            return env[m.group(1)]

        return Secret(_ENV_REF.sub(_sub, value))
    return value


# --- logging ------------------------------------------------------------------------------


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's final message (ours and libraries' alike)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken log call is not ours to fix
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        return True


_FILTER = RedactingFilter()

# Libraries whose log lines carry request URLs (httpx logs every request at INFO).
LIBRARY_LOGGERS = ("httpx", "httpcore")


def install_redaction(*targets: logging.Logger | logging.Handler) -> None:
    """Attach the one redacting filter to handlers/loggers (idempotent)."""
    for target in targets:
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
