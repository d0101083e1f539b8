-- One row per account with paywall events (var plg_paywall_events) on the last 7 days up
-- to the as-of time: the days from the as-of date minus 7 on, counting a day whose first
-- such event is before the as-of time. Read by account_plan_limits and account_signals,
-- so the count does not depend on the account having plan-limit rows.

with user_events as (
    select * from {{ ref('int_user_event_daily') }}
),

final as (
    select
        account_id,
        sum(event_count) as paywall_hits_7d
    from user_events
    where account_id is not null
      and event_name in {{ in_list(var('plg_paywall_events')) }}
      and activity_date >= {{ plg_days_ago(7) }}
      and first_occurred_at < {{ plg_as_of() }}
    group by account_id
)

select * from final
