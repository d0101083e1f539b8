"""The committed exposures YAML is exactly what `plg-sync exposures` generates from
sync.example.yml, and dbt accepts it: one exposure per sync, depending on the sync model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sync.cli import cli
from sync.exposures import DEFAULT_OUTPUT, render_exposures
from tests.demo.conftest import run_dbt

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / DEFAULT_OUTPUT


def test_committed_exposures_match_what_the_command_generates(monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["--config", "sync.example.yml", "exposures", "--check"])
    assert result.exit_code == 0, result.output
    assert COMMITTED.read_text() == render_exposures("sync.example.yml")


def test_one_application_exposure_per_sync_depending_on_its_model():
    syncs = yaml.safe_load((REPO / "sync.example.yml").read_text())["syncs"]
    exposures = yaml.safe_load(COMMITTED.read_text())["exposures"]
    assert [e["name"] for e in exposures] == [f"plg_sync__{s['name']}" for s in syncs]
    for sync, exposure in zip(syncs, exposures, strict=True):
        assert exposure["type"] == "application"
        assert exposure["owner"]["name"]
        assert exposure["depends_on"] == [f"ref('{sync['model']}')"]
        assert sync["object"] in exposure["description"]


def test_check_fails_with_exit_2_when_the_file_is_stale(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    stale = tmp_path / "exposures.yml"
    stale.write_text("version: 2\nexposures: []\n")
    args = ["--config", "sync.example.yml", "exposures", "--output", str(stale), "--check"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "out of date" in result.output


def test_needs_no_secrets_and_writes_to_the_given_path(tmp_path, monkeypatch):
    for var in ("CUSTOMERIO_SITE_ID", "HUBSPOT_PRIVATE_APP_TOKEN", "SLACK_SIGNALS_WEBHOOK_URL"):
        monkeypatch.delenv(var, raising=False)
    out = tmp_path / "x" / "exp.yml"
    result = CliRunner().invoke(
        cli, ["--config", str(REPO / "sync.demo.yml"), "exposures", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    names = [e["name"] for e in yaml.safe_load(out.read_text())["exposures"]]
    assert "plg_sync__cio_people" in names


@pytest.mark.slow
def test_dbt_parse_accepts_the_exposures(tmp_path):
    target = tmp_path / "target"
    completed = run_dbt(tmp_path, tmp_path / "parse.duckdb", "parse", timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    manifest = json.loads((target / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    people = exposures["plg_sync__cio_people"]
    assert people["depends_on"]["nodes"] == ["model.plg_signals.sync_customerio_people"]
    assert people["type"] == "application"
    assert len(exposures) == len(yaml.safe_load(COMMITTED.read_text())["exposures"])
