-- Metered usage, one row per account, day and metric: stg_app__usage_daily (a view that
-- quarantines bad rows and keeps the largest of repeated rows) stored once per run.
-- account_plan_limits, account_handoffs, account_usage_sparklines and sync_signal_events
-- all read the whole usage history; as a view each of them repeated the de-duplicating
-- aggregation over every row, here it runs once (issue 19).

with usage as (
    select * from {{ ref('stg_app__usage_daily') }}
),

final as (
    select
        account_id,
        usage_date,
        metric,
        usage_value
    from usage
)

select * from final
