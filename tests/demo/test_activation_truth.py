"""Planted truth for play 1: the demo's milestone events lift day-30 retention, its decoy
events do not, so milestone_retention_lift must rank every planted milestone above every
decoy."""

from __future__ import annotations

import pytest

from tests.demo.conftest import DemoWarehouse

pytestmark = pytest.mark.slow

ACTIVATION_MODELS = ("user_milestones", "user_activation", "milestone_retention_lift")

LIFT_COLUMNS = (
    "lift_rank",
    "event_name",
    "users_did_count",
    "users_did_not_count",
    "retention_did_pct",
    "retention_did_not_pct",
    "retention_lift",
    "retention_did_ci_lower",
    "retention_did_ci_upper",
    "retention_did_not_ci_lower",
    "retention_did_not_ci_upper",
    "is_significant",
    "has_enough_data",
    "is_configured_milestone",
)


def _planted(demo: DemoWarehouse, truth: str) -> set[str]:
    rows = demo.query(f"select entity_id from raw.planted_truth where truth = '{truth}'")
    return {r["entity_id"] for r in rows}


def _lift_table(demo: DemoWarehouse) -> list[dict]:
    return demo.query(
        f"select {', '.join(LIFT_COLUMNS)} from main.milestone_retention_lift "
        "order by lift_rank nulls last, event_name"
    )


def _print_table(rows: list[dict], planted: dict[str, str]) -> None:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return "" if value is None else str(value)

    header = [*LIFT_COLUMNS, "planted"]
    body = [[cell(r[c]) for c in LIFT_COLUMNS] + [planted.get(r["event_name"], "")] for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(header)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for line in body:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))


def _assert_activation_built(demo: DemoWarehouse) -> None:
    failed = {
        node: status
        for model in ACTIVATION_MODELS
        for node, status in demo.failed_nodes(model).items()
    }
    built = {
        n
        for n in demo.node_statuses()
        if n.startswith("model.") and n.split(".")[-1] in ACTIVATION_MODELS
    }
    assert len(built) == len(ACTIVATION_MODELS), (
        f"activation models not built:\n{demo.output[-4000:]}"
    )
    assert not failed, f"activation nodes failed: {failed}\n{demo.output[-4000:]}"


def test_activation_models_and_their_tests_pass_on_demo_data(demo_warehouse: DemoWarehouse):
    _assert_activation_built(demo_warehouse)


def test_planted_milestones_rank_above_every_decoy(demo_warehouse: DemoWarehouse):
    _assert_activation_built(demo_warehouse)
    milestones = _planted(demo_warehouse, "milestone_event")
    decoys = _planted(demo_warehouse, "decoy_event")
    assert milestones and decoys, "the generator planted no milestone or decoy events"

    rows = _lift_table(demo_warehouse)
    planted = {e: "milestone" for e in milestones} | {e: "decoy" for e in decoys}
    _print_table(rows, planted)

    by_event = {r["event_name"]: r for r in rows}
    missing = (milestones | decoys) - by_event.keys()
    assert not missing, f"planted events not among the candidate events: {sorted(missing)}"
    unranked = sorted(e for e in milestones | decoys if by_event[e]["lift_rank"] is None)
    assert not unranked, f"planted events without enough data to rank: {unranked}"

    worst_milestone = max(milestones, key=lambda e: by_event[e]["lift_rank"])
    best_decoy = min(decoys, key=lambda e: by_event[e]["lift_rank"])
    assert by_event[worst_milestone]["lift_rank"] < by_event[best_decoy]["lift_rank"], (
        f"milestone {worst_milestone} (rank {by_event[worst_milestone]['lift_rank']}) does not "
        f"rank above decoy {best_decoy} (rank {by_event[best_decoy]['lift_rank']})"
    )
    for event in milestones:
        row = by_event[event]
        assert row["is_configured_milestone"], f"{event} is planted but not in the milestone seed"
        assert row["is_significant"] and row["retention_lift"] > 1, f"{event}: {row}"
    for event in decoys:
        assert not by_event[event]["is_configured_milestone"], f"decoy {event} is in the seed"


def test_every_demo_user_gets_an_activation_status(demo_warehouse: DemoWarehouse):
    _assert_activation_built(demo_warehouse)
    (counts,) = demo_warehouse.query(
        "select (select count(*) from main.stg_app__users) as users, "
        "(select count(*) from main.user_activation) as activation_rows, "
        "(select count(distinct activation_status) from main.user_activation) as statuses"
    )
    assert counts["activation_rows"] == counts["users"]
    assert counts["statuses"] == 4, "expected not_started, in_progress, activated and stalled users"
