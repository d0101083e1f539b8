"""sync.example.yml validates against the real sync models, and the CLI can reach every
destination type and the manifest dbt actually wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sync.cli import cli
from sync.destinations import destination_types
from tests.demo.conftest import REPO, DemoWarehouse

pytestmark = pytest.mark.slow

EXAMPLE_ENV = {
    "CUSTOMERIO_SITE_ID": "dummy-site",
    "CUSTOMERIO_TRACK_API_KEY": "dummy-track-key",
    "HUBSPOT_PRIVATE_APP_TOKEN": "pat-dummy-token",
    "SALESFORCE_CLIENT_ID": "3MVGdummy",
    "SALESFORCE_CLIENT_SECRET": "dummy-client-secret",
    "SLACK_SIGNALS_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/dummy",
    "SLACK_HANDOFF_DEFAULT_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B001/dummy",
    "SLACK_HANDOFF_SMB_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B002/dummy",
    "SLACK_HANDOFF_MID_MARKET_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B003/dummy",
    "SLACK_HANDOFF_ENTERPRISE_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B004/dummy",
}


@pytest.fixture
def example_dir(demo_warehouse: DemoWarehouse, tmp_path: Path) -> Path:
    """sync.example.yml beside a dbt project whose manifest is the demo build's."""
    shutil.copy(REPO / "sync.example.yml", tmp_path / "sync.yml")
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    (tmp_path / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": project["name"],
                "profile": project["profile"],
                "target-path": str(demo_warehouse.target_path),
            }
        )
    )
    return tmp_path


def validate(config: Path, demo: DemoWarehouse, env: dict[str, str | None]) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "validate"],
        env={
            "DBT_PROFILES_DIR": str(demo.path.parent / "profiles"),
            "PLG_DUCKDB_PATH": str(demo.path),
            **env,
        },
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def test_every_built_in_destination_type_is_available_to_sync_yml():
    assert {"customerio", "hubspot", "salesforce", "slack", "file"} <= set(destination_types())


def test_example_config_validates_with_env_vars_set(example_dir, demo_warehouse):
    code, output = validate(example_dir / "sync.yml", demo_warehouse, EXAMPLE_ENV)
    assert code == 0, output
    config = yaml.safe_load((REPO / "sync.example.yml").read_text())
    for sync in config["syncs"]:
        assert f"{sync['name']}: ok" in output
    assert "valid" in output.splitlines()[-1]


def test_example_config_has_one_sync_per_sync_model_and_only_env_secrets():
    config = yaml.safe_load((REPO / "sync.example.yml").read_text())
    models = {p.stem for p in (REPO / "models" / "sync").glob("sync_*.sql")}
    assert models <= {s["model"] for s in config["syncs"]}
    assert {d["type"] for d in config["destinations"].values()} == {
        "customerio",
        "hubspot",
        "salesforce",
        "slack",
    }
    secrets = {"api_key", "access_token", "client_secret", "private_key", "webhook_url"}
    for name, dest in config["destinations"].items():
        for key in secrets & set(dest):
            assert set(dest[key]) == {"env"}, f"destination {name!r} {key} must be {{env: VAR}}"


@pytest.mark.parametrize("missing", sorted(EXAMPLE_ENV))
def test_example_config_names_the_unset_variable_with_exit_code_2(
    example_dir, demo_warehouse, missing
):
    env: dict[str, str | None] = {**EXAMPLE_ENV, missing: None}  # None unsets it
    code, output = validate(example_dir / "sync.yml", demo_warehouse, env)
    assert code == 2, output
    assert f"needs environment variable {missing}, which is not set" in output
    for value in EXAMPLE_ENV.values():
        assert value not in output


def test_manifest_is_read_from_dbt_target_path(demo_warehouse, tmp_path):
    """dbt writes the manifest under $DBT_TARGET_PATH (or --target-path) when set; sync must
    read it from there too, or it silently uses a stale target/manifest.json."""
    config = tmp_path / "sync.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "dbt": {"project_dir": str(REPO)},
                "destinations": {"files": {"type": "file", "path": str(tmp_path / "out")}},
                "syncs": [
                    {
                        "name": "people",
                        "model": "sync_customerio_people",
                        "destination": "files",
                        "object": "person",
                    }
                ],
            }
        )
    )
    empty_target = tmp_path / "empty_target"
    empty_target.mkdir()
    code, output = validate(config, demo_warehouse, {"DBT_TARGET_PATH": str(empty_target)})
    assert code == 2, output
    assert str(empty_target / "manifest.json") in output
