"""The docs screenshot of a handoff alert is drawn from the Block Kit JSON the sync posts
(sync/demo/slack_preview.py), so every block the builder emits must appear on the page."""

from __future__ import annotations

from sync.demo.slack_preview import render
from sync.destinations.slack_handoff import build_handoff_message


def test_every_block_of_a_handoff_message_is_drawn() -> None:
    fields = {
        "headline": "New product-qualified lead",
        "account_name": "Acme <Labs> & Co",
        "reasons": "invited teammates (3 in 30 days, +30 pts)",
        "owner_name": "Ana Ortiz",
        "plan": "free",
        "segment": "smb",
        "recent_activity": "3 active users, 26 events in the 7 days to the handoff",
        "usage_chart": "Active users, 30 days: ▃▅█ (max 3) | seats, 30 days: ▁▁█ (max 3)",
        "crm_company_id": "9000023",
    }
    message = build_handoff_message(fields, 0.0, "https://crm.example/company/{crm_company_id}")
    page = render(message)
    assert '<div class="header">New product-qualified lead</div>' in page
    assert "<b>Acme &lt;Labs&gt; &amp; Co</b>" in page  # escaped once, not twice
    assert "<b>Why:</b> invited teammates" in page
    assert "<b>Owner</b>\nAna Ortiz" in page
    assert "<pre>Active users, 30 days: ▃▅█ (max 3)\nseats, 30 days: ▁▁█ (max 3)</pre>" in page
    assert '<a href="https://crm.example/company/9000023">Open in CRM</a>' in page
