"""Bad input catalogue: what a user sees (message, exit code) for each kind of mistake.

Every case is one test; each records its outcome for the table in docs/reliability.md. A case
passes when the message names the problem and nothing is lost: a bad record is rejected with
a reason in sync_errors and keeps no state, a bad config sends nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.reliability.conftest import (
    CANARY,
    FIGURES,
    destination_config,
    make_standin,
    sync_entry,
)
from tests.sync.conftest import Project, people

# --- helpers -------------------------------------------------------------------------------


def _record(case: str, result: Any, expected_code: int, needle: str) -> str:
    out = result.output
    assert CANARY not in out
    lines = out.splitlines()
    shown = [x for x in lines if x.startswith("error:")] or [
        x for x in lines if needle.lower() in x.lower()
    ]
    first = re.sub(r"^[\d-]+ [\d:,]+ \w+ ", "", (shown or [""])[0].strip())
    first = re.sub(r"/\S*/(sync\.yml|manifest\.json)", r"\1", first)
    first = first.replace(
        " They keep their old state and are sent again next run; reasons are in the"
        " sync_errors table.",
        " [...]",
    )
    FIGURES["bad_input"].append(
        {"case": case, "exit_code": result.exit_code, "message": first[:320]}
    )
    assert result.exit_code == expected_code, out
    assert needle.lower() in out.lower(), out
    return out


def _model(project: Project, select_sql: str, hash_cols: str = "*") -> None:
    """Replace sync_people with `select_sql` plus a sync_hash over its columns (no contract)."""
    project.sql(f"create or replace table _raw as {select_sql}")
    project.sql(
        "create or replace table sync_people as select *,"
        " md5(cast(_raw as varchar)) as sync_hash from _raw"
    )
    project.write_manifest(["sync_people"], contract=False)


def _errors(project: Project) -> list[tuple[Any, ...]]:
    return project.sql(
        "select sync_key, error_code, message from plg_sync.sync_errors order by all"
    )


def _state_keys(project: Project) -> set[str]:
    return {k for (k,) in project.sql("select sync_key from plg_sync.sync_state")}


@pytest.fixture
def standin(request: pytest.FixtureRequest, project: Project) -> Iterator[Any]:
    dest = request.param
    with make_standin(dest) as s:
        s.setup_faults("", 0.0)
        s.dest = dest
        project.write_config(
            [sync_entry(project, dest)], destinations={dest: destination_config(dest, s)}
        )
        yield s


def _with(dest: str) -> Callable[[Any], Any]:
    return pytest.mark.parametrize("standin", [dest], indirect=True)


# --- config errors: exit 2, nothing sent -----------------------------------------------------


def test_config_unknown_model(project: Project) -> None:
    project.write_config([project.sync_entry(model="sync_peeple")])
    _record("config: unknown model", project.cli("run", expect=None), 2, "sync_peeple")
    assert project.sent_lines() == []


def test_config_missing_key_column(project: Project) -> None:
    project.write_config([project.sync_entry(identifier={"id": "user_ref"})])
    _record(
        "config: identifier column not in model", project.cli("run", expect=None), 2, "user_ref"
    )


def test_config_bad_mode(project: Project) -> None:
    project.write_config([project.sync_entry(mode="merge")])
    _record("config: bad mode", project.cli("run", expect=None), 2, "mode")


def test_config_missing_env_var(project: Project) -> None:
    project.write_config(
        destinations={
            "files": {"type": "file", "path": str(project.out)},
            "rec": {"type": "recording", "api_key": {"env": "T_NOT_SET_ANYWHERE"}},
        }
    )
    _record("config: missing env var", project.cli("run", expect=None), 2, "T_NOT_SET_ANYWHERE")


def test_config_yaml_syntax(project: Project) -> None:
    project.config.write_text("version: 1\nsyncs: [\n  - name: people\n    model: [\n")
    _record("config: YAML syntax error", project.cli("run", expect=None), 2, "not valid YAML")


def test_config_unknown_key_gets_a_suggestion(project: Project) -> None:
    project.write_config([project.sync_entry(batchsize=10)])
    _record("config: misspelt key", project.cli("run", expect=None), 2, "did you mean")


def test_config_unknown_destination_type(project: Project) -> None:
    project.write_config(destinations={"files": {"type": "fyle", "path": "x"}})
    _record("config: unknown destination type", project.cli("run", expect=None), 2, "fyle")


def test_config_model_without_sync_key(project: Project) -> None:
    _model(project, "select 'a@x.io' as email, 'free' as plan")
    project.sql("alter table sync_people rename column sync_hash to row_hash")
    _record(
        "config: model lacks sync_key/sync_hash", project.cli("run", expect=None), 2, "sync_key"
    )


# --- model data: the bad record is rejected with a reason, the rest is delivered ------------


def test_data_null_key(project: Project) -> None:
    project.update_model("score = 3", "sync_key = null")
    result = project.cli("run", expect=None)
    _record("data: null sync_key", result, 5, "null sync_key")
    assert project.sent_lines() == []


def test_data_duplicate_key(project: Project) -> None:
    project.sql("update sync_people set sync_key = 'u00001@example.com' where score = 2")
    result = project.cli("run", expect=None)
    _record("data: duplicate sync_key", result, 5, "duplicate sync_key")
    assert project.sent_lines() == [] and _state_keys(project) == set()


@_with("customerio")
def test_data_key_too_long(project: Project, standin: Any) -> None:
    project.update_model("score = 3", "email = repeat('k', 200) || '@example.com'")
    project.sql("update sync_people set sync_key = email")
    result = project.cli("run", expect=None)
    _record("data: key longer than Customer.io's 150 bytes", result, 7, "150")
    assert len(standin.people) == 49 and len(_state_keys(project)) == 49
    assert len(_errors(project)) == 1


@_with("customerio")
def test_data_value_too_large(project: Project, standin: Any) -> None:
    project.update_model("score = 3", "plan = repeat('x', 5000)")
    result = project.cli("run", expect=None)
    _record("data: attribute value over 1000 bytes", result, 7, "plan")
    assert len(standin.people) == 49
    (row,) = _errors(project)
    assert "xxxxxxxxxx" not in row[2]  # the reason, not the payload


@_with("hubspot")
def test_data_nan_and_infinity(project: Project, standin: Any) -> None:
    _model(
        project,
        "select email as sync_key, email, plan,"
        " case when score = 1 then 'nan'::double when score = 2 then 'inf'::double"
        " else score::double end as score from sync_people",
    )
    result = project.cli("run", expect=None)
    _record("data: NaN / Infinity in a number column", result, 7, "NaN/Infinity")
    assert len(standin.records["contacts"]) == 48


@_with("hubspot")
def test_data_invalid_email(project: Project, standin: Any) -> None:
    project.update_model("score = 3", "email = 'not an email'")
    result = project.cli("run", expect=None)
    _record("data: invalid email (HubSpot)", result, 7, "invalid")
    assert len(standin.records["contacts"]) == 49
    assert [r[1] for r in _errors(project)] == ["VALIDATION_ERROR"]


@_with("hubspot")
def test_data_invalid_enum_option(project: Project, standin: Any) -> None:
    standin.add_property(
        "contacts", "plan", "enumeration", options=[{"value": "free"}, {"value": "pro"}]
    )
    project.update_model("score = 3", "plan = 'platinum'")
    result = project.cli("run", expect=None)
    _record("data: value not an enum option (HubSpot)", result, 7, "platinum")
    assert len(standin.records["contacts"]) == 49


@_with("hubspot")
def test_data_bad_timestamp(project: Project, standin: Any) -> None:
    standin.add_property("contacts", "seen_at", "datetime")
    _model(
        project,
        "select email as sync_key, email, plan, score,"
        " case when score = 3 then 'yesterday' else '2026-01-02 03:04:05' end as seen_at"
        " from sync_people",
    )
    result = project.cli("run", expect=None)
    # Text is passed through as is; HubSpot validates it (the stand-in does not: a gap).
    _record("data: unparseable timestamp text (HubSpot datetime)", result, 0, "succeeded")
    assert len(standin.records["contacts"]) == 50


@_with("hubspot")
def test_data_mixed_types(project: Project, standin: Any) -> None:
    _model(
        project,
        "select email as sync_key, email, plan,"
        " case when score = 3 then 'twelve' else score::varchar end as score from sync_people",
    )
    result = project.cli("run", expect=None)
    _record("data: text in a number property (HubSpot)", result, 7, "number")
    assert len(standin.records["contacts"]) == 49


def test_data_non_utf8_bytes(project: Project) -> None:
    _model(
        project,
        "select email as sync_key, email, plan, score,"
        " case when score = 3 then '\\xFF\\xFE'::blob else 'ok'::blob end as note"
        " from sync_people",
    )
    result = project.cli("run", expect=None)
    _record("data: non-UTF-8 bytes (blob column)", result, 0, "succeeded")
    lines = {x["key"] if "key" in x else str(x): x for x in project.sent_lines()}
    assert len(lines) == 50


# --- schema drift ------------------------------------------------------------------------------


def _drift(project: Project, change_sql: str) -> Any:
    _model(project, "select email as sync_key, email, plan, score from sync_people")
    project.cli("run")
    project.sql(change_sql)
    _model(project, "select * exclude (sync_hash) from sync_people")
    return project.cli("run", expect=None)


def _resent_after_override(project: Project) -> None:
    assert project.sent_lines()[-1:] and len(project.sent_lines()) == 50  # nothing new sent
    project.cli("run", "--allow-mass-change")
    run = project.sql("select changed, succeeded from plg_sync.sync_runs order by started_at")
    assert run[-1] == (50, 50)
    assert len(project.sent_lines()) == 100


def test_drift_column_added(project: Project) -> None:
    result = _drift(project, "alter table sync_people add column region varchar default 'eu'")
    _record("drift: column added", result, 5, "changed since")
    _resent_after_override(project)


def test_drift_column_removed(project: Project) -> None:
    result = _drift(project, "alter table sync_people drop column plan")
    _record("drift: column removed", result, 5, "changed since")
    _resent_after_override(project)


def test_drift_column_renamed(project: Project) -> None:
    result = _drift(project, "alter table sync_people rename column plan to plan_name")
    _record("drift: column renamed", result, 5, "changed since")
    _resent_after_override(project)


def test_drift_column_type_changed(project: Project) -> None:
    """With a contract (as every sync model has) a type change is drift too."""
    project.cli("run")
    project.sql("alter table sync_people alter score type double")
    project.update_model("true", "score = score")
    manifest = project.root / "target" / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["nodes"]["model.t.sync_people"]["columns"]["score"]["data_type"] = "double"
    manifest.write_text(json.dumps(doc))
    result = project.cli("run", expect=None)
    _record("drift: column type changed (contract)", result, 5, "integer -> double")
    _resent_after_override(project)


def test_drift_plan_shows_it_too(project: Project) -> None:
    _drift(project, "alter table sync_people add column region varchar default 'eu'")
    result = project.cli("plan", expect=None)
    _record("drift: plan of a drifted model", result, 5, "region")


def test_drift_with_explicit_fields_names_the_missing_column(project: Project) -> None:
    _model(project, "select email as sync_key, email, plan, score from sync_people")
    project.write_config([project.sync_entry(fields={"plan": "plan", "score": "score"})])
    project.cli("run")
    project.sql("alter table sync_people drop column plan")
    _record("drift: mapped column dropped", project.cli("run", expect=None), 2, "'plan'")


# --- API responses ---------------------------------------------------------------------------


@_with("salesforce")
def test_api_malformed_json_is_retried(project: Project, standin: Any) -> None:
    standin.inject("malformed_json", times=1, path_contains="/composite/")
    result = project.cli("run", expect=None)
    # A garbled 200 proves nothing: the batch is not checkpointed and goes again next run.
    _record("api: malformed JSON once (Salesforce)", result, 7, "not valid JSON")
    project.cli("run")
    assert len(standin.records["Account"]) == 50


@_with("salesforce")
def test_api_malformed_json_persistent(project: Project, standin: Any) -> None:
    standin.inject("malformed_json", times=1000, path_contains="/composite/")
    result = project.cli("run", expect=None)
    _record("api: malformed JSON always (Salesforce)", result, 7, "not valid JSON")
    assert _state_keys(project) == set()


@_with("customerio")
def test_api_html_error_page(project: Project, standin: Any) -> None:
    standin.inject("html", times=1000)
    result = project.cli("run", expect=None)
    _record("api: HTML 502 page (Customer.io)", result, 7, "502 Bad Gateway")
    assert _state_keys(project) == set()


@_with("hubspot")
def test_api_200_with_error_body(project: Project, standin: Any) -> None:
    body = {"status": "error", "message": "internal glitch", "category": "INTERNAL_ERROR"}
    standin.inject("status", times=1, status=200, body=body, path_contains="/batch/upsert")
    result = project.cli("run", expect=None)
    _record("api: HTTP 200 with an error body (HubSpot)", result, 7, "internal glitch")
    assert _state_keys(project) == set()
    assert _state_keys(project) <= {k.lower() for k in standin.records["contacts"]}
    project.cli("run")
    assert len(standin.records["contacts"]) == 50


@_with("salesforce")
def test_api_unexpected_fields_are_ignored(project: Project, standin: Any) -> None:
    original = standin._upsert

    def noisy(*a: Any) -> Any:
        response = original(*a)
        for r in response.body:
            r["warnings"] = [{"message": "new API field"}]
        return response

    standin._upsert = noisy
    result = project.cli("run", expect=None)
    _record("api: unexpected fields in a response (Salesforce)", result, 0, "succeeded")
    assert len(standin.records["Account"]) == 50


@_with("hubspot")
def test_api_bad_credentials(project: Project, standin: Any) -> None:
    standin.token = "another-token"
    result = project.cli("run", expect=None)
    _record("api: credentials refused (HubSpot 401)", result, 6, "token")
    assert standin.records["contacts"] == {}
    assert _state_keys(project) == set()  # and the run closed the warehouse behind it


def test_guardrail_empty_model(project: Project) -> None:
    project.cli("run")
    project.set_model(people(0))
    project.write_config([project.sync_entry(on_remove="delete")])
    _record("data: model suddenly empty", project.cli("run", expect=None), 5, "guardrail")
