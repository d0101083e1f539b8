{{
    config(
        materialized='incremental',
        unique_key='account_day_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
        partition_by=plg_day_partition('day'),
        cluster_by=plg_day_cluster('day'),
    )
}}
{%- set cur = var('plg_churn_current_window_days') -%}
{%- set base = var('plg_churn_baseline_window_days') -%}
{%- set w = var('plg_churn_weights') -%}
{%- set start = plg_incremental_start('day', ref('int_account_daily_activity')) -%}
-- Daily churn-risk history, one row per account and complete day. Each day's score is
-- what was knowable that day, so "at risk yesterday, recovered today" is a fact here.
--   usage_current  = events in the {{ cur }} days ending that day
--   usage_baseline = events in the {{ base }} days before those
--   usage drop     = 1 - current / baseline, evaluated when baseline >= plg_churn_min_baseline_events
--   risk_score     = least(100, sum of the weights (var plg_churn_weights) of the signals on)
-- An incremental run recomputes days from the newest built day minus the lookback, or
-- from the oldest day that received events since this model's newest receipt
-- (last_received_at), reading enough earlier days to fill the windows.

with account_days as (
    select * from {{ ref('int_account_days') }}
    {% if is_incremental() %}
    where day >= {{ date_add_days(start, -1 * (cur + base + 120)) }}
    {% endif %}
),

activity as (
    select * from {{ ref('int_account_daily_activity') }}
),

offboarding as (
    select * from {{ ref('int_user_offboarding') }}
),

tickets as (
    select * from {{ ref('stg_helpdesk__support_tickets') }}
),

changes as (
    select * from {{ ref('int_subscription_changes') }}
),

versions as (
    select * from {{ ref('stg_stripe__subscription_history') }}
),

key_user_exits as (
    select account_id, cast(deactivated_at as date) as day, count(*) as key_user_exit_count
    from offboarding
    where is_key_user
    group by 1, 2
),

ticket_days as (
    select
        account_id,
        cast(created_at as date) as day,
        count(*) as ticket_count,
        sum(case when sentiment_score <= {{ var('plg_churn_negative_sentiment') }} then 1 else 0 end)
            as negative_ticket_count,
        -- exact decimal sums, so the rolling windows give the same answer however computed
        sum(cast(sentiment_score as {{ dbt.type_numeric() }})) as sentiment_sum,
        sum(case when sentiment_score is not null then 1 else 0 end) as scored_ticket_count
    from tickets
    group by 1, 2
),

downgrade_days as (
    select account_id, cast(changed_at as date) as day, count(*) as downgrade_count
    from changes
    where change_kind in ('plan_downgrade', 'seat_reduction', 'mrr_reduction')
    group by 1, 2
),

-- the subscription version in force when each day ends (at the next midnight UTC), by
-- the same rules as int_account_billing: plg_version_in_force (an open version has a
-- null or far-future end) and, with several subscriptions, plg_version_preference
day_version_candidates as (
    select
        account_days.account_id,
        account_days.day,
        versions.status,
        versions.is_cancel_at_period_end,
        row_number() over (
            partition by account_days.account_id, account_days.day
            order by {{ plg_version_preference('versions') }}
        ) as preference
    from account_days
    inner join versions
        on versions.account_id = account_days.account_id
        and {{ plg_version_in_force('versions', ts_add_days('cast(account_days.day as ' ~ dbt.type_timestamp() ~ ')', 1)) }}
),

day_versions as (
    select
        account_id,
        day,
        coalesce(is_cancel_at_period_end, false) as is_cancel_at_period_end,
        status = 'canceled' as is_canceled
    from day_version_candidates
    where preference = 1
),

daily as (
    select
        account_days.account_day_id,
        account_days.account_id,
        account_days.day,
        coalesce(activity.event_count, 0) as event_count,
        activity.last_received_at,
        coalesce(key_user_exits.key_user_exit_count, 0) as key_user_exit_count,
        coalesce(ticket_days.ticket_count, 0) as ticket_count,
        coalesce(ticket_days.negative_ticket_count, 0) as negative_ticket_count,
        coalesce(ticket_days.sentiment_sum, 0) as sentiment_sum,
        coalesce(ticket_days.scored_ticket_count, 0) as scored_ticket_count,
        coalesce(downgrade_days.downgrade_count, 0) as downgrade_count,
        coalesce(day_versions.is_cancel_at_period_end, false) as is_cancel_at_period_end,
        coalesce(day_versions.is_canceled, false) as is_canceled
    from account_days
    left join activity
        on activity.account_id = account_days.account_id and activity.activity_date = account_days.day
    left join key_user_exits
        on key_user_exits.account_id = account_days.account_id and key_user_exits.day = account_days.day
    left join ticket_days
        on ticket_days.account_id = account_days.account_id and ticket_days.day = account_days.day
    left join downgrade_days
        on downgrade_days.account_id = account_days.account_id and downgrade_days.day = account_days.day
    left join day_versions
        on day_versions.account_id = account_days.account_id and day_versions.day = account_days.day
),

