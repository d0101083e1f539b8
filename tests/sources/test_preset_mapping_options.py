"""The mapping options of the presets (docs/sources.md), on staging alone (fast): the
Stripe account id from a mapping table; Zendesk accounts from the requester's email
domain or an organization field, users by email, ratings from `satisfaction_rating`, and
a sentiment column when one exists; the event account from a tracks context column.
Tables in the loaders' published column sets (tests/sources/shapes.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.demo.conftest import run_dbt
from tests.sources import shapes
from tests.sources.conftest import AS_OF, product_tables, write_tables

pytestmark = pytest.mark.slow


def _tables() -> dict:
    tables = product_tables()
    tables["tracks"] = (
        shapes.SEGMENT_TRACKS,
        [{"id": "m1", "user_id": "u1", "event": "project_created",
          "timestamp": "2026-10-20 10:00:00", "received_at": "2026-10-20 10:00:02",
          "context_group_id": "acc_1"}],
        ["context_group_id"],  # present only when every client sends context.groupId
    )  # fmt: skip
    tables["subscription_history"] = (
        shapes.STRIPE_SUBSCRIPTION_HISTORY,
        [{"id": "sub_1", "customer_id": "cus_1", "status": "active", "quantity": 2,
          "created": "2026-08-01 10:00:00", "metadata": "{}", "_fivetran_active": "true"}],
    )  # fmt: skip
    tables["subscription_item"] = (
        shapes.STRIPE_SUBSCRIPTION_ITEM,
        [{"id": "si_1", "plan_id": "price_pro", "quantity": 2, "subscription_id": "sub_1"}],
    )
    tables["price"] = (
        shapes.STRIPE_PRICE,
        [{"id": "price_pro", "nickname": "Pro", "unit_amount": 4000,
          "recurring_interval": "month", "recurring_interval_count": 1}],
    )  # fmt: skip
    tables["stripe_customer_accounts"] = (
        ["stripe_customer_id", "account_id"],
        [{"stripe_customer_id": "cus_1", "account_id": "acc_1"}],
    )
    tables["ticket"] = (
        shapes.ZENDESK_TICKET,
        [{"id": 1, "created_at": "2026-10-10 09:00:00", "requester_id": 601, "status": "open",
          "custom_sentiment_score": -0.7},
         {"id": 2, "created_at": "2026-10-11 09:00:00", "requester_id": 602, "status": "open",
          "organization_id": 502}],
        ["custom_sentiment_score"],  # a ticket field of yours, landed as a column
    )  # fmt: skip
    tables["organization"] = (
        shapes.ZENDESK_ORGANIZATION,
        [{"id": 502, "name": "Globex", "external_id": "zd-globex"}],
        ["plg_account_id"],
    )
    tables["organization"][1][0]["plg_account_id"] = "acc_2"
    tables["user"] = (
        shapes.ZENDESK_USER,
        [{"id": 601, "email": "Ada@Acme.example"},
         {"id": 602, "email": "cy@globex.example", "organization_id": 502}],
    )  # fmt: skip
    tables["satisfaction_rating"] = (
        shapes.ZENDESK_SATISFACTION_RATING,
        [{"id": 71, "ticket_id": 2, "score": "bad", "created_at": "2026-10-12 09:00:00",
          "updated_at": "2026-10-12 09:00:00"},
         {"id": 72, "ticket_id": 1, "score": "good", "created_at": "2026-10-12 09:00:00",
          "updated_at": "2026-10-12 09:00:00"}],
    )  # fmt: skip
    return tables


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mapping_options")
    db_path = root / "warehouse.duckdb"
    write_tables(db_path, root, _tables())
    return db_path


def _build_staging(tmp_path: Path, db_path: Path, dbt_vars: dict) -> None:
    completed = run_dbt(
        tmp_path,
        db_path,
        "run",
        "--select",
        "staging",
        "--exclude",
        "stg_crm__companies",  # no CRM tables in this fixture
        "--vars",
        json.dumps({"plg_as_of": AS_OF, **dbt_vars}),
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]


def _rows(db_path: Path, sql: str) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_mapping_table_email_domain_email_users_and_context_account(warehouse, tmp_path):
    _build_staging(
        tmp_path,
        warehouse,
        {
            "plg_event_account_source": "context",
            "plg_stripe_account_id_from": "mapping",
            "plg_zendesk_account_from": "email_domain",
            "plg_zendesk_user_from": "email",
            "plg_zendesk_sentiment_column": "custom_sentiment_score",
        },
    )
    assert _rows(warehouse, "select event_id, event_account_id from main.stg_segment__tracks") == [
        ("m1", "acc_1")
    ]
    assert _rows(
        warehouse,
        "select subscription_id, account_id, mrr from main.stg_stripe__subscription_history",
    ) == [("sub_1", "acc_1", 80.0)]
    # email domain -> accounts.domain; email -> users.email; the sentiment column wins over
    # the rating where it has a value, the latest rating is used where it has none
    assert _rows(
        warehouse,
        "select ticket_id, account_id, requester_user_id, sentiment_score"
        " from main.stg_helpdesk__support_tickets order by 1",
    ) == [("1", "acc_1", "u1", -0.7), ("2", "acc_2", "u3", -1.0)]


def test_account_from_an_organization_field(warehouse, tmp_path):
    _build_staging(
        tmp_path,
        warehouse,
        {
            "plg_event_account_source": "none",
            "plg_stripe_account_id_from": "mapping",
            "plg_zendesk_account_from": "organization_field",
            "plg_zendesk_organization_account_field": "plg_account_id",
            "plg_zendesk_user_from": "none",
        },
    )
    # ticket 1 has no organization and its requester none: not resolvable, quarantined
    assert _rows(
        warehouse,
        "select ticket_id, account_id, requester_user_id from main.stg_helpdesk__support_tickets",
    ) == [("2", "acc_2", None)]
    assert _rows(warehouse, "select event_account_id from main.stg_segment__tracks") == [(None,)]
