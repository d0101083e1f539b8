{%- set n = var('plg_sparkline_days') -%}
-- One row per account and chart end day: a {{ n }}-day usage chart as text, for Slack
-- alerts and CRM deal/task notes (Unicode block characters U+2581..U+2588 render in
-- both). Charts are drawn for the days a human is handed something: each handoff day
-- (account_handoffs and the owner ledger), the start day of each account's latest risk
-- episode, and the as-of day for every account. A deal or task note is therefore fixed at
-- the moment of the handoff and does not change (nor get resent) every day.
-- Two series over the {{ n }} days ending with the end day (the as-of day so far):
--   daily active users (int_account_daily_activity.active_user_count, 0 on idle days);
--   the account's most constrained plan-limit metric now (account_plan_limits): the
--   metered metric's daily value (int_account_usage_daily), or daily active users for a
--   seats-style (active_users) limit.
-- Each series is scaled to its own maximum (0 -> '▁', max -> '█') and the max is printed
-- beside it.

-- the day spine, read by two CTEs that each name it once (DuckDB stores a CTE read twice
-- in full first)
with account_days as (
    select * from {{ ref('int_account_days') }}
),

spine as (
    select * from {{ ref('int_account_days') }}
),

activity as (
    select * from {{ ref('int_account_daily_activity') }}
),

usage as (
    select * from {{ ref('int_account_usage_daily') }}
    where usage_date <= {{ plg_last_day() }}
),

limits as (
    select * from {{ ref('account_plan_limits') }}
),

plan_limits as (
    select * from {{ ref('plg_plan_limits') }}
),

handoffs as (
    select * from {{ ref('account_handoffs') }}
),

assignments as (
    select * from {{ ref('account_owner_assignments') }}
),

churn as (
    select * from {{ ref('account_churn_risk') }}
),

requested as (
    select account_id, {{ plg_last_day() }} as chart_end_day
    from account_days
    union all
    select account_id, cast(handoff_at as date) from handoffs
    union all
    select account_id, cast(handoff_at as date) from assignments
    union all
    select account_id, cast(last_episode_started_at as date) from churn
    where last_episode_started_at is not null
),

requests as (
    select distinct account_id, chart_end_day from requested
),

-- the limit shown: the one closest to (or furthest past) its boundary
worst_limit as (
    select
        account_id,
        plan,
        limit_key,
        aggregation,
        row_number() over (
            partition by account_id
            order by
                case limit_status when 'over' then 0 when 'at_limit' then 1
                                  when 'approaching' then 2 else 3 end,
                percent_used desc,
                limit_key
        ) as severity_rank
    from limits
),

limit_metric as (
    select
        worst_limit.account_id,
        worst_limit.limit_key,
        worst_limit.aggregation,
        plan_limits.usage_metric
    from worst_limit
    inner join plan_limits
        on plan_limits.plan = worst_limit.plan and plan_limits.limit_key = worst_limit.limit_key
    where worst_limit.severity_rank = 1
),

-- the first day any chart shows: activity and usage rows before it are never charted, so
-- they are left out before the joins (their hash tables then hold the charted range, not
-- the whole history)
first_charted_day as (
    select {{ date_add_days('min(chart_end_day)', -1 * n + 1) }} as day
    from requests
),

charted_activity as (
    select activity.account_id, activity.activity_date, activity.active_user_count
    from activity
    where activity.activity_date >= (select day from first_charted_day)
),

-- the metered usage of each account's charted limit metric only
charted_usage as (
    select usage.account_id, usage.usage_date, usage.usage_value
    from usage
    inner join limit_metric
        on limit_metric.account_id = usage.account_id
        and limit_metric.usage_metric = usage.metric
    where usage.usage_date >= (select day from first_charted_day)
),

-- the {{ n }} days of each chart first (a range join of the requests to the day spine),
-- then each day's values: only the charted days are joined to activity and usage
chart_days as (
    select
        requests.account_id,
        requests.chart_end_day,
        spine.day
    from requests
    inner join spine
        on spine.account_id = requests.account_id
        and spine.day <= requests.chart_end_day
        and spine.day > {{ date_add_days('requests.chart_end_day', -1 * n) }}
    where spine.day >= (select day from first_charted_day)
),

daily as (
    select
        chart_days.account_id,
        chart_days.chart_end_day,
        chart_days.day,
        cast(coalesce(activity.active_user_count, 0) as {{ plg_type_double() }}) as active_users,
        limit_metric.limit_key,
        case
            when limit_metric.limit_key is null then null
            when limit_metric.aggregation = 'active_users'
                then cast(coalesce(activity.active_user_count, 0) as {{ plg_type_double() }})
            else coalesce(usage.usage_value, 0)
        end as limit_value
    from chart_days
    left join charted_activity as activity
        on activity.account_id = chart_days.account_id
        and activity.activity_date = chart_days.day
    left join limit_metric on limit_metric.account_id = chart_days.account_id
    left join charted_usage as usage
        on usage.account_id = chart_days.account_id
        and usage.usage_date = chart_days.day
),

-- each chart's scale (an aggregate joined back, not a window over every charted day)
maxima as (
    select
        account_id,
        chart_end_day,
        max(limit_key) as limit_key,
        max(active_users) as max_active_users,
        max(limit_value) as max_limit_value,
        count(*) as chart_days
    from daily
    group by account_id, chart_end_day
),

scaled as (
    select
        daily.day,
        daily.active_users,
        daily.limit_value,
        maxima.*
    from daily
    inner join maxima
        on maxima.account_id = daily.account_id
        and maxima.chart_end_day = daily.chart_end_day
),

charted as (
    select
        account_id,
        chart_end_day,
        limit_key,
        max_active_users,
        max_limit_value,
        chart_days,
        {{ dbt.listagg(plg_spark_char('active_users', 'max_active_users'), "''", 'order by day') }} as active_users_sparkline,
        {{ dbt.listagg(plg_spark_char('limit_value', 'max_limit_value'), "''", 'order by day') }} as limit_sparkline
    from scaled
    group by account_id, chart_end_day, limit_key, max_active_users, max_limit_value, chart_days
),

final as (
    select
        {{ surrogate_key(['account_id', 'chart_end_day']) }} as account_chart_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(chart_end_day as date) as chart_end_day,
        cast(chart_days as {{ dbt.type_int() }}) as chart_days,
        cast(active_users_sparkline as {{ dbt.type_string() }}) as active_users_sparkline,
        cast(max_active_users as {{ plg_type_double() }}) as max_active_users,
        cast(limit_key as {{ dbt.type_string() }}) as limit_key,
        cast(case when limit_key is not null then limit_sparkline end as {{ dbt.type_string() }}) as limit_sparkline,
        cast(max_limit_value as {{ plg_type_double() }}) as max_limit_value,
        cast(
            {{ dbt.concat([
                "'Active users, " ~ n ~ " days: '", "active_users_sparkline",
                "' (max '", "cast(cast(max_active_users as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")", "')'",
                "coalesce(" ~ dbt.concat(["' | '", "limit_key", "', " ~ n ~ " days: '", "limit_sparkline",
                    "' (max '", "cast(cast(max_limit_value as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")", "')'"]) ~ ", '')"
            ]) }}
            as {{ dbt.type_string() }}) as usage_chart
    from charted
)

select * from final
