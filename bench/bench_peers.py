"""Push benchmarks through the real `plg-sync run` path, next to peers on the same stand-ins.

Every tool talks only to stand-ins on 127.0.0.1 with the vendors' published limits enforced
(429 + Retry-After past the limit). Each stand-in counts, per record id, how many times a
2xx response accepted a write for it, so the report can state duplicates and records lost.

- plg-sync: a subprocess `plg-sync --config sync.yml run` (engine + DuckDB backend + the
  destination with its default pacing); only `base_url`/`login_url` point at the stand-in.
- naive: one `PUT /api/v1/customers/{id}` per record, sequential on one keep-alive
  connection, as the official `customerio` Python client's `identify` does. (That client
  builds `https://` URLs only, so it cannot reach a plain-HTTP stand-in; this is the same
  request sequence written with httpx, plus honouring 429 Retry-After, which the official
  client does not retry: it would lose those records instead.)
- drt (drt-core): `drt run` of a sync from the same DuckDB model to the HubSpot stand-in.
  drt's HubSpot destination hard-codes `https://api.hubapi.com`; the wrapper below rebinds
  that module constant to the stand-in before starting drt's own CLI, nothing else.

Used by bench/run_all.py; runnable alone:  .venv/bin/python bench/bench_peers.py --quick
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import duckdb
import httpx
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_diff import COLUMNS, build_model  # noqa: E402
from tests.standins.base import Request, Response  # noqa: E402
from tests.standins.customerio import CustomerIoStandIn  # noqa: E402
from tests.standins.hubspot import HubSpotStandIn  # noqa: E402
from tests.standins.salesforce import SalesforceStandIn  # noqa: E402

PYTHON = REPO / ".venv" / "bin" / "python"
SF_FIELDS = {"PLG_Score__c": "pql_score", "PLG_Plan__c": "plan", "PLG_Last_Seen_At__c": "seen"}


# -- stand-ins that count accepted writes per record id ---------------------------------


class _Counting:
    """Mixin: tally ids of records a 2xx answer accepted; keep no request log (1M runs)."""

    def _init_counts(self) -> None:
        self.writes: collections.Counter[str] = collections.Counter()
        self.request_log = collections.deque(maxlen=0)  # type: ignore[assignment]
        self.first_at: float | None = None
        self.last_at = 0.0

    def handle(self, request: Request) -> Response:
        now = time.monotonic()
        response = super().handle(request)  # type: ignore[misc]
        if response.status < 300:
            ids = self.accepted_ids(request, response)
            with self.lock:  # type: ignore[attr-defined]
                self.writes.update(ids)
                if ids:
                    self.first_at = self.first_at or now
                    self.last_at = time.monotonic()
        return response

    def accepted_ids(self, request: Request, response: Response) -> list[str]:
        raise NotImplementedError

    def tally(self, expected: int) -> dict[str, int]:
        dupes = sum(n - 1 for n in self.writes.values() if n > 1)
        return {
            "requests": self.requests,  # type: ignore[attr-defined]
            "throttled": self.throttled,  # type: ignore[attr-defined]
            "delivered": len(self.writes),
            "duplicates": dupes,
            "lost": expected - len(self.writes),
        }


class CioCounting(_Counting, CustomerIoStandIn):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._init_counts()
        self.error_index = True  # accepted_ids below counts refused operations by index
        self.op_bytes_total = self.ops_total = 0

    def tally(self, expected: int) -> dict[str, int]:
        size = self.op_bytes_total / self.ops_total if self.ops_total else 0
        return super().tally(expected) | {"op_bytes": size}

    def accepted_ids(self, request: Request, response: Response) -> list[str]:
        if request.method == "PUT":
            return [unquote(request.path.rsplit("/", 1)[1])]
        failed = {e["batch_index"] for e in (response.body or {}).get("errors", [])}
        batch = json.loads(request.body)["batch"]
        self.op_bytes_total += len(request.body)
        self.ops_total += len(batch)
        return [str(op["identifiers"]["id"]) for i, op in enumerate(batch) if i not in failed]


class HubSpotCounting(_Counting, HubSpotStandIn):
    """Batch upsert from the base stand-in, plus the single-object create (POST, 409 when the
    unique value exists) and update (PATCH by `idProperty`) that drt's destination uses."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._init_counts()
        # The peer is measured for throughput, not schema conformance: accept its bodies
        # whatever JSON types its property values have.
        self.strict_schema = False

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")  # crm v3 objects <type> [<id>]
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) in (4, 5) and parts[-1] != "upsert":
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return Response(401, {"status": "error", "category": "INVALID_AUTHENTICATION"})
            response = self._single(parts[3], parts[4] if len(parts) == 5 else None, request)
            if response.status < 300:
                props = request.json()["properties"]
                key = parts[4] if len(parts) == 5 else props.get("plg_account_id")
                with self.lock:
                    self.writes[str(key)] += 1
                    self.first_at = self.first_at or time.monotonic()
                    self.last_at = time.monotonic()
            return response
        return super().handle(request)

    def _single(self, object_type: str, key: str | None, request: Request) -> Response:
        body = request.json()
        props = dict(body.get("properties") or {})
        store = self.records.setdefault(object_type, {})
        with self.lock:
            if key is None:  # create
                value = str(props.get(body.get("idProperty") or "plg_account_id"))
                if value in store:
                    return Response(409, {"status": "error", "category": "CONFLICT"})
                store[value] = props
                return Response(201, {"id": str(next(self.ids)), "properties": props})
            if key not in store:
                return Response(404, {"status": "error", "category": "OBJECT_NOT_FOUND"})
            store[key].update(props)
            return Response(200, {"id": key, "properties": store[key]})

    def accepted_ids(self, request: Request, response: Response) -> list[str]:
        if not request.path.endswith("/batch/upsert"):
            return []
        failed = {
            i
            for e in (response.body or {}).get("errors", [])
            for i in e.get("context", {}).get("ids", [])
        }
        return [str(i["id"]) for i in request.json()["inputs"] if str(i["id"]) not in failed]


