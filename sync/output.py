"""How a run talks to people and schedulers: progress bars on a terminal, plain log lines
otherwise, JSON lines with `--log-format json`. Every line passes through secret redaction.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sync.secrets import LIBRARY_LOGGERS, install_redaction, redact

if TYPE_CHECKING:
    from sync.types import DiffCounts, SyncResult

log = logging.getLogger(__name__)
ROOT_LOGGER = "sync"  # every module logs to logging.getLogger(__name__), a child of this one


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return redact(json.dumps(doc, default=str))


def setup_logging(log_format: str = "text", verbosity: int = 0) -> logging.Handler:
    """Configure the `sync` logger tree once per process (stderr; stdout is for results).

    One handler on the `sync` logger serves every module (`sync.engine`, `sync.http.client`,
    `sync.backends.base`, ...), so `-v` shows the HTTP layer's retry lines and the SQL; the
    one redacting filter of `sync.secrets` sits on that handler, so every line is masked
    whichever module wrote it. Returns the handler (tests attach to it).
    """
    handler = logging.StreamHandler(sys.stderr)
    install_redaction(handler, *(logging.getLogger(name) for name in LIBRARY_LOGGERS))
    if log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger(ROOT_LOGGER)
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbosity > 0 else logging.INFO)
    root.propagate = False
    return handler


class Reporter:
    """Engine events -> log lines. The base class logs; subclasses add progress bars."""

    def plan_computed(self, sync: str, counts: DiffCounts) -> None:
        log.info(
            f"{sync}: {counts.added} added, {counts.changed} changed, {counts.removed} removed "
            f"(model {counts.model_rows} rows, state {counts.state_rows})",
            extra={"fields": {"event": "plan", "sync": sync, **counts.__dict__}},
        )

    def progress(self, sync: str, total: int) -> Callable[[int], None]:
        done = [0]
        step = max(total // 10, 1)

        def advance(n: int) -> None:
            before = done[0]
            done[0] += n
            if done[0] // step != before // step or done[0] == total:
                log.info(
                    f"{sync}: sent {done[0]}/{total}",
                    extra={
                        "fields": {
                            "event": "progress",
                            "sync": sync,
                            "sent": done[0],
                            "total": total,
                        }
                    },
                )

        return advance

    def sync_finished(self, result: SyncResult) -> None:
        level = logging.ERROR if result.error else logging.INFO
        msg = (
            f"{result.sync_name}: {result.status}; {result.succeeded} ok, {result.failed} failed, "
            f"{result.skipped} skipped in {result.duration_s:.1f}s"
        )
        if result.error:
            msg += f": {result.error}"
        log.log(
            level,
            msg,
            extra={
                "fields": {
                    "event": "sync_finished",
                    "sync": result.sync_name,
                    "run_id": result.run_id,
                    "status": result.status,
                    "succeeded": result.succeeded,
                    "failed": result.failed,
                    "skipped": result.skipped,
                    "requests": result.requests,
                    "duration_s": result.duration_s,
                    "error": str(result.error) if result.error else None,
                }
            },
        )

    def warning(self, msg: str) -> None:
        log.warning(msg)


class RichReporter(Reporter):
    """On a terminal: one progress bar per sync (rich), log lines for the rest."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)

    def progress(self, sync: str, total: int) -> Callable[[int], None]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        bar = Progress(
            f"[bold]{sync}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        task = bar.add_task(sync, total=total)
        bar.start()
        state = {"done": 0}

        def advance(n: int) -> None:
            state["done"] += n
            bar.update(task, advance=n)
            if state["done"] >= total:
                bar.stop()

        if total == 0:
            bar.stop()
        self._bar = bar
        return advance

    def sync_finished(self, result: SyncResult) -> None:
        bar = getattr(self, "_bar", None)
        if bar is not None:
            bar.stop()
        super().sync_finished(result)


def make_reporter(log_format: str) -> Reporter:
    """Progress bars only for humans at a terminal; machines get lines."""
    if log_format == "text" and sys.stderr.isatty():
        return RichReporter()
    return Reporter()


def emit_json(doc: dict[str, Any]) -> None:
    """One JSON document per line on stdout (results, for --log-format json)."""
    sys.stdout.write(redact(json.dumps(doc, default=str)) + "\n")
