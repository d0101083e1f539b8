"""Errors of the HTTP layer: what a destination sees when a request could not prove anything.

Both carry text that may quote a response body, so both redact it on the way in.
"""

from __future__ import annotations

from sync.secrets import redact


class TransientHttpError(Exception):
    """Retries were exhausted on a retryable failure; the records stay for the next run."""

    def __init__(self, code: str, message: str) -> None:
        message = redact(message)
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class BatchRejected(Exception):
    """The API refused a whole batch (400/413) without naming the record: bisect it."""

    def __init__(self, code: str, reason: str) -> None:
        reason = redact(reason)
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class RetrySignal(Exception):
    """Raised inside one attempt to tell the retry policy to try again (never escapes)."""

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after