class SalesforceCounting(_Counting, SalesforceStandIn):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._init_counts()

    def accepted_ids(self, request: Request, response: Response) -> list[str]:
        if "/composite/sobjects/" not in request.path:
            return []
        records = request.json()["records"]
        return [
            str(r["PLG_Account_Id__c"])
            for r, result in zip(records, response.body or [], strict=False)
            if result.get("success")
        ]


# -- the shared model ----------------------------------------------------------------


def make_warehouse(root: Path, rows: int) -> Path:
    """A DuckDB file with the bench sync model (bench_diff's), a manifest and a profile."""
    db = root / "warehouse.duckdb"
    build_model(db, rows)
    con = duckdb.connect(str(db))
    # drt sends a row as HubSpot properties as is; epoch ms is HubSpot's datetime format.
    con.execute(
        "create or replace view drt_companies as select sync_key as plg_account_id, email, plan,"
        " pql_score, seats_used, epoch_ms(last_active_at) as last_active_at from sync_people"
    )
    con.close()
    write_bench_project(root, db, "sync_people", COLUMNS)
    return db


def write_bench_project(root: Path, db: Path, model: str, columns: dict[str, str]) -> None:
    """The smallest dbt project plg-sync can read: dbt_project.yml, a DuckDB profile and a
    manifest naming one contract-enforced sync model (column -> data type) in `db`, so the
    benchmarks run the real CLI without a dbt build."""
    (root / "dbt_project.yml").write_text("name: bench\nprofile: bench\n")
    profile = {"bench": {"target": "dev", "outputs": {"dev": {"type": "duckdb", "path": str(db)}}}}
    (root / "profiles.yml").write_text(yaml.safe_dump(profile))
    node = {
        "resource_type": "model",
        "name": model,
        "package_name": "bench",
        "database": db.stem,
        "schema": "main",
        "alias": model,
        "columns": {c: {"name": c, "data_type": t} for c, t in columns.items()},
        "config": {"contract": {"enforced": True}},
    }
    (root / "target").mkdir(exist_ok=True)
    manifest = {"nodes": {f"model.bench.{model}": node}}
    (root / "target" / "manifest.json").write_text(json.dumps(manifest))


def reset_state(db: Path) -> None:
    con = duckdb.connect(str(db))
    con.execute("drop schema if exists plg_sync cascade")
    con.close()


def _sync_entry(kind: str) -> dict[str, Any]:
    if kind == "customerio":
        return {"object": "person", "identifier": {"id": "sync_key"}, "batch_size": 100_000}
    if kind == "hubspot":
        return {"object": "companies", "identifier": {"plg_account_id": "sync_key"}}
    if kind == "salesforce":
        fields = {"PLG_Score__c": "pql_score", "PLG_Plan__c": "plan"}
        fields |= {"PLG_Last_Seen_At__c": "last_active_at", "Email__c": "email"}
        fields |= {"Seats__c": "seats_used"}
        return {
            "object": "Account",
            "identifier": {"PLG_Account_Id__c": "sync_key"},
            "fields": fields,
            "batch_size": 200,
        }
    return {"object": "person"}  # file


