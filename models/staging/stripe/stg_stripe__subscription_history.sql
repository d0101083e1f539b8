{#- A table, not a view like the rest of staging (STYLE 7, materialise by cost): five
    models read it on every run (int_account_billing, int_subscription_changes,
    account_health_daily, account_handoffs, sync_crm_tasks), and as a view each of them
    repeated the version joins and windows; stored once per run they read ~10k rows (issue 19). -#}
{{ config(materialized='table') }}
{#- Stripe subscriptions as Fivetran lands them (docs/sources.md#billing-stripe-via-fivetran):
    subscription_history (history mode on or off), subscription_item (the prices billed),
    price or plan (amount and interval), and the product account id from a metadata key of
    the subscription or the customer, or from a mapping table. One row per subscription
    version; a version starts whenever the subscription or one of its items changed. The
    joins are the exception to "no joins in staging": a subscription version without its
    price and account is not usable by any consumer. -#}
-- The rules live in plg_stripe_subscription_rows (macros/sources): versions without a
-- subscription id, a start or a product account id are left out here and counted in
-- plg_data_quality.
with classified as (
    {{ plg_stripe_subscription_rows() }}
),

final as (
    select
        subscription_version_id,
        subscription_id,
        customer_id,
        account_id,
        status,
        plan,
        plan_interval,
        seats,
        mrr,
        is_cancel_at_period_end,
        current_period_start_at,
        current_period_end_at,
        trial_end_at,
        created_at,
        canceled_at,
        valid_from,
        valid_to,
        is_current_version
    from classified
    where quarantine_reason is null
)

select * from final
