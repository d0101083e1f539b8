-- One row per account and plan limit (seeds/plg_plan_limits.csv for the account's plan):
--   usage: active_users -> active users now (int_account_active_users, the same count as
--                          account_signals.active_user_count);
--          cycle_sum -> the metric summed over the current monthly usage cycle so far
--                       (the billing period, or its latest monthly anniversary on annual plans);
--          latest -> the metric's value on the latest complete day.
--   limit: the seed's value; for seats with no value in the seed, the seats purchased.
--   percent_used = 100 * usage / limit
--   status: over (usage > limit), at_limit (usage = limit), approaching (percent_used >=
--           plg_limit_approaching_percent), else ok.
--   projected_days_to_limit: (limit - usage) / daily growth (last 7 days' average for
--           period sums, the last 14 days' change for stocks); null when not growing.

with limits as (
    select * from {{ ref('plg_plan_limits') }}
),

billing as (
    select * from {{ ref('int_account_billing') }}
),

active_users as (
    select * from {{ ref('int_account_active_users') }}
),

-- the metered usage, read by four CTEs that each name it once: DuckDB stores a CTE read
-- more than once in full before the first read (the whole usage history, every run)
usage as (
    select * from {{ ref('int_account_usage_daily') }}
    where usage_date <= {{ plg_last_day() }}
),

stock_days as (
    select * from {{ ref('int_account_usage_daily') }}
    where usage_date <= {{ plg_last_day() }}
),

latest_values as (
    select * from {{ ref('int_account_usage_daily') }}
    where usage_date <= {{ plg_last_day() }}
),

earlier_values as (
    select * from {{ ref('int_account_usage_daily') }}
    where usage_date <= {{ plg_last_day() }}
),

paywall as (
    select * from {{ ref('int_account_paywall_hits') }}
),

account_limits as (
    select
        billing.account_id,
        billing.plan,
        billing.status,
        billing.mrr,
        billing.seats,
        billing.usage_cycle_start_at,
        billing.current_period_end_at,
        limits.limit_key,
        limits.usage_metric,
        limits.aggregation,
        coalesce(
            limits.limit_value,
            case when limits.aggregation = 'active_users' then billing.seats end
        ) as limit_value
    from billing
    inner join limits on billing.plan = limits.plan
    where billing.status <> 'canceled'
),

period_usage as (
    select
        account_limits.account_id,
        account_limits.limit_key,
        sum(usage.usage_value) as usage_value,
        sum(case when usage.usage_date >= {{ plg_days_ago(7) }} then usage.usage_value else 0 end) / 7.0
            as daily_rate
    from account_limits
    inner join usage
        on usage.account_id = account_limits.account_id
        and usage.metric = account_limits.usage_metric
        and usage.usage_date >= cast(account_limits.usage_cycle_start_at as date)
    where account_limits.aggregation = 'cycle_sum'
    group by 1, 2
),

latest_usage_day as (
    select account_id, metric, max(usage_date) as usage_date
    from stock_days
    group by 1, 2
),

stock_usage as (
    select
        account_limits.account_id,
        account_limits.limit_key,
        latest.usage_value as usage_value,
        (latest.usage_value - earlier.usage_value) / 14.0 as daily_rate
    from account_limits
    inner join latest_usage_day
        on latest_usage_day.account_id = account_limits.account_id
        and latest_usage_day.metric = account_limits.usage_metric
    inner join latest_values as latest
        on latest.account_id = latest_usage_day.account_id
        and latest.metric = latest_usage_day.metric
        and latest.usage_date = latest_usage_day.usage_date
    left join earlier_values as earlier
        on earlier.account_id = latest_usage_day.account_id
        and earlier.metric = latest_usage_day.metric
        and earlier.usage_date = {{ date_add_days('latest_usage_day.usage_date', -14) }}
    where account_limits.aggregation = 'latest'
),

measured as (
    select
        account_limits.*,
        case account_limits.aggregation
            when 'active_users' then cast(coalesce(active_users.active_user_count, 0) as {{ plg_type_double() }})
            when 'cycle_sum' then coalesce(period_usage.usage_value, 0)
            when 'latest' then coalesce(stock_usage.usage_value, 0)
        end as usage_value,
        case account_limits.aggregation
            when 'cycle_sum' then period_usage.daily_rate
            when 'latest' then stock_usage.daily_rate
        end as daily_growth
    from account_limits
    left join active_users on account_limits.account_id = active_users.account_id
    left join period_usage
        on account_limits.account_id = period_usage.account_id
        and account_limits.limit_key = period_usage.limit_key
    left join stock_usage
        on account_limits.account_id = stock_usage.account_id
        and account_limits.limit_key = stock_usage.limit_key
    where account_limits.limit_value is not null
),

final as (
    select
        {{ surrogate_key(['measured.account_id', 'measured.limit_key']) }} as account_limit_id,
        measured.account_id,
        measured.limit_key,
        measured.plan,
        measured.aggregation,
        measured.usage_value,
        measured.limit_value,
        round(100 * {{ safe_divide('measured.usage_value', 'measured.limit_value') }}, 1) as percent_used,
        case
            when measured.usage_value > measured.limit_value then 'over'
            when measured.usage_value = measured.limit_value then 'at_limit'
            when 100 * {{ safe_divide('measured.usage_value', 'measured.limit_value') }}
                 >= {{ var('plg_limit_approaching_percent') }} then 'approaching'
            else 'ok'
        end as limit_status,
        case
            when measured.usage_value < measured.limit_value and measured.daily_growth > 0
                then round((measured.limit_value - measured.usage_value) / measured.daily_growth, 1)
        end as projected_days_to_limit,
        coalesce(paywall.paywall_hits_7d, 0) as paywall_hits_7d,
        active_users.billing_owner_email,
        coalesce(measured.mrr, 0) as mrr,
        coalesce(
            measured.mrr >= {{ var('plg_route_to_sales_mrr') }}
            or measured.plan in {{ in_list(var('plg_route_to_sales_plans')) }},
            false
        ) as is_routed_to_sales,
        measured.usage_cycle_start_at
    from measured
    left join paywall on measured.account_id = paywall.account_id
    left join active_users on measured.account_id = active_users.account_id
)

select * from final