def _destination(kind: str, url: str, out: Path) -> dict[str, Any]:
    if kind == "customerio":
        return {"type": "customerio", "site_id": "site-1", "api_key": "key-1", "base_url": url}
    if kind == "hubspot":
        return {"type": "hubspot", "access_token": "pat-1", "base_url": url}
    if kind == "salesforce":
        return {"type": "salesforce", "login_url": url, "client_id": "cid"} | {
            "client_secret": "csecret",
            "auth_flow": "client_credentials",
        }
    return {"type": "file", "path": str(out)}


def run_plg_sync(root: Path, db: Path, kind: str, url: str, limit_rows: int | None) -> dict:
    """One `plg-sync run` from empty state; wall time, peak RSS of the process."""
    reset_state(db)
    model = "sync_people"
    if limit_rows is not None:  # a smaller model for the slow-ceiling destinations
        con = duckdb.connect(str(db))
        con.execute(
            f"create or replace table sync_small as select * from sync_people limit {limit_rows}"
        )
        con.close()
        manifest = json.loads((root / "target" / "manifest.json").read_text())
        node = dict(
            manifest["nodes"]["model.bench.sync_people"], name="sync_small", alias="sync_small"
        )
        manifest["nodes"]["model.bench.sync_small"] = node
        (root / "target" / "manifest.json").write_text(json.dumps(manifest))
        model = "sync_small"
    config = root / f"sync_{kind}.yml"
    sync = {"name": f"bench_{kind}", "model": model, "destination": kind, **_sync_entry(kind)}
    sync["checkpoint_every"] = 20_000
    doc = {
        "version": 1,
        "destinations": {kind: _destination(kind, url, root / "out")},
        "syncs": [sync],
    }
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    env = {**os.environ, "PYTHONPATH": str(REPO), "DBT_PROFILES_DIR": str(root)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "plg-sync"), "--config", str(config), "run"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = _watch_rss(proc)
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"plg-sync run ({kind}) exited {proc.returncode}: {err[-2000:]}")
    return {"wall_s": seconds, "peak_rss_mb": peak / 2**20}


def _watch_rss(proc: subprocess.Popen) -> int:
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, sum(p.memory_info().rss for p in [ps, *ps.children(recursive=True)]))
        time.sleep(0.05)
    proc.wait()
    return peak


def _hubspot_props(standin: HubSpotStandIn) -> None:
    standin.add_property("companies", "plg_account_id", hasUniqueValue=True)
    for name, kind in (
        ("email", "string"),
        ("plan", "string"),
        ("pql_score", "number"),
        ("seats_used", "number"),
        ("last_active_at", "datetime"),
    ):
        standin.add_property("companies", name, kind)


def _standin(kind: str):
    if kind == "customerio":
        return CioCounting(rate_limit=100, rate_window=1.0)
    if kind == "hubspot":
        s = HubSpotCounting(token="pat-1", rate_limit=190, rate_window=10.0)
        _hubspot_props(s)
        return s
    s = SalesforceCounting()
    account = s.schema["Account"]
    account["email__c"] = {"name": "Email__c", "type": "string", "length": 255}
    account["seats__c"] = {"name": "Seats__c", "type": "double"}
    return s


def push_plg(root: Path, db: Path, kind: str, records: int) -> dict:
    with _standin(kind) as standin:
        run = run_plg_sync(root, db, kind, standin.url, records)
        window = (standin.last_at - standin.first_at) if standin.first_at else 0.0
        return {**run, **standin.tally(records), "send_s": window, "records": records}


def push_naive(records: int) -> dict:
    """One PUT per record, sequential, keep-alive; waits out Retry-After on 429."""
    with CioCounting(rate_limit=100, rate_window=1.0) as standin:
        started = time.perf_counter()
        with httpx.Client(base_url=standin.url, auth=("site-1", "key-1"), timeout=10) as client:
            for i in range(records):
                body = {"email": f"user{i}@example.com", "plan": "team", "pql_score": i % 101}
                body |= {"seats_used": i % 50 + 1, "last_active_at": 1_704_067_200 + i}
                while True:
                    r = client.put(f"/api/v1/customers/acct_{i}", json=body)
                    if r.status_code != 429:
                        break
                    time.sleep(float(r.headers.get("Retry-After", "1")))
        seconds = time.perf_counter() - started
        return {"wall_s": seconds, **standin.tally(records), "records": records}


