"""The column sets real loaders land, copied from their published artefacts (never from
this package's SQL), and a helper that writes a table in exactly that shape with our own
rows: columns a row does not mention are null, so every fixture carries the loader's full
column list, including the columns the package does not read.

Sources (read with the repository snapshots and docs, November 2026):
- Fivetran Stripe: fivetran/dbt_stripe @ 42687a212832b7a2f735e0d4cf0ddf0aa00b6211,
  integration_tests/seeds/{subscription_history,subscription_item,price,plan,customer}_data.csv;
  history mode adds `_fivetran_start`, `_fivetran_end` (Fivetran docs, "History mode").
- Fivetran HubSpot: fivetran/dbt_hubspot_source @ bcc7781bd1bda02dd67d69a60fe7f4f5056534b2,
  integration_tests/seeds/{company,owner}_data.csv. Portal-specific properties (the
  product account id property `plg-sync setup hubspot` creates) land as extra
  `property_<name>` columns.
- Fivetran Salesforce: fivetran/dbt_salesforce_source @ 6a060f9957d27d287fa5b55bc27ed0e92d1d96a4,
  integration_tests/seeds/sf_{account,user}_data.csv; the custom field PLG_Account_Id__c
  lands as `plg_account_id_c`.
- Fivetran Zendesk Support: fivetran/dbt_zendesk_source @ 3aab72b7a0d97e1b6b1b7aa9c2898333fb002cd5,
  integration_tests/seeds/{ticket,organization,user,ticket_field_history}_data.csv.
- Fivetran Zendesk `satisfaction_rating` (not among the package's seeds): Fivetran's
  Zendesk Support schema ERD, https://fivetran.com/docs/connectors/applications/zendesk
  (id, assignee_id, comment, created_at, group_id, reason, requester_id, score, ticket_id,
  updated_at, url; score is good / bad / offered / unoffered as in Zendesk's API).
- Segment: https://segment.com/docs/connections/storage/warehouses/schema/ (tracks and
  groups tables: id, anonymous_id, context_*, event/event_text or group_id + traits,
  original_timestamp, received_at, sent_at, timestamp, user_id, uuid_ts; custom event
  properties go to one table per event, not to tracks).
- RudderStack: https://www.rudderstack.com/docs/destinations/warehouse-destinations/warehouse-schema/
  (tracks and groups: the same standard columns plus channel and context_destination_*,
  context_source_*, context_request_ip).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb


def _columns(header: str) -> list[str]:
    return header.split(",")


STRIPE_SUBSCRIPTION_HISTORY = _columns(
    "id,_fivetran_synced,_fivetran_active,application_fee_percent,billing,billing_cycle_anchor,"
    "billing_threshold_amount_gte,billing_threshold_reset_billing_cycle_anchor,cancel_at,"
    "cancel_at_period_end,canceled_at,created,current_period_end,current_period_start,"
    "customer_id,days_until_due,default_source_id,ended_at,livemode,metadata,quantity,"
    "start_date,status,tax_percent,trial_end,trial_start"
)
STRIPE_HISTORY_MODE = ["_fivetran_start", "_fivetran_end"]
STRIPE_SUBSCRIPTION_ITEM = _columns(
    "_fivetran_synced,created,current_period_end,current_period_start,id,metadata,plan_id,"
    "quantity,subscription_id"
)
STRIPE_PRICE = _columns(
    "id,_fivetran_synced,active,billing_scheme,created,currency,invoice_item_id,is_deleted,"
    "livemode,lookup_key,metadata,nickname,product_id,recurring_aggregate_usage,"
    "recurring_interval,recurring_interval_count,recurring_usage_type,tiers_mode,"
    "transform_quantity_divide_by,transform_quantity_round,type,unit_amount,unit_amount_decimal"
)
STRIPE_PLAN = _columns(
    "id,_fivetran_synced,active,aggregate_usage,amount,billing_scheme,created,currency,"
    "interval,interval_count,is_deleted,livemode,nickname,product_id,tiers_mode,"
    "transform_usage_divide_by,transform_usage_round,trial_period_days,usage_type"
)
STRIPE_CUSTOMER = _columns(
    "id,_fivetran_synced,account_balance,address_city,address_country,address_line_1,"
    "address_line_2,address_postal_code,address_state,balance,bank_account_id,created,"
    "currency,default_card_id,delinquent,description,email,invoice_prefix,"
    "invoice_settings_default_payment_method,invoice_settings_footer,is_deleted,livemode,"
    "name,phone,shipping_address_city,shipping_address_country,shipping_address_line_1,"
    "shipping_address_line_2,shipping_address_postal_code,shipping_address_state,"
    "shipping_carrier,shipping_name,shipping_phone,shipping_tracking_number,source_id,"
    "tax_exempt,tax_info_tax_id,tax_info_type,tax_info_verification_status,"
    "tax_info_verification_verified_name,metadata"
)
HUBSPOT_COMPANY = _columns(
    "id,is_deleted,_fivetran_synced,property_name,property_description,property_createdate,"
    "property_industry,property_address,property_address_2,property_city,property_state,"
    "property_country,property_annualrevenue,property_hs_all-funky-a9384-syntax"
)
HUBSPOT_OWNER = _columns(
    "owner_id,_fivetran_synced,created_at,portal_id,type,updated_at,email,first_name,"
    "last_name,active_user_id"
)
SALESFORCE_ACCOUNT = _columns(
    "_fivetran_synced,account_number,account_source,annual_revenue,billing_city,"
    "billing_country,billing_country_code,billing_geocode_accuracy,billing_latitude,"
    "billing_longitude,billing_postal_code,billing_state,billing_state_code,billing_street,"
    "description,fax,id,industry,is_deleted,jigsaw_company_id,last_activity_date,"
    "last_referenced_date,last_viewed_date,master_record_id,name,number_of_employees,"
    "owner_id,ownership,parent_id,phone,photo_url,rating,record_type_id,shipping_city,"
    "shipping_country,shipping_country_code,shipping_geocode_accuracy,shipping_latitude,"
    "shipping_longitude,shipping_postal_code,shipping_state,shipping_state_code,"
    "shipping_street,sic,sic_desc,site,ticker_symbol,type,website,_fivetran_active"
)
SALESFORCE_USER = _columns(
    "_fivetran_deleted,_fivetran_synced,about_me,account_id,alias,badge_text,"
    "banner_photo_url,call_center_id,city,community_nickname,company_name,contact_id,"
    "country,country_code,default_group_notification_frequency,delegated_approver_id,"
    "department,digest_frequency,division,email,email_encoding_key,"
    "email_preferences_auto_bcc,employee_number,extension,fax,federation_identifier,"
    "first_name,forecast_enabled,full_photo_url,geocode_accuracy,id,individual_id,"
    "is_active,is_profile_photo_active,language_locale_key,last_login_date,last_name,"
    "last_referenced_date,last_viewed_date,latitude,locale_sid_key,longitude,manager_id,"
    "medium_banner_photo_url,mobile_phone,name,offline_trial_expiration_date,phone,"
    "postal_code,profile_id,receives_admin_info_emails,receives_info_emails,sender_email,"
    "sender_name,signature,small_banner_photo_url,small_photo_url,state,state_code,street,"
    "time_zone_sid_key,title,user_role_id,user_type,username,_fivetran_active"
)
ZENDESK_TICKET = _columns(
    "id,_fivetran_synced,allow_channelback,assignee_id,brand_id,created_at,description,"
    "due_at,external_id,forum_topic_id,group_id,has_incidents,is_public,organization_id,"
    "priority,problem_id,recipient,requester_id,status,subject,submitter_id,system_client,"
    "ticket_form_id,type,updated_at,url,via_channel,via_source_from_id,via_source_from_title,"
    "via_source_rel,via_source_to_address,via_source_to_name,merged_ticket_ids,"
    "via_source_from_address,followup_ids,via_followup_source_id"
)
ZENDESK_ORGANIZATION = _columns(
    "id,_fivetran_synced,created_at,details,external_id,group_id,name,notes,shared_comments,"
    "shared_tickets,updated_at,url"
)
ZENDESK_USER = _columns(
    "id,_fivetran_synced,active,alias,authenticity_token,chat_only,created_at,details,email,"
    "external_id,last_login_at,locale,locale_id,moderator,name,notes,only_private_comments,"
    "organization_id,phone,remote_photo_url,restricted_agent,role,shared,shared_agent,"
    "signature,suspended,ticket_restriction,time_zone,two_factor_auth_enabled,updated_at,"
    "url,verified"
)
ZENDESK_SATISFACTION_RATING = _columns(
    "id,_fivetran_synced,assignee_id,comment,created_at,group_id,reason,requester_id,score,"
    "ticket_id,updated_at,url"
)
ZENDESK_TICKET_FIELD_HISTORY = _columns(
    "field_name,ticket_id,updated,_fivetran_synced,user_id,value"
)
SEGMENT_TRACKS = _columns(
    "id,anonymous_id,context_ip,context_library_name,context_library_version,context_locale,"
    "context_page_path,context_page_referrer,context_page_title,context_page_url,"
    "context_user_agent,event,event_text,original_timestamp,received_at,sent_at,timestamp,"
    "user_id,uuid_ts"
)
SEGMENT_GROUPS = _columns(
    "id,anonymous_id,context_ip,context_library_name,context_library_version,group_id,"
    "original_timestamp,received_at,sent_at,timestamp,user_id,uuid_ts"
)
RUDDERSTACK_TRACKS = _columns(
    "id,anonymous_id,user_id,channel,context_destination_id,context_destination_type,"
    "context_source_id,context_source_type,context_ip,context_library_name,"
    "context_library_version,context_request_ip,event,event_text,original_timestamp,"
    "received_at,sent_at,timestamp,uuid_ts"
)
RUDDERSTACK_GROUPS = _columns(
    "id,anonymous_id,user_id,group_id,channel,context_destination_id,context_destination_type,"
    "context_source_id,context_source_type,context_ip,context_library_name,"
    "context_library_version,context_request_ip,original_timestamp,received_at,sent_at,"
    "timestamp,uuid_ts"
)
# The product database: the package's own documented shape (docs/sources.md).
APP_ACCOUNTS = _columns("account_id,name,domain,industry,employee_count,created_at")
APP_USERS = _columns("user_id,account_id,email,name,role,created_at,deactivated_at,updated_at")
APP_USAGE = _columns("account_id,usage_date,metric,value")
GENERIC_TICKETS = _columns(
    "ticket_id,account_id,requester_user_id,created_at,priority,status,sentiment_score"
)


def write_table(
    con: duckdb.DuckDBPyConnection,
    tmp: Path,
    table: str,
    columns: list[str],
    rows: list[dict[str, Any]],
    extra_columns: list[str] | None = None,
) -> None:
    """Create raw.<table> with exactly `columns` (+ `extra_columns`, e.g. history-mode or
    portal-specific ones) from `rows`; types are inferred from the values as a loader's
    CSV would be, and a column no row fills is text."""
    header = columns + (extra_columns or [])
    unknown = {k for row in rows for k in row} - set(header)
    assert not unknown, f"{table}: {unknown} are not columns of the published shape"
    path = tmp / f"{table}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row[c] for c in header])
    con.execute(
        f'create or replace table raw."{table}" as select * from read_csv('
        f"'{path}', header = true, all_varchar = false, sample_size = -1)"
    )
