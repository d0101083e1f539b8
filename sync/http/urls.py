"""URL policy: what may be printed of a URL, and which URLs may be called at all."""

from __future__ import annotations

import httpx

from sync.errors import ConfigError

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def describe_url(url: str | httpx.URL) -> str:
    """scheme://host[:port] only: safe to print even when the path is a secret (webhooks)."""
    u = httpx.URL(str(url))
    port = f":{u.port}" if u.port else ""
    return f"{u.scheme}://{u.host}{port}"


def check_url(url: str | httpx.URL, what: str = "destination URL") -> None:
    """Refuse anything but https, except plain http to loopback (test stand-ins).

    TLS verification is always on (see `HttpClient`), so https here means verified https.
    """
    u = httpx.URL(str(url))
    if u.scheme == "https" and u.host:
        return
    if u.scheme == "http" and u.host in _LOOPBACK:
        return
    raise ConfigError(
        f"{what} {describe_url(u)} must use https "
        "(plain http is accepted only for 127.0.0.1/localhost test stand-ins)"
    )
