"""The one HTTP layer every destination uses: pacing, bounded concurrency, retries, outcomes.

A destination module builds payloads and parses responses; everything about *how* a request
travels lives here, once, in modules with one job each (after httpx's `_client`, `_config`,
`_urls`, `_exceptions`):

- `client`: `HttpClient` (timeouts, retry policy, Retry-After, thread pool) and wire helpers;
- `pacing`: `PacingOptions` and the shared per-account rate gates;
- `batching`: packing by count and bytes, concurrent delivery, bisection, outcomes;
- `urls`: which URLs may be called and what of them may be printed;
- `errors`: `TransientHttpError`, `BatchRejected`, `PartiallyRejected`.

Secrets and redaction are not here: they live in `sync.secrets`, the only registry.
"""

from sync.http.batching import (
    Item,
    SendWindow,
    TextItems,
    bisect,
    deliver,
    expand,
    make_item,
    pack,
    permanent,
    retryable,
)
from sync.http.client import (
    RETRY_STATUSES,
    HttpClient,
    body_excerpt,
    dumps,
    parse_retry_after,
    response_json,
)
from sync.http.errors import BatchRejected, PartiallyRejected, TransientHttpError
from sync.http.pacing import PacingOptions, reset_gates
from sync.http.urls import check_url, describe_url

__all__ = [
    "RETRY_STATUSES",
    "BatchRejected",
    "HttpClient",
    "Item",
    "PacingOptions",
    "PartiallyRejected",
    "SendWindow",
    "TextItems",
    "TransientHttpError",
    "bisect",
    "body_excerpt",
    "check_url",
    "deliver",
    "describe_url",
    "dumps",
    "expand",
    "make_item",
    "pack",
    "parse_retry_after",
    "permanent",
    "reset_gates",
    "response_json",
    "retryable",
]
