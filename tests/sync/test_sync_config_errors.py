"""Config mistakes are explained: the file, the sync by name, the field, what is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sync.config import load_config
from sync.dbt_project import load_profile
from sync.errors import ConfigError
from sync.secrets import Secret, resolve_env
from tests.sync.conftest import CANARY, Project


def config_error(project: Project) -> str:
    with pytest.raises(ConfigError) as e:
        load_config(project.config)
    return str(e.value)


def test_unknown_key_names_file_sync_and_suggests_the_close_one(project: Project) -> None:
    entry = project.sync_entry()
    entry["batchsize"] = entry.pop("batch_size")
    project.write_config([entry])
    msg = config_error(project)
    assert str(project.config) in msg
    assert "sync 'people'" in msg
    assert "'batchsize'" in msg and "did you mean 'batch_size'" in msg


def test_invalid_mode_names_the_field_and_the_valid_values(project: Project) -> None:
    project.write_config([project.sync_entry(mode="upsertt")])
    msg = config_error(project)
    assert "sync 'people' field 'mode'" in msg
    assert "'upsert'" in msg and "'event'" in msg and "upsertt" in msg


def test_unknown_top_level_key_is_an_error(project: Project) -> None:
    project.write_config(state_shema="x")
    assert "did you mean 'state_schema'" in config_error(project)


def test_guardrail_out_of_range(project: Project) -> None:
    project.write_config([project.sync_entry(guardrails={"max_removed_share": 2})])
    msg = config_error(project)
    assert "sync 'people' field 'guardrails.max_removed_share'" in msg


def test_missing_env_var_names_the_variable_destination_and_file(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("T_API_KEY")
    msg = config_error(project)
    assert "T_API_KEY" in msg and "destination 'rec'" in msg and str(project.config) in msg


def test_missing_env_var_in_a_sync_option_names_the_sync(project: Project) -> None:
    project.write_config([project.sync_entry(options={"token": "${T_NOPE}"})])
    msg = config_error(project)
    assert "T_NOPE" in msg and "sync 'people' field 'options.token'" in msg


def test_undefined_destination_lists_the_defined_ones(project: Project) -> None:
    project.write_config([project.sync_entry(destination="fils")])
    msg = config_error(project)
    assert "did you mean 'files'" in msg and "['files', 'rec']" in msg


def test_unknown_destination_type(project: Project) -> None:
    project.write_config(destinations={"x": {"type": "hubspott"}}, syncs=[])
    msg = config_error(project)
    assert "destination 'x' field 'type'" in msg and "file" in msg


def test_destination_options_are_validated_by_the_destination(project: Project) -> None:
    project.write_config(destinations={"files": {"type": "file", "paht": "x"}}, syncs=[])
    msg = config_error(project)
    assert "destination 'files'" in msg and "did you mean 'path'" in msg


def test_sync_names_must_be_identifiers_and_unique(project: Project) -> None:
    project.write_config([project.sync_entry(name="People; drop table x")])
    assert "is not a valid name" in config_error(project)
    project.write_config([project.sync_entry(), project.sync_entry()])
    assert "used twice" in config_error(project)


def test_identifier_columns_cannot_smuggle_sql(project: Project) -> None:
    project.write_config([project.sync_entry(fields={"x": "email; drop table t"})])
    assert "not a model column name" in config_error(project)


def test_on_remove_delete_needs_an_identifier_from_sync_key(project: Project) -> None:
    project.write_config([project.sync_entry(on_remove="delete", identifier={"email": "email"})])
    msg = config_error(project)
    assert "on_remove" in msg and "sync_key" in msg


def test_secrets_resolve_from_env_and_print_masked(project: Project) -> None:
    cfg = load_config(project.config)
    key = cfg.resolved_destinations["rec"].options.api_key  # type: ignore[attr-defined]
    assert isinstance(key, Secret) and key.reveal() == CANARY
    for text in (repr(key), str(key), repr(cfg), str(cfg.model_dump())):
        assert CANARY not in text
    assert repr(key) == "Secret('***')"


def test_dollar_brace_strings_are_secrets() -> None:
    out = resolve_env({"a": "Bearer ${TOK}"}, env={"TOK": "abcdef"})
    assert isinstance(out["a"], Secret) and out["a"].reveal() == "Bearer abcdef"


def test_config_path_from_env(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLG_SYNC_CONFIG", str(project.config))
    assert load_config(None).path == project.config


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yml")


def test_profile_renders_env_var_with_defaults(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    prof = load_profile(project.root)
    assert prof.type == "duckdb" and prof.settings["path"] == "warehouse.duckdb"
    monkeypatch.setenv("T_DUCKDB_PATH", "/tmp/other.duckdb")
    assert load_profile(project.root).settings["path"] == "/tmp/other.duckdb"


def test_profile_missing_env_var_names_it(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles = yaml.safe_load((project.root / "profiles.yml").read_text())
    profiles["t"]["outputs"]["dev"]["password"] = "{{ env_var('T_PW') }}"
    (project.root / "profiles.yml").write_text(yaml.safe_dump(profiles))
    with pytest.raises(ConfigError, match="T_PW"):
        load_profile(project.root)
    monkeypatch.setenv("T_PW", CANARY)
    pw = load_profile(project.root).settings["password"]
    assert isinstance(pw, Secret) and CANARY not in repr(load_profile(project.root))


def test_unknown_target_lists_targets(project: Project) -> None:
    with pytest.raises(ConfigError, match=r"no target 'prod'.*\['dev'\]"):
        load_profile(project.root, target="prod")


def test_cli_reports_config_errors_with_exit_code_2(project: Project) -> None:
    project.write_config([project.sync_entry(mode="nope")])
    result = project.cli("validate", expect=2)
    assert "sync 'people' field 'mode'" in result.output


def test_sync_options_are_checked_against_the_destination_when_the_file_loads(
    project: Project,
) -> None:
    """A typo in a sync's `options:` fails at load (validate), not mid-run at send time."""
    project.write_config(
        [
            project.sync_entry(
                name="accounts",
                destination="cio",
                object="object",
                identifier={"object_id": "sync_key"},
                options={"object_type": "1", "event_name_column": 3},
            ),
            project.sync_entry(name="files_sync", options={"path": "x"}),
        ],
        destinations={
            "cio": {"type": "customerio", "site_id": "s1", "api_key": {"env": "T_API_KEY"}},
            "files": {"type": "file", "path": str(project.out)},
        },
    )
    msg = config_error(project)
    assert str(project.config) in msg
    assert (
        "sync 'accounts' field 'options.object_type': unknown key "
        "(did you mean 'object_type_id'?); valid keys: "
        "['event_name_column', 'object_type_id', 'timestamp_column']"
    ) in msg
    assert (
        "sync 'accounts' field 'options.event_name_column': Input should be a valid string" in msg
    )
    assert "sync 'files_sync' field 'options.path': unknown key; no keys are accepted here" in msg


def test_loaded_syncs_carry_their_validated_options(project: Project) -> None:
    project.write_config(
        [project.sync_entry(destination="cio", object="object", identifier={"object_id": "sync_key"},
                            options={"object_type_id": "7"})],
        destinations={"cio": {"type": "customerio", "site_id": "s1", "api_key": {"env": "T_API_KEY"}}},
    )  # fmt: skip
    [sync] = load_config(project.config).syncs
    assert sync.parsed_options is not None and sync.parsed_options.object_type_id == "7"
