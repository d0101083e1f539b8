"""Behaviour of `plg-sync run` end to end on DuckDB with the file destination.

Each test builds a tiny sync model, runs the CLI, and checks what reached the destination
and what the state tables say.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.sync.conftest import CANARY, Boom, Project, RecordingDestination, people


def keys(lines: list[dict]) -> set[str]:
    return {x["key"] for x in lines}


def test_first_run_sends_every_row(project: Project) -> None:
    project.cli("run")
    lines = project.sent_lines()
    assert len(lines) == 50
    assert keys(lines) == {e for e, _, _ in people(50)}
    assert lines[0]["op"] == "add"
    assert set(lines[0]["fields"]) == {"id", "email", "plan", "score"}
    assert len(project.state()) == 50


def test_second_run_sends_nothing(project: Project) -> None:
    project.cli("run")
    project.clear_sent()
    project.cli("run")
    assert project.sent_lines() == []


def test_changing_n_rows_sends_exactly_those_n(project: Project) -> None:
    project.cli("run")
    project.clear_sent()
    project.update_model("score < 7", "plan = 'pro'")
    project.cli("run")
    lines = project.sent_lines()
    assert len(lines) == 7
    assert {x["op"] for x in lines} == {"change"}
    assert all(x["fields"]["plan"] == "pro" for x in lines)
    project.clear_sent()
    project.cli("run")
    assert project.sent_lines() == []


def test_state_hash_follows_the_model_after_a_change(project: Project) -> None:
    project.cli("run")
    project.update_model("score = 3", "plan = 'pro'")
    project.cli("run")
    (model_hash,) = project.sql("select sync_hash from sync_people where score = 3")[0]
    (state_hash,) = project.sql(
        "select sync_hash from plg_sync.sync_state where sync_key = 'u00003@example.com'"
    )[0]
    assert model_hash == state_hash


def test_full_resync_sends_every_row_again(project: Project) -> None:
    project.cli("run")
    project.clear_sent()
    project.cli("run", "--full-resync")
    assert len(project.sent_lines()) == 50


def test_removed_rows_with_on_remove_ignore_drop_state_without_calling_destination(
    project: Project,
) -> None:
    project.cli("run")
    project.clear_sent()
    project.sql("delete from sync_people where score >= 45")
    result = project.cli("run")
    assert project.sent_lines() == []
    assert len(project.state()) == 45
    assert "skipped" in result.output


@pytest.mark.parametrize("on_remove", ["delete", "unset"])
def test_removed_rows_with_on_remove_send_the_remove(project: Project, on_remove: str) -> None:
    project.write_config([project.sync_entry(on_remove=on_remove)])
    project.cli("run")
    project.clear_sent()
    project.sql("delete from sync_people where score >= 45")
    project.cli("run")
    lines = project.sent_lines()
    assert [x["op"] for x in lines] == ["remove"] * 5
    # the identifier comes from the key; every mapped field is named (with no value) so
    # `unset` knows which attributes to clear
    assert lines[0]["fields"] == {"id": lines[0]["key"], "email": None, "plan": None, "score": None}
    assert len(project.state()) == 45


def test_guardrail_refuses_mass_removal_and_allow_mass_change_overrides(
    project: Project,
) -> None:
    project.write_config([project.sync_entry(on_remove="delete")])
    project.cli("run")
    project.clear_sent()
    project.sql("delete from sync_people where score >= 20")  # 30 of 50 = 60% removed
    result = project.cli("run", expect=5)
    assert "30 of 50" in result.output and "max_removed_share" in result.output
    assert project.sent_lines() == []
    assert len(project.state()) == 50
    assert project.sql("select status from plg_sync.sync_runs order by started_at desc")[0] == (
        "blocked",
    )

    project.cli("run", "--allow-mass-change")
    assert len(project.sent_lines()) == 30
    assert len(project.state()) == 20


def test_guardrail_refuses_a_model_that_shrank_since_the_last_successful_run(
    project: Project,
) -> None:
    project.write_config(
        [project.sync_entry(guardrails={"max_removed_share": 1.0, "max_shrink_share": 0.3})]
    )
    project.cli("run")
    project.sql("delete from sync_people where score >= 30")  # 50 -> 30 rows: 40% smaller
    result = project.cli("run", expect=5)
    assert "shrank from 50 to 30" in result.output
    project.cli("run", "--allow-mass-change")


def test_a_held_lease_blocks_a_second_run_which_sends_nothing(project: Project) -> None:
    project.cli("run", "--dry-run")  # creates the state tables
    future = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=10)
    project.sql(
        "insert into plg_sync.sync_leases (sync_name, holder, acquired_at, expires_at) values ('people', 'other-run', ?, ?)",
        [future - dt.timedelta(minutes=20), future],
    )
    result = project.cli("run", expect=4)
    assert "other-run" in result.output and "lease" in result.output
    assert "locked" in result.output
    assert project.sent_lines() == []
    assert project.state() == []
    # The held lease is untouched.
    assert project.state("sync_leases")[0][1] == "other-run"


def test_an_expired_lease_is_taken_over(project: Project) -> None:
    project.cli("run", "--dry-run")
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1)
    project.sql(
        "insert into plg_sync.sync_leases (sync_name, holder, acquired_at, expires_at) values ('people', 'dead-run', ?, ?)",
        [past - dt.timedelta(minutes=15), past],
    )
    project.cli("run")
    assert len(project.sent_lines()) == 50
    assert project.state("sync_leases") == []  # released at the end


def test_rejected_records_are_logged_keep_old_state_and_are_resent_next_run(
    project: Project,
) -> None:
    rejected = ["u00003@example.com", "u00010@example.com"]
    dests = {"rec": {"type": "recording", "reject_keys": rejected}}
    project.write_config([project.sync_entry(destination="rec")], destinations=dests)
    result = project.cli("run", expect=7)
    assert "2 of 50 records failed" in result.output
    errors = project.state("sync_errors")
    assert [e[2] for e in errors] == rejected
    assert {e[4] for e in errors} == {"invalid_email"}
    assert errors[0][5] == "email rejected for u00003@example.com"
    assert errors[0][6] == 1  # attempt
    state_keys = {r[1] for r in project.state()}
    assert len(state_keys) == 48 and not state_keys & set(rejected)

    RecordingDestination.sent = []
    project.cli("run", expect=7)  # still rejected: sent again, attempt 2
    assert sorted(c.key for c in RecordingDestination.sent) == rejected
    assert {e[6] for e in project.state("sync_errors") if e[0] != errors[0][0]} == {2}

    project.write_config(
        [project.sync_entry(destination="rec")], destinations={"rec": {"type": "recording"}}
    )
    RecordingDestination.sent = []
    project.cli("run")
    assert sorted(c.key for c in RecordingDestination.sent) == rejected
    assert len(project.state()) == 50


def test_failures_under_the_threshold_exit_zero_as_partial(project: Project) -> None:
    dests = {"rec": {"type": "recording", "reject_keys": ["u00001@example.com"]}}
    project.write_config(
        [project.sync_entry(destination="rec", max_failed_records=2)], destinations=dests
    )
    project.cli("run")
    assert project.sql("select status, failed from plg_sync.sync_runs") == [("partial", 1)]


def test_a_crash_after_some_checkpoints_loses_nothing(project: Project) -> None:
    dests = {"rec": {"type": "recording", "crash_after_batches": 3}}
    project.write_config([project.sync_entry(destination="rec")], destinations=dests)
    with pytest.raises(Boom):
        project.cli("run")
    delivered = {c.key for c in RecordingDestination.sent}
    state_keys = {r[1] for r in project.state()}
    assert len(delivered) == 30
    assert state_keys <= delivered  # state only for acknowledged records
    assert project.sql("select status from plg_sync.sync_runs") == [("failed",)]

    project.write_config(
        [project.sync_entry(destination="rec")], destinations={"rec": {"type": "recording"}}
    )
    project.cli("run")
    delivered |= {c.key for c in RecordingDestination.sent}
    assert delivered == {e for e, _, _ in people(50)}
    assert len(project.state()) == 50
    RecordingDestination.sent = []
    project.cli("run")
    assert RecordingDestination.sent == []


def test_dry_run_computes_exactly_the_plan_and_sends_nothing(project: Project) -> None:
    project.cli("run")
    project.clear_sent()
    project.update_model("score < 4", "plan = 'team'")
    project.sql("delete from sync_people where score = 49")
    project.sql(
        "insert into sync_people values ('new@example.com', 'h-new', 'new@example.com', 'free', 99)"
    )
    plan_out = project.cli("plan").output
    project.cli("run", "--dry-run")
    assert project.sent_lines() == []
    runs = project.sql("select run_id from plg_sync.sync_runs where dry_run order by started_at")
    assert len(runs) == 2
    plans = [
        sorted(
            project.sql(
                "select sync_key, operation, hash_before, hash_after from plg_sync.sync_plans"
                " where run_id = ?",
                [run_id],
            )
        )
        for (run_id,) in runs
    ]
    assert plans[0] == plans[1]
    assert sorted(op for _, op, _, _ in plans[0]) == [
        "add",
        "change",
        "change",
        "change",
        "change",
        "remove",
    ]
    assert "sample" in plan_out
    # The real run then sends what was planned (the ignored remove is not sent).
    project.cli("run")
    assert len(project.sent_lines()) == 5


def test_plan_prints_counts_and_sample_payloads(project: Project) -> None:
    result = project.cli("plan")
    assert "50" in result.output
    samples = [ln for ln in result.output.splitlines() if " sample: " in ln]
    assert len(samples) == 3
    payload = json.loads(samples[0].split(" sample: ", 1)[1])
    assert payload["op"] == "add" and "email" in payload["fields"]


def test_select_runs_only_the_named_syncs(project: Project) -> None:
    project.write_config(
        [project.sync_entry(), project.sync_entry(name="people_copy", destination="files")]
    )
    project.cli("run", "--select", "people_copy")
    assert project.sent_lines("people") == []
    assert len(project.sent_lines("people_copy")) == 50
    result = project.cli("run", "--select", "peple", expect=2)
    assert "did you mean 'people'" in result.output


def test_fields_mapping_renames_and_limits_what_is_sent(project: Project) -> None:
    project.write_config([project.sync_entry(fields={"plan_name": "plan"})])
    project.cli("run")
    assert project.sent_lines()[0]["fields"] == {"id": "u00000@example.com", "plan_name": "free"}


def test_secrets_never_appear_in_logs_errors_or_state(project: Project) -> None:
    dests = {
        "rec": {
            "type": "recording",
            "api_key": {"env": "T_API_KEY"},
            "reject_keys": ["u00002@example.com"],
        }
    }
    project.write_config([project.sync_entry(destination="rec")], destinations=dests)
    outputs = [
        project.cli("-v", "run", expect=7).output,
        project.cli("--log-format", "json", "-v", "plan").output,
        project.cli("status").output,
        project.cli("validate").output,
    ]
    for out in outputs:
        assert CANARY not in out
    for table in ("sync_state", "sync_runs", "sync_errors", "sync_plans", "sync_leases"):
        assert CANARY not in repr(project.state(table))


def test_secret_leaked_by_a_destination_message_is_redacted(project: Project) -> None:
    from sync.config import load_config
    from sync.engine import Engine, RunOptions, Workspace

    class Leaky(RecordingDestination):
        def send(self, sync, changes):  # type: ignore[no-untyped-def]
            from sync.records import Outcome

            key = self.options.api_key.reveal()  # type: ignore[attr-defined]
            return [Outcome(c.key, "permanent", "401", f"bad token {key}") for c in changes]

    project.write_config([project.sync_entry(destination="rec")])
    ws = Workspace(load_config(project.config))
    ws._destinations["rec"] = Leaky("rec", ws.config.resolved_destinations["rec"].options)
    [result] = Engine(ws).run(ws.config.syncs, RunOptions())
    ws.close()
    assert result.failed == 50
    messages = {r[5] for r in project.state("sync_errors")}
    assert messages == {"bad token ***"}


def test_json_log_format_writes_json_lines(project: Project) -> None:
    result = project.cli("--log-format", "json", "run")
    docs = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    events = {d.get("event") for d in docs}
    assert {"plan", "sync_finished"} <= events
    summary = [d for d in docs if d.get("sync") == "people" and "status" in d and "samples" in d]
    assert summary[0]["status"] == "succeeded" and summary[0]["added"] == 50


def test_status_shows_the_last_runs_per_sync(project: Project) -> None:
    project.cli("run")
    project.cli("run")
    out = project.cli("status").output
    assert out.count("│ succeeded ") == 2 and "people" in out


def test_help_documents_every_exit_code(project: Project) -> None:
    out = project.cli("--help").output
    for code in range(8):
        assert f"  {code}  " in out
    for cmd in ("run", "plan", "status", "validate", "setup"):
        assert cmd in out


def test_validate_reports_a_mapped_column_missing_from_the_model(project: Project) -> None:
    project.write_config([project.sync_entry(fields={"plan": "plan_name"})])
    result = project.cli("validate", expect=2)
    assert "'fields.plan'" in result.output and "plan_name" in result.output


def test_validate_passes_for_a_good_config(project: Project) -> None:
    assert "valid" in project.cli("validate").output


def test_validate_asks_the_warehouse_when_the_manifest_has_no_contract(project: Project) -> None:
    project.write_manifest(["sync_people"], contract=False)
    assert "valid" in project.cli("validate").output


def test_setup_is_dry_by_default(project: Project) -> None:
    out = project.cli("setup", "files").output
    assert "would create" in out and "--apply" in out
    assert "created" in project.cli("setup", "files", "--apply").output


def test_missing_manifest_says_to_run_dbt_build(project: Project) -> None:
    (project.root / "target" / "manifest.json").unlink()
    result = project.cli("run", expect=2)
    assert "dbt build" in result.output


def test_model_missing_from_manifest_is_a_config_error(project: Project) -> None:
    project.write_config([project.sync_entry(model="sync_peeple")])
    result = project.cli("run", expect=2)
    assert "sync_peeple" in result.output and "did you mean 'sync_people'" in result.output


def test_run_refuses_a_sync_its_destination_cannot_write(project: Project) -> None:
    project.write_config([project.sync_entry(destination="rec", object="deal")])
    result = project.cli("run", expect=2)
    assert "object 'deal' is not supported" in result.output
    assert RecordingDestination.sent == []
