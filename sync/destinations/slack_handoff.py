"""Block Kit for sales/CS handoff alerts (issue 18): what a rep or CSM reads in Slack.

One message per row of `sync_slack_handoff_alerts`: a header with what happened, the
account and why, the facts a rep asks first (plan, MRR, owner, segment), the recent
activity, the 30-day usage chart in a code block (Unicode block characters line up in
Slack's monospace font), and a link to the CRM record built from the sync's
`crm_url_template`. Every value is escaped for mrkdwn; texts are cut to Slack's limits
(header 150 characters, section text 3,000, at most 10 fields).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

MAX_TEXT = 3000
MAX_HEADER = 150


def _text(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def crm_link(template: str | None, fields: Mapping[str, Any]) -> str | None:
    """The template with `{column}` filled from the row; None when a column is empty or the
    result is not an https URL (a link to nowhere is worse than none)."""
    if not template:
        return None
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    if any(fields.get(name) in (None, "") for name in names):
        return None
    url = template.format(**{name: str(fields[name]) for name in names})
    return url if url.startswith("https://") else None


def build_handoff_message(
    fields: Mapping[str, Any], mrr: float, crm_url_template: str | None
) -> dict[str, Any]:
    """Blocks plus a plain-text fallback (the notification text) for one handoff alert."""
    headline = _text(fields.get("headline")) or "Handoff"
    account = _text(fields.get("account_name") or fields.get("account_id")) or "unknown account"
    reasons = _text(fields.get("reasons"))
    owner = _text(fields.get("owner_name") or fields.get("owner_email")) or "unassigned"
    plan = _text(fields.get("plan")) or "-"
    segment = _text(fields.get("segment")) or "-"
    user = _text(fields.get("user_email"))
    mrr_text = f"${mrr:,.0f}"
    facts = [
        f"*Plan*\n{plan}",
        f"*MRR*\n{mrr_text}",
        f"*Owner*\n{owner}",
        f"*Segment*\n{segment}",
    ]
    if user:  # one user, or a stalled-users digest's list
        facts.append(f"*{'Users' if ', ' in user else 'User'}*\n{user}")
    why = f"*{account}*" + (f"\n*Why:* {reasons}" if reasons else "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline[:MAX_HEADER]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": why[:MAX_TEXT]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in facts]},
    ]
    activity = _text(fields.get("recent_activity"))
    if activity:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*Recent activity*\n{activity}"},
            }
        )
    chart = _text(fields.get("usage_chart"))
    if chart:
        lines = "\n".join(part.strip() for part in chart.split(" | "))
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*Usage*\n```{lines}```"[:MAX_TEXT]},
            }
        )
    link = crm_link(crm_url_template, fields)
    if link:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open in CRM>"}]}
        )
    text = f"{headline}: {account} (plan {plan}, MRR {mrr_text}, owner {owner})"
    return {"text": text[:MAX_TEXT], "blocks": blocks}
