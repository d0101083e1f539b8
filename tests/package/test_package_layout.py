"""The dbt package's shape, as dbt-utils and Fivetran's packages have it (issue 13.6):
staging models in one folder per source with that source's own sources and models YAML;
macros in folders by kind; every macro that a model may call dispatched under
`plg_signals`, so a consumer overrides it with a `dispatch:` entry instead of a fork."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STAGING = REPO / "models" / "staging"
MACROS = REPO / "macros"

MACRO_DEF = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(")


def _macro_bodies(path: Path) -> dict[str, str]:
    """name -> body text of each macro defined in a file."""
    text = path.read_text()
    bodies: dict[str, str] = {}
    for match in MACRO_DEF.finditer(text):
        end = text.find("endmacro", match.end())
        bodies[match.group(1)] = text[match.end() : end]
    return bodies


def test_staging_has_one_folder_per_source_with_its_own_yaml():
    folders = sorted(p for p in STAGING.iterdir() if p.is_dir())
    assert folders, "models/staging has no source folders"
    assert not list(STAGING.glob("*.sql")), "staging models belong in their source's folder"
    assert not list(STAGING.glob("*.yml")), "staging YAML belongs in its source's folder"
    for folder in folders:
        source = folder.name
        assert (folder / f"_{source}__sources.yml").exists(), folder
        assert (folder / f"_{source}__models.yml").exists(), folder
        for model in folder.glob("*.sql"):
            assert model.stem.startswith(f"stg_{source}__"), (
                f"{model.relative_to(REPO)}: a staging model is named stg_<source>__<entity> "
                f"after its folder"
            )


def test_macros_live_in_folders_by_kind():
    assert not list(MACROS.glob("*.sql")), "macros belong in a folder by kind (cross_db/, ...)"
    kinds = {p.name for p in MACROS.iterdir() if p.is_dir()}
    assert {"cross_db", "time", "incremental", "sync", "sources"} <= kinds


def test_every_public_macro_is_dispatched_under_the_package_namespace():
    undispatched = []
    for path in sorted(MACROS.rglob("*.sql")):
        bodies = _macro_bodies(path)
        for name, body in bodies.items():
            if "__" in name:  # an adapter implementation (default__x, snowflake__x, ...)
                continue
            call = f"adapter.dispatch('{name}', 'plg_signals')"
            if call not in body:
                undispatched.append(f"{path.relative_to(REPO)}: {name}")
            elif f"default__{name}" not in bodies:
                undispatched.append(f"{path.relative_to(REPO)}: {name} has no default__{name}")
    assert not undispatched, "macros without dispatch:\n" + "\n".join(undispatched)
