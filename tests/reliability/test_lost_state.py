"""A lost or much smaller `sync_state` is a mass change: blocked (exit 5), never a silent resend.

Issue 15, item 6: with `sync_state` dropped by hand, the next run resent all 9,797 records
with exit 0 and no warning (for HubSpot that can burn the daily API budget). A sync that has
a successful run and whose state lost more than `max_state_loss_share` (default 20%) of the
rows it had after its latest run now stops before sending, until `--full-resync` (resend on
purpose) or `--allow-mass-change`.
"""

from __future__ import annotations

from tests.sync.conftest import Project, people


def _synced(project: Project, n: int = 50) -> None:
    project.cli("run")
    assert len(project.sent_lines()) == n
    project.clear_sent()


def test_a_dropped_state_table_blocks_the_next_run_until_full_resync(project: Project) -> None:
    _synced(project)
    project.sql("drop table plg_sync.sync_state")

    blocked = project.cli("run", expect=5)
    assert "plg_sync.sync_state" in blocked.output and "has 0 rows but had 50" in blocked.output
    assert "--full-resync" in blocked.output and "Nothing was sent" in blocked.output
    assert project.sent_lines() == []
    project.cli("run", expect=5)  # a blocked run does not make the lost state the new normal
    assert project.sql("select status from plg_sync.sync_runs order by started_at")[-2:] == [
        ("blocked",),
        ("blocked",),
    ]

    project.cli("run", "--full-resync")
    assert len(project.sent_lines()) == 50
    project.clear_sent()
    project.cli("run")
    assert project.sent_lines() == []


def test_a_truncated_state_is_blocked_in_plan_too(project: Project) -> None:
    _synced(project)
    project.sql("delete from plg_sync.sync_state")
    result = project.cli("plan", expect=5)
    assert "max_state_loss_share is 20%" in result.output


def test_most_of_the_state_deleted_by_hand_needs_allow_mass_change(project: Project) -> None:
    _synced(project)
    project.sql("delete from plg_sync.sync_state where sync_key < 'u00030'")  # 30 of 50: 60%

    result = project.cli("run", expect=5)
    assert "has 20 rows but had 50" in result.output and "60% lost" in result.output
    assert project.sent_lines() == []
    project.cli("run", "--allow-mass-change")
    assert len(project.sent_lines()) == 30


def test_a_small_loss_under_the_guardrail_is_resent_without_blocking(project: Project) -> None:
    _synced(project)
    project.sql("delete from plg_sync.sync_state where sync_key < 'u00005'")  # 10%
    project.cli("run")
    assert len(project.sent_lines()) == 5


def test_the_share_is_configurable(project: Project) -> None:
    project.write_config([project.sync_entry(guardrails={"max_state_loss_share": 0.05})])
    _synced(project)
    project.sql("delete from plg_sync.sync_state where sync_key < 'u00005'")  # 10%
    project.cli("run", expect=5)


def test_state_that_shrank_by_acknowledged_removals_is_not_a_loss(project: Project) -> None:
    project.write_config([project.sync_entry(on_remove="delete")])
    _synced(project)
    project.set_model(people(45))  # 10% removed: under max_removed_share, sent as deletes
    project.cli("run")
    project.set_model(people(41))
    project.cli("run")
    assert project.sql("select count(*) from plg_sync.sync_state")[0][0] == 41


def test_a_sync_that_never_succeeded_is_not_blocked(project: Project) -> None:
    rejecting = {"rec": {"type": "recording", "reject_keys": ["u00001@example.com"]}}
    project.write_config([project.sync_entry(destination="rec")], destinations=rejecting)
    project.cli("run", expect=7)  # 49 delivered, but the run failed: no successful run yet
    project.sql("delete from plg_sync.sync_state")
    project.write_config([project.sync_entry(destination="rec")])
    project.cli("run")
