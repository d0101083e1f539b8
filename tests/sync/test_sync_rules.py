"""The pure rules: guardrails, failure thresholds, row -> Change, value normalisation."""

from __future__ import annotations

import datetime as dt
import decimal

from sync.config import SyncConfig
from sync.planning import (
    ColumnMapping,
    failures_over_threshold,
    guardrail_problems,
    row_to_change,
)
from sync.state import DiffCounts
from sync.values import jsonable


def sync(**kw: object) -> SyncConfig:
    return SyncConfig.model_validate(
        {"name": "s", "model": "m", "destination": "d", "object": "person", **kw}
    )


def counts(removed: int = 0, model_rows: int = 100, state_rows: int = 100) -> DiffCounts:
    return DiffCounts(0, 0, removed, model_rows, state_rows)


def test_removals_exactly_at_the_share_are_allowed() -> None:
    assert guardrail_problems(sync(), counts(removed=20), None) == []


def test_removals_above_the_share_are_refused_with_numbers() -> None:
    [msg] = guardrail_problems(sync(), counts(removed=21, model_rows=79), None)
    assert "21 of 100" in msg and "21%" in msg and "20%" in msg


def test_first_run_has_no_guardrail() -> None:
    assert guardrail_problems(sync(), counts(state_rows=0, model_rows=5), None) == []


def test_shrink_is_measured_against_the_last_successful_run() -> None:
    s = sync(guardrails={"max_removed_share": 1, "max_shrink_share": 0.3})
    assert guardrail_problems(s, counts(model_rows=70), 100) == []
    [msg] = guardrail_problems(s, counts(model_rows=69), 100)
    assert "shrank from 100 to 69" in msg


def test_any_failure_exceeds_the_default_threshold() -> None:
    assert failures_over_threshold(sync(), 0, 10) is None
    assert failures_over_threshold(sync(), 1, 10) is not None


def test_failure_thresholds_by_count_and_share() -> None:
    assert failures_over_threshold(sync(max_failed_records=2), 2, 10) is None
    assert failures_over_threshold(sync(max_failed_records=2), 3, 10) is not None
    assert failures_over_threshold(sync(max_failed_share=0.1), 1, 10) is None
    assert "max_failed_share" in (failures_over_threshold(sync(max_failed_share=0.1), 2, 10) or "")


def test_row_becomes_a_change_with_identifier_and_fields() -> None:
    m = ColumnMapping(identifier={"id": "sync_key"}, fields={"email": "email", "n": "score"})
    assert m.columns == ["sync_key", "email", "score"]
    ch = row_to_change(("change", "k1", "h0", "h1", "k1", "a@b.c", decimal.Decimal("3")), m)
    assert ch.op == "change" and ch.hash == "h1" and ch.old_hash == "h0"
    # values stay as the driver returned them; each destination formats them for its API
    assert ch.fields == {"id": "k1", "email": "a@b.c", "n": decimal.Decimal("3")}


def test_a_removed_row_is_identified_by_its_sync_key_and_names_the_fields_to_unset() -> None:
    m = ColumnMapping(identifier={"id": "sync_key"}, fields={"email": "email"})
    ch = row_to_change(("remove", "k1", "h0", None, None, None), m)
    assert ch.op == "remove" and ch.hash is None and ch.old_hash == "h0"
    assert ch.fields == {"id": "k1", "email": None}


def test_warehouse_values_become_json_types() -> None:
    assert jsonable(dt.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05Z"
    tz = dt.timezone(dt.timedelta(hours=2))
    assert jsonable(dt.datetime(2024, 1, 2, 5, 0, tzinfo=tz)) == "2024-01-02T03:00:00Z"
    assert jsonable(dt.date(2024, 1, 2)) == "2024-01-02"
    assert jsonable(decimal.Decimal("1.5")) == 1.5
    assert jsonable({"a": [decimal.Decimal("2")]}) == {"a": [2]}