_DRT_WRAPPER = (
    "import sys\n"
    "import drt.destinations.hubspot as h\n"
    "h._HUBSPOT_API = sys.argv.pop(1) + '/crm/v3/objects'\n"
    "from drt.cli.main import app\n"
    "sys.argv[0] = 'drt'\n"
    "sys.exit(app())\n"
)


def push_drt(root: Path, db: Path, records: int) -> dict:
    """drt run: same rows (a view renaming the columns), HubSpot stand-in, its own batching
    (`sync.batch_size` 100) and rate limiter set to HubSpot's published 19 requests/s."""
    project = root / "drt"
    (project / "syncs").mkdir(parents=True, exist_ok=True)
    home = root / "drt_home"
    (home / ".drt").mkdir(parents=True, exist_ok=True)
    (home / ".drt" / "profiles.yml").write_text(
        yaml.safe_dump({"local": {"type": "duckdb", "database": str(db)}})
    )
    (project / "drt_project.yml").write_text("name: bench\nversion: '0.1'\nprofile: local\n")
    con = duckdb.connect(str(db))
    con.execute(f"create or replace table drt_small as select * from drt_companies limit {records}")
    con.close()
    sync = {
        "name": "hs_companies",
        "model": "select * from drt_small",
        "destination": {
            "type": "hubspot",
            "object_type": "companies",
            "id_property": "plg_account_id",
            "auth": {"type": "bearer", "token_env": "HUBSPOT_TOKEN"},
            "rate_limit": {"requests_per_second": 19, "burst": 5},
        },
        "sync": {"batch_size": 100, "mode": "full"},
    }
    (project / "syncs" / "hs_companies.yml").write_text(yaml.safe_dump(sync, sort_keys=False))
    wrapper = root / "drt_wrapper.py"
    wrapper.write_text(_DRT_WRAPPER)
    env = {**os.environ, "HOME": str(home), "HUBSPOT_TOKEN": "pat-1", "DRT_NO_TELEMETRY": "1"}
    env |= {"DO_NOT_TRACK": "1", "DRT_TELEMETRY": "false"}
    with HubSpotCounting(token="pat-1", rate_limit=190, rate_window=10.0) as standin:
        _hubspot_props(standin)
        started = time.perf_counter()
        proc = subprocess.run(
            [str(PYTHON), str(wrapper), standin.url, "run", "--select", "hs_companies"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"drt run failed: {proc.stdout[-1500:]} {proc.stderr[-1500:]}")
        window = (standin.last_at - standin.first_at) if standin.first_at else 0.0
        return {"wall_s": seconds, "send_s": window, **standin.tally(records), "records": records}


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def push_share(kind: str, records: int, repeat: int) -> None:
    """`plg-sync run` to one stand-in `repeat` times: records/s over the send window against
    the ceiling its published limit implies (as bench/run_all.py computes it)."""
    ceiling = {"hubspot": 190 / 10 * 100, "salesforce": 20 * 200}[kind]
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="plg-peers-") as tmp:
        root = Path(tmp)
        db = make_warehouse(root, records)
        runs = [push_plg(root, db, kind, records) for _ in range(repeat)]
    rates = []
    for r in runs:
        writes = max(2, r["requests"] - r["throttled"])
        rates.append(r["records"] * (writes - 1) / writes / r["send_s"])
    after = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{kind}: {records:,} records x {repeat}, load {load} -> {after}: records/s "
        f"{stats(rates)}, share of the {ceiling:,.0f}/s ceiling "
        f"{statistics.median(rates) / ceiling:.1%} (min {min(rates) / ceiling:.1%}); "
        f"429s {[r['throttled'] for r in runs]}, duplicates {max(r['duplicates'] for r in runs)}, "
        f"lost {max(r['lost'] for r in runs)}, peak RSS MB {[round(r['peak_rss_mb']) for r in runs]}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--push", choices=["hubspot", "salesforce"], help="share of ceiling only")
    ap.add_argument("--records", type=int, default=30_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.push:
        push_share(args.push, args.records, args.repeat)
        return
    with tempfile.TemporaryDirectory(prefix="plg-peers-") as tmp:
        root = Path(tmp)
        db = make_warehouse(root, 20_000 if args.quick else 100_000)
        print(push_plg(root, db, "hubspot", 2000))
        print(push_drt(root, db, 100))
        print(push_naive(300))


if __name__ == "__main__":
    main()