windowed as (
    {%- set sw = var('plg_churn_sentiment_window_days') %}
    {%- set sb = var('plg_churn_sentiment_baseline_days') %}
    select
        *,
        {{ trailing_days('sum(event_count)', cur) }} as usage_current,
        {{ trailing_days('sum(event_count)', base, cur) }} as usage_baseline,
        {{ trailing_days('count(*)', cur + base) }} as days_in_windows,
        {{ trailing_days('sum(key_user_exit_count)', var('plg_churn_key_user_lookback_days')) }}
            as key_user_exits_recent,
        {{ trailing_days('sum(negative_ticket_count)', sw) }} as negative_tickets_recent,
        {{ trailing_days('sum(negative_ticket_count)', sb, sw) }} as negative_tickets_baseline,
        {{ trailing_days('sum(sentiment_sum)', sw) }} as sentiment_sum_recent,
        {{ trailing_days('sum(scored_ticket_count)', sw) }} as scored_tickets_recent,
        {{ trailing_days('sum(sentiment_sum)', sb, sw) }} as sentiment_sum_baseline,
        {{ trailing_days('sum(scored_ticket_count)', sb, sw) }} as scored_tickets_baseline,
        {{ trailing_days('sum(downgrade_count)', var('plg_churn_downgrade_lookback_days')) }}
            as downgrades_recent
    from daily
),

signals as (
    select
        *,
        {{ safe_divide('sentiment_sum_recent', 'scored_tickets_recent') }} as sentiment_recent,
        {{ safe_divide('sentiment_sum_baseline', 'scored_tickets_baseline') }} as sentiment_baseline,
        case
            when days_in_windows = {{ cur + base }}
                 and usage_baseline >= {{ var('plg_churn_min_baseline_events') }}
                then 1 - {{ safe_divide('usage_current', 'usage_baseline') }}
        end as usage_drop_pct
    from windowed
),

flags as (
    select
        *,
        coalesce(usage_drop_pct >= {{ var('plg_churn_drop_threshold') }}, false) as has_usage_drop,
        key_user_exits_recent > 0 as has_key_user_offboarded,
        -- a shift: enough negative tickets lately, at a higher daily rate than in the baseline
        negative_tickets_recent >= {{ var('plg_churn_min_negative_tickets') }}
            and negative_tickets_recent * 1.0 / {{ var('plg_churn_sentiment_window_days') }}
                > coalesce(negative_tickets_baseline, 0) * 1.0 / {{ var('plg_churn_sentiment_baseline_days') }}
            as has_negative_support,
        downgrades_recent > 0 as has_downgrade
    from signals
),

scored as (
    select
        *,
        least(100,
            case when has_usage_drop then {{ w['usage_drop'] }} else 0 end
            + case when has_key_user_offboarded then {{ w['key_user_offboarded'] }} else 0 end
            + case when has_negative_support then {{ w['negative_support'] }} else 0 end
            + case when has_downgrade then {{ w['downgrade'] }} else 0 end
            + case when is_cancel_at_period_end then {{ w['cancel_at_period_end'] }} else 0 end
        ) as risk_score
    from flags
),

final as (
    select
        account_day_id,
        account_id,
        day,
        event_count,
        usage_current,
        usage_baseline,
        usage_drop_pct,
        has_usage_drop,
        has_key_user_offboarded,
        has_negative_support,
        -- rounded: window sums of doubles differ in the last bits between an incremental
        -- run and a rebuild, and a stored value should not depend on how it was computed
        round(sentiment_recent, 4) as sentiment_recent,
        round(sentiment_baseline, 4) as sentiment_baseline,
        negative_tickets_recent,
        negative_tickets_baseline,
        has_downgrade,
        is_cancel_at_period_end,
        is_canceled,
        risk_score,
        risk_score >= {{ var('plg_churn_risk_threshold') }} and not is_canceled as is_risk_signal,
        last_received_at
    from scored
    {% if is_incremental() %}
    where day >= {{ start }}
    {% endif %}
)

select * from final
