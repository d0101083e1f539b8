"""`dbt docs generate` works on the demo warehouse, and the docs site it writes renders in a
real browser: target/ is served on 127.0.0.1 and opened in headless Chromium, and the DOM
after the JS app has loaded shows the marts (with catalog columns) and the sync exposures."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo.conftest import DemoWarehouse, run_dbt

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def docs_target(demo_warehouse: DemoWarehouse, tmp_path_factory) -> Path:
    if not CHROMIUM.exists():
        message = "chromium is not installed: run `make test` (it installs it with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("docs_site")
    target = root / "target"
    completed = run_dbt(
        root,
        demo_warehouse.path,
        "docs",
        "generate",
        "--vars",
        '{plg_as_of: "2026-11-01"}',
        target_path=target,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    for name in ("index.html", "manifest.json", "catalog.json"):
        assert (target / name).is_file(), f"dbt docs generate wrote no {name}"
    return target


@pytest.fixture(scope="module")
def site_url(docs_target: Path) -> Iterator[str]:
    class _Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(_Quiet, directory=str(docs_target))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


def _rendered_dom(url: str, tmp_path: Path) -> str:
    """The DOM after the docs app loaded manifest.json and catalog.json (scripts removed,
    so only what the app rendered can match)."""
    completed = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)
    return re.sub(r"<script\b.*?</script>", "", completed.stdout, flags=re.S)


def _title(dom: str) -> str:
    match = re.search(r'<h1>\s*<span class="break[^"]*">([^<]+)</span>', dom)
    return match.group(1).strip() if match else ""


def test_index_html_is_the_app_not_the_data(docs_target: Path):
    # the names below can only reach the DOM by the app fetching and rendering the JSON
    assert "plg_sync__cio_people" not in (docs_target / "index.html").read_text()


@pytest.mark.slow
def test_a_mart_page_renders_with_catalog_columns(site_url: str, tmp_path: Path):
    dom = _rendered_dom(f"{site_url}#!/model/model.plg_signals.account_signals", tmp_path)
    assert _title(dom) == "account_signals"
    assert "primary_signal" in dom  # a column, from the catalog of the built table
    for model in ("account_pql_scores", "account_churn_risk", "sync_customerio_people"):
        assert f"model.plg_signals.{model}" in dom, f"{model} missing from the sidebar"


@pytest.mark.slow
def test_a_sync_exposure_page_renders(site_url: str, tmp_path: Path):
    dom = _rendered_dom(
        f"{site_url}#!/exposure/exposure.plg_signals.plg_sync__cio_people", tmp_path
    )
    assert _title(dom) == "Customer.io person (cio_people)"
    assert ">plg_sync__cio_people</dd>" in dom
    assert "exposure.plg_signals.plg_sync__hubspot_companies" in dom  # sidebar lists them all
