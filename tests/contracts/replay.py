"""A stand-in that checks every request body against the vendor's schema and answers with
whatever the test scripts: the documented response shapes, replayed one by one.

Unlike the stateful stand-ins in tests/standins/, it has no opinion of its own about what the
API would answer; the test decides (from responses.json, the vendor's documented shapes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.contracts.schemas import HERE, problems
from tests.standins.base import Request, Response, StandIn

Answer = Callable[[Request, Any], Response]


def documented(vendor: str, name: str) -> dict[str, Any]:
    """One entry of <vendor>/responses.json by name (status, body, headers, spec text)."""
    entries = json.loads((HERE / vendor / "responses.json").read_text())["responses"]
    for entry in entries:
        if entry["name"] == name:
            return entry
    raise KeyError(f"{vendor}/responses.json has no response named {name!r}")


def documented_names(vendor: str) -> list[str]:
    path = Path(HERE / vendor / "responses.json")
    return [e["name"] for e in json.loads(path.read_text())["responses"]]


def as_response(entry: dict[str, Any], body: Any = ...) -> Response:
    """A stand-in Response for a responses.json entry (optionally with a body of its shape)."""
    payload = entry.get("body") if body is ... else body
    headers = dict(entry.get("headers") or {})
    if isinstance(payload, str):
        headers.setdefault("Content-Type", "text/plain")
    return Response(entry["status"], payload, headers)


class ContractStandIn(StandIn):
    """Validates bodies sent to `routes` with the vendor schema; answers via `answer`.

    `routes` maps (method, path-prefix) to the contract whose request schema the body must
    meet: (vendor, file) for the file's top-level schema, or (vendor, file, definition) for
    one of its `$defs`; the first matching prefix wins. Requests to other paths (a token endpoint, a property listing) go to `answer`
    unvalidated. `violations` collects every schema problem, tagged with the path.
    """

    name = "contract-standin"

    def __init__(
        self,
        routes: dict[tuple[str, str], tuple[str, ...]],
        answer: Answer,
        **kw: Any,
    ) -> None:
        kw.setdefault("rate_limit", None)
        super().__init__(**kw)
        self.routes = routes
        self.answer = answer
        self.bodies: list[Any] = []
        self.violations: list[str] = []

    def handle(self, request: Request) -> Response:
        body: Any = None
        if request.body and request.headers.get("content-type", "").startswith("application/json"):
            body = request.json()
        for (method, prefix), contract in self.routes.items():
            if request.method == method and request.path.startswith(prefix):
                with self.lock:
                    self.bodies.append(body)
                    found = problems((contract[0], contract[1]), body, *contract[2:])
                    self.violations += [f"{request.method} {request.path}: {p}" for p in found]
                break
        return self.answer(request, body)
