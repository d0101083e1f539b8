"""A corrupt `target/manifest.json` is a configuration error (exit 2), never a traceback.

Issue 15, item 4: an independent tester fed plg-sync manifests with non-UTF-8 bytes, a model
node without `schema`, `nodes` as a list and truncated JSON; each crashed with exit 1 and a
Python traceback. Whatever is wrong with the file, the user must learn which file it is and
that `dbt build` / `dbt parse` regenerates it, and nothing may be sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sync.conftest import Project


def _manifest(project: Project) -> Path:
    return project.root / "target" / "manifest.json"


def _edit(project: Project, change: Callable[[dict[str, Any]], Any]) -> None:
    path = _manifest(project)
    data = json.loads(path.read_text())
    path.write_text(json.dumps(change(data)))


def _non_utf8(project: Project) -> None:
    path = _manifest(project)
    path.write_bytes(path.read_bytes().replace(b'"main"', b'"m\xe9\xff"', 1))


def _truncated(project: Project) -> None:
    path = _manifest(project)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _without_schema(project: Project) -> None:
    def drop(data: dict[str, Any]) -> dict[str, Any]:
        for node in data["nodes"].values():
            del node["schema"]
        return data

    _edit(project, drop)


def _nodes_as_list(project: Project) -> None:
    _edit(project, lambda d: {**d, "nodes": list(d["nodes"].values())})


def _top_level_array(project: Project) -> None:
    _edit(project, lambda d: [d])


def _node_not_an_object(project: Project) -> None:
    _edit(project, lambda d: {**d, "nodes": {k: "model" for k in d["nodes"]}})


def _columns_as_list(project: Project) -> None:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        for node in data["nodes"].values():
            node["columns"] = list(node["columns"].values())
        return data

    _edit(project, change)


def _a_directory(project: Project) -> None:
    path = _manifest(project)
    path.unlink()
    path.mkdir()


CORRUPTIONS = {
    "non-UTF-8 bytes": (_non_utf8, "not UTF-8"),
    "truncated JSON": (_truncated, "not valid JSON"),
    "model node without schema": (_without_schema, "has no `schema`"),
    "nodes as a list": (_nodes_as_list, "`nodes` is a JSON array"),
    "top level is an array": (_top_level_array, "top level is a JSON array"),
    "node is a string": (_node_not_an_object, "is a JSON string"),
    "columns as a list": (_columns_as_list, "`columns` is not an object"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
@pytest.mark.parametrize("command", ["run", "plan", "validate"])
def test_a_corrupt_manifest_exits_2_naming_the_file_and_the_fix(
    project: Project, case: str, command: str
) -> None:
    corrupt, detail = CORRUPTIONS[case]
    corrupt(project)
    result = project.cli(command, expect=None)
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert str(_manifest(project)) in result.output
    assert detail in result.output
    assert "dbt build" in result.output and "dbt parse" in result.output
    assert project.sent_lines() == []


def test_an_unreadable_manifest_path_exits_2(project: Project) -> None:
    _a_directory(project)
    result = project.cli("run", expect=None)
    assert result.exit_code == 2, result.output
    assert "dbt parse" in result.output


def test_a_sound_manifest_still_runs(project: Project) -> None:
    project.cli("run")
    assert len(project.sent_lines()) == 50
