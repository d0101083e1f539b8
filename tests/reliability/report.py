"""Write the figures of the last reliability run into docs/reliability.md.

`make reliability` runs the full suite (which saves target/reliability_figures.json) and then
this script, which replaces the text between the FIGURES markers of docs/reliability.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- FIGURES:BEGIN -->", "<!-- FIGURES:END -->"


def render(fig: dict) -> str:
    out = ["Fault matrix (one row per destination x fault x rate):", ""]
    out.append(
        "| destination | fault | rate | records | faults injected | requests at stand-in |"
        " retries | runs to converge | converged | duplicates delivered |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in fig["faults"]:
        injected = "per record" if r["faults_injected"] is None else r["faults_injected"]
        out.append(
            f"| {r['destination']} | {r['fault']} | {r['rate']:.0%} | {r['records']} | {injected}"
            f" | {r['stand_in_requests']} | {r['retries']} | {r['runs']} |"
            f" {r['converged_pct']}% | {r['duplicates']} |"
        )
    f = fig["faults"]
    out.append(
        f"| **all {len(f)} cells** | | | {sum(r['records'] for r in f)} |"
        f" {sum(r['faults_injected'] or 0 for r in f)} | {sum(r['stand_in_requests'] for r in f)} |"
        f" {sum(r['retries'] for r in f)} | max {max((r['runs'] for r in f), default=0)} |"
        f" {sum(r['converged_pct'] == 100 for r in f)}/{len(f)} at 100% |"
        f" {sum(r['duplicates'] for r in f)} |"
    )
    c = fig["crashes"]
    out += [
        "",
        f"Crash recovery: {len(c)} SIGKILL trials, "
        f"{sum(x['converged'] for x in c)} converged; acknowledged before the kill "
        f"{min((x['acked_before_kill'] for x in c), default=0)}-"
        f"{max((x['acked_before_kill'] for x in c), default=0)} of 3000 records; records "
        f"re-sent after a kill (duplicates) "
        f"{min((x['resent_duplicates'] for x in c), default=0)}-"
        f"{max((x['resent_duplicates'] for x in c), default=0)}.",
        "",
    ]
    out += [
        "Bad input catalogue (what the user sees):",
        "",
        "| case | exit | message |",
        "|---|---|---|",
    ]
    for b in fig["bad_input"]:
        msg = b["message"].replace("|", "\\|")
        out.append(f"| {b['case']} | {b['exit_code']} | {msg} |")
    if fig.get("breaker"):
        out += ["", "Dead destination to exit 6 (circuit breaker):", ""]
        out += [f"- {b['case']}: {b['seconds_to_exit_6']} s" for b in fig["breaker"]]
    if fig.get("signals"):
        out += ["", "SIGTERM/SIGINT to a released lease (exit 8):", ""]
        for s in fig["signals"]:
            seconds = s.get("seconds_to_release", s.get("seconds_to_exit"))
            what = "lease row gone" if "seconds_to_release" in s else "process exited"
            out.append(f"- {s['signal']}: {seconds} s ({what})")
    return "\n".join(out)


def main() -> int:
    src = REPO / "target" / (sys.argv[1] if len(sys.argv) > 1 else "reliability_figures.json")
    doc = REPO / "docs" / "reliability.md"
    text = doc.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(head + BEGIN + "\n" + render(json.loads(src.read_text())) + "\n" + END + tail)
    print(f"wrote figures from {src} into {doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
