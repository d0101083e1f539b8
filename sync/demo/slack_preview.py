"""Render a handoff alert's Block Kit message as a page, for docs/plays.md's screenshot.

Slack draws Block Kit itself; there is no offline renderer to call. This page draws the
block types `slack_handoff.build_handoff_message` emits (header, mrkdwn sections, fields,
a code block, a context link) with Slack's layout rules (bold `*x*`, fields in two
columns, monospace code blocks), from the very JSON the sync would post, so the picture
shows our message and not a mock-up. Usage, after `make demo`:

    .venv/bin/python -m sync.demo.slack_preview data/sync_output/slack_handoff_alerts.jsonl \
        --kind pql --html /tmp/slack.html
    chromium --headless --no-sandbox --disable-gpu --screenshot=docs/img/slack-handoff.png \
        --window-size=760,620 file:///tmp/slack.html
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import click

from sync.destinations.slack_handoff import build_handoff_message

_BOLD = re.compile(r"\*([^*\n]+)\*")
_LINK = re.compile(r"&lt;(https://[^|]+)\|([^&]+)&gt;")
_STYLE = """
body { font-family: Lato, 'Helvetica Neue', Arial, sans-serif; background: #fff; margin: 0; }
.msg { display: flex; gap: 10px; padding: 14px 18px; width: 700px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #4a154b; color: #fff;
  font-weight: 700; display: flex; align-items: center; justify-content: center; }
.who { font-weight: 900; font-size: 15px; } .app { font-size: 10px; background: #ddd;
  padding: 1px 3px; border-radius: 2px; margin-left: 4px; color: #555; }
.time { color: #616061; font-size: 12px; margin-left: 6px; }
.header { font-size: 18px; font-weight: 900; margin: 6px 0 4px; }
.section { font-size: 15px; line-height: 1.45; margin: 6px 0; white-space: pre-wrap; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 24px; margin: 8px 0;
  font-size: 15px; white-space: pre-wrap; }
pre { background: #f8f8f8; border: 1px solid #ddd; border-radius: 4px; padding: 8px;
  font-family: Monaco, Menlo, 'DejaVu Sans Mono', monospace; font-size: 12px; margin: 4px 0; }
.context { color: #616061; font-size: 12px; margin-top: 6px; } a { color: #1264a3; }
"""


def _mrkdwn(text: str) -> str:
    """Slack mrkdwn (already &-escaped by the builder) as HTML: code, bold, links."""
    parts = text.split("```")
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<pre>{part.strip()}</pre>")
        else:
            part = _LINK.sub(r'<a href="\1">\2</a>', html.escape(html.unescape(part)))
            out.append(_BOLD.sub(r"<b>\1</b>", part))
    return "".join(out)


def render(message: dict[str, Any], app: str = "plg_signals") -> str:
    """An HTML page drawing one Block Kit message."""
    body = []
    for block in message["blocks"]:
        kind = block["type"]
        if kind == "header":
            body.append(f'<div class="header">{html.escape(block["text"]["text"])}</div>')
        elif kind == "section" and "fields" in block:
            cells = "".join(f"<div>{_mrkdwn(f['text'])}</div>" for f in block["fields"])
            body.append(f'<div class="fields">{cells}</div>')
        elif kind == "section":
            body.append(f'<div class="section">{_mrkdwn(block["text"]["text"])}</div>')
        elif kind == "context":
            texts = " ".join(_mrkdwn(e["text"]) for e in block["elements"])
            body.append(f'<div class="context">{texts}</div>')
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{_STYLE}</style></head>"
        f"<body><div class='msg'><div class='avatar'>P</div><div><span class='who'>{app}"
        f"</span><span class='app'>APP</span><span class='time'>12:16</span>"
        f"{''.join(body)}</div></div></body></html>"
    )


@click.command()
@click.argument("jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", default="pql", show_default=True, help="alert_kind to show")
@click.option("--html", "html_path", required=True, type=click.Path(path_type=Path))
@click.option(
    "--crm-url-template",
    default="https://app.hubspot.com/contacts/1234567/company/{crm_company_id}",
    show_default=True,
)
def main(jsonl: Path, kind: str, html_path: Path, crm_url_template: str) -> None:
    """Write the page for one alert of KIND in a file-destination JSONL output: the one
    whose usage chart varies most (a flat chart shows the layout but not the chart)."""
    alerts = [
        fields
        for line in jsonl.read_text(encoding="utf-8").splitlines()
        if (fields := json.loads(line).get("fields") or {}).get("alert_kind") == kind
    ]
    if not alerts:
        raise click.ClickException(f"no alert of kind {kind!r} in {jsonl}")
    fields = max(alerts, key=lambda f: (len(set(f.get("usage_chart") or "")), f.get("id") or ""))
    message = build_handoff_message(fields, float(fields.get("mrr") or 0), crm_url_template)
    html_path.write_text(render(message), encoding="utf-8")
    click.echo(f"wrote {html_path} ({fields.get('account_name')})")


if __name__ == "__main__":
    main()
