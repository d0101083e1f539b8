"""Enumerations have one source of truth: the `accepted_values` tests of the sync models.

`dbt build` fails when a model emits a value outside them, `plg-sync setup` declares exactly
them as HubSpot property options and Salesforce picklist values (read from the manifest),
and `validate` flags a sync's `enum_options` that lacks one. These checks fail when a model
can emit a value the destination setup would not declare (issue 14: `plg_risk_band` without
`churned` refused 24 of 1,000 demo companies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from sync.dbt_project import Manifest

REPO = Path(__file__).resolve().parents[2]

# sync column <- the upstream column it is cast from (models/sync/*.sql): the sync model can
# emit whatever the upstream model may hold, so its accepted values must cover them.
FLOWS = {
    ("sync_crm_companies", "plg_risk_band"): ("account_signals", "risk_band"),
    ("sync_crm_companies", "plg_limit_status"): ("account_signals", "limit_status"),
    ("sync_customerio_accounts", "risk_band"): ("account_signals", "risk_band"),
    ("sync_customerio_accounts", "mrr_band"): ("account_signals", "mrr_band"),
    ("sync_customerio_accounts", "limit_status"): ("account_signals", "limit_status"),
    ("sync_customerio_people", "account_risk_band"): ("account_signals", "risk_band"),
    ("sync_customerio_people", "account_mrr_band"): ("account_signals", "mrr_band"),
    ("sync_customerio_people", "account_limit_status"): ("account_signals", "limit_status"),
    ("sync_customerio_people", "activation_status"): ("user_activation", "activation_status"),
    ("sync_crm_contacts", "plg_activation_status"): ("user_activation", "activation_status"),
}


def accepted_values() -> dict[tuple[str, str], list[str]]:
    """(model, column) -> values of its accepted_values test, from every models/ YAML."""
    found = {}
    for path in (REPO / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text()) or {}
        for model in doc.get("models") or []:
            for column in model.get("columns") or []:
                for test in column.get("data_tests") or []:
                    if isinstance(test, dict) and "accepted_values" in test:
                        spec = test["accepted_values"]
                        values = (spec.get("arguments") or spec)["values"]
                        found[(model["name"], column["name"])] = [str(v) for v in values]
    return found


def test_every_enumerated_sync_column_declares_everything_its_source_can_hold():
    declared = accepted_values()
    for (model, column), upstream in FLOWS.items():
        assert (model, column) in declared, f"{model}.{column} has no accepted_values test"
        assert upstream in declared, f"{upstream} has no accepted_values test"
        missing = set(declared[upstream]) - set(declared[(model, column)])
        assert not missing, f"{model}.{column} can emit {sorted(missing)} but does not declare it"


def test_the_risk_band_the_issue_named_includes_churned():
    assert "churned" in accepted_values()[("sync_crm_companies", "plg_risk_band")]


def test_example_configs_never_list_fewer_options_than_the_model_emits():
    declared = accepted_values()
    for name in ("sync.example.yml", "sync.demo.yml"):
        doc = yaml.safe_load((REPO / name).read_text())
        for sync in doc.get("syncs") or []:
            listed = (sync.get("options") or {}).get("enum_options") or {}
            for column, values in listed.items():
                model_values = declared.get((sync["model"], column), [])
                missing = set(model_values) - set(values)
                assert not missing, f"{name}: {sync['name']} enum_options.{column} lacks {missing}"


def _manifest(tmp_path: Path, tests: list[dict[str, Any]]) -> Manifest:
    model = {
        "resource_type": "model",
        "name": "sync_crm_companies",
        "unique_id": "model.p.sync_crm_companies",
        "package_name": "p",
        "schema": "main",
        "alias": "sync_crm_companies",
        "columns": {"plg_risk_band": {"name": "plg_risk_band", "data_type": "string"}},
        "config": {"contract": {"enforced": True}},
    }
    nodes = {"model.p.sync_crm_companies": model}
    for i, test in enumerate(tests):
        nodes[f"test.p.t{i}"] = {
            "resource_type": "test",
            "attached_node": "model.p.sync_crm_companies",
            "column_name": test["column"],
            "test_metadata": {
                "name": test.get("name", "accepted_values"),
                "kwargs": {"column_name": test["column"], "values": test["values"]},
            },
        }
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    (tmp_path / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    return Manifest(tmp_path)


def test_manifest_reads_the_accepted_values_of_a_models_columns(tmp_path: Path):
    manifest = _manifest(
        tmp_path,
        [
            {"column": "plg_risk_band", "values": ["low", "high", "churned"]},
            {"column": "plg_risk_band", "name": "not_null", "values": None},
        ],
    )
    relation = manifest.relation("sync_crm_companies")
    assert relation.enumerations == {"plg_risk_band": ["low", "high", "churned"]}


def test_two_accepted_values_tests_on_one_column_allow_only_what_both_allow(tmp_path: Path):
    manifest = _manifest(
        tmp_path,
        [
            {"column": "plg_risk_band", "values": ["low", "high", "churned"]},
            {"column": "plg_risk_band", "values": ["high", "low"]},
        ],
    )
    assert manifest.relation("sync_crm_companies").enumerations == {
        "plg_risk_band": ["low", "high"]
    }
