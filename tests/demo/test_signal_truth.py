"""Planted truth for plays 2-4: the generator plants PQL, at-risk, recovered and near-limit
accounts (raw.planted_truth); each flag must find them with precision and recall of at
least 95%, and a PQL's pql_reached_at must be the day the generator made it cross."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.demo.conftest import DemoWarehouse

pytestmark = pytest.mark.slow

SIGNAL_MODELS = (
    "int_account_pql_signal_daily",
    "account_pql_daily",
    "account_pql_scores",
    "account_health_daily",
    "account_churn_risk",
    "account_plan_limits",
    "account_signals",
)
MIN_PRECISION = 0.95
MIN_RECALL = 0.95
MIN_REACHED_AT_MATCH = 0.95

# flag name -> (planted truth, SQL returning the account_id of every flagged account)
FLAGS: dict[str, tuple[str, str]] = {
    "is_pql": ("pql", "select account_id from main.account_pql_scores where is_pql"),
    "is_at_risk": ("at_risk", "select account_id from main.account_churn_risk where is_at_risk"),
    "is_recovered": (
        "recovered",
        "select account_id from main.account_churn_risk where is_recovered",
    ),
    "near_limit": (
        "near_limit",
        "select distinct account_id from main.account_plan_limits where limit_status <> 'ok'",
    ),
}


@dataclass(frozen=True)
class Score:
    """Confusion counts of one flag against its planted truth."""

    flag: str
    truth: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def _planted(demo: DemoWarehouse, truth: str) -> set[str]:
    rows = demo.query(f"select entity_id from raw.planted_truth where truth = '{truth}'")
    return {r["entity_id"] for r in rows}


def _score(demo: DemoWarehouse, flag: str) -> Score:
    truth, sql = FLAGS[flag]
    planted = _planted(demo, truth)
    flagged = {r["account_id"] for r in demo.query(sql)}
    return Score(
        flag=flag,
        truth=truth,
        tp=len(flagged & planted),
        fp=len(flagged - planted),
        fn=len(planted - flagged),
    )


def _table(scores: list[Score]) -> str:
    header = ("flag", "truth", "TP", "FP", "FN", "precision", "recall")
    body = [
        (s.flag, s.truth, str(s.tp), str(s.fp), str(s.fn), f"{s.precision:.3f}", f"{s.recall:.3f}")
        for s in scores
    ]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in body]
    return "\n".join(lines)


def _assert_signals_built(demo: DemoWarehouse) -> None:
    built = {
        n
        for n in demo.node_statuses()
        if n.startswith("model.") and n.split(".")[-1] in SIGNAL_MODELS
    }
    assert len(built) == len(SIGNAL_MODELS), f"signal models not built:\n{demo.output[-4000:]}"
    failed = {
        node: status for model in SIGNAL_MODELS for node, status in demo.failed_nodes(model).items()
    }
    assert not failed, f"signal nodes failed: {failed}\n{demo.output[-4000:]}"


def test_signal_models_and_their_tests_pass_on_demo_data(demo_warehouse: DemoWarehouse):
    _assert_signals_built(demo_warehouse)


def test_flags_find_the_planted_accounts(
    demo_warehouse: DemoWarehouse, record_property: pytest.RecordProperty
):
    _assert_signals_built(demo_warehouse)
    scores = [_score(demo_warehouse, flag) for flag in FLAGS]
    table = _table(scores)
    print()
    print(table)
    record_property("signal_truth_table", table)
    for s in scores:
        record_property(f"{s.flag}_precision", round(s.precision, 4))
        record_property(f"{s.flag}_recall", round(s.recall, 4))

    empty = [s.truth for s in scores if s.tp + s.fn == 0]
    assert not empty, f"the generator planted no accounts for: {empty}"
    weak = [s for s in scores if s.precision < MIN_PRECISION or s.recall < MIN_RECALL]
    assert not weak, f"precision or recall below {MIN_PRECISION:.0%}/{MIN_RECALL:.0%}:\n{table}"


def test_pql_reached_at_is_the_planted_crossing_day(
    demo_warehouse: DemoWarehouse, record_property: pytest.RecordProperty
):
    _assert_signals_built(demo_warehouse)
    rows = demo_warehouse.query(
        "select truth.entity_id as account_id, truth.expected_date, "
        "cast(scores.pql_reached_at as date) as reached_date "
        "from raw.planted_truth as truth "
        "left join main.account_pql_scores as scores on scores.account_id = truth.entity_id "
        "where truth.truth = 'pql'"
    )
    assert rows, "the generator planted no PQLs"
    matched = [r for r in rows if r["reached_date"] == r["expected_date"]]
    share = len(matched) / len(rows)
    print(f"\npql_reached_at == planted crossing day: {len(matched)}/{len(rows)} ({share:.1%})")
    record_property("pql_reached_at_match_share", round(share, 4))
    mismatched = sorted(
        (r["account_id"], str(r["expected_date"]), str(r["reached_date"]))
        for r in rows
        if r["reached_date"] != r["expected_date"]
    )
    assert share >= MIN_REACHED_AT_MATCH, (
        f"only {share:.1%} of planted PQLs reached the threshold on the planted day; "
        f"(account, expected, actual): {mismatched[:20]}"
    )
