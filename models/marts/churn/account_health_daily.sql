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
{%- set kw = var('plg_churn_key_user_lookback_days') -%}
{%- set sw = var('plg_churn_sentiment_window_days') -%}
{%- set sb = var('plg_churn_sentiment_baseline_days') -%}
{%- set dw = var('plg_churn_downgrade_lookback_days') -%}
{%- set w = var('plg_churn_weights') -%}
{#- every day offset a window reads: each is one join to the stored running totals -#}
{%- set offsets = [cur, cur + base, kw, sw, sw + sb, dw] | unique | sort -%}
{%- set sparse = ['key_user_exit_count', 'negative_ticket_count', 'sentiment_sum', 'scored_ticket_count', 'downgrade_count'] -%}
{%- set totals = ['event_count', 'day_count'] + sparse -%}
{%- set start = '(select start_day from run_start)' if is_incremental() else none -%}
-- Daily churn-risk history, one row per account and day of int_account_days (the as-of
-- day too, counted up to plg_as_of). Each day's score is what was knowable that day, so
-- "at risk yesterday, recovered today" is a fact here.
--   usage_current  = events in the {{ cur }} x 24 hours ending that day (at plg_as_of on
--                    the as-of day: the day so far, the {{ cur - 1 }} days before, and the
--                    not yet elapsed share of the day {{ cur }} days earlier, prorated)
--   usage_baseline = events in the {{ base }} x 24 hours before those (prorated the same way)
--   usage drop     = 1 - current / baseline, evaluated when baseline >= plg_churn_min_baseline_events
--   risk_score     = least(100, sum of the weights (var plg_churn_weights) of the signals on)
-- Windows come from running totals: every row stores cumulative_<count> (the sum from
-- the account's first day), and an N-day window is cumulative[d] - cumulative[d - N].
-- An incremental run recomputes days from the newest built day minus the lookback, or
-- from the oldest day that received events since this model's newest receipt
-- (last_received_at), or from the oldest day whose tickets, key-user exits or downgrades
-- differ from the stored per-day counts (a late ticket or rating); it continues the
-- running totals from the stored day before and reads stored totals only at the window
-- offsets, so a new day costs new days, not the {{ sw + sb }}-day sentiment history.
-- Changing a window var or upgrading from a version without the running totals needs
-- `--full-refresh` of this model.

with account_days as (
    select * from {{ ref('int_account_days') }}
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
        -- exact decimal sums, so the running totals give the same answer however computed
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

{% if is_incremental() %}
-- the per-day counts of tickets, key-user exits and downgrades as the sources say now,
-- against what the stored rows counted: the oldest day that differs is recomputed
sparse_now as (
    select
        coalesce(coalesce(ticket_days.account_id, key_user_exits.account_id), downgrade_days.account_id) as account_id,
        coalesce(coalesce(ticket_days.day, key_user_exits.day), downgrade_days.day) as day,
        coalesce(key_user_exits.key_user_exit_count, 0) as key_user_exit_count,
        coalesce(ticket_days.negative_ticket_count, 0) as negative_ticket_count,
        coalesce(ticket_days.sentiment_sum, 0) as sentiment_sum,
        coalesce(ticket_days.scored_ticket_count, 0) as scored_ticket_count,
        coalesce(downgrade_days.downgrade_count, 0) as downgrade_count
    from ticket_days
    full outer join key_user_exits
        on key_user_exits.account_id = ticket_days.account_id and key_user_exits.day = ticket_days.day
    full outer join downgrade_days
        on downgrade_days.account_id = coalesce(ticket_days.account_id, key_user_exits.account_id)
        and downgrade_days.day = coalesce(ticket_days.day, key_user_exits.day)
),

-- a stored day whose counts differ from the sources (a late ticket or rating, a late
-- exit or downgrade), or a stored count the sources no longer hold
sparse_changed as (
    select min(day) as day
    from (
        select stored.day
        from sparse_now
        inner join {{ this }} as stored
            on stored.account_id = sparse_now.account_id and stored.day = sparse_now.day
        where {% for c in sparse %}coalesce(stored.{{ c }}, 0) <> sparse_now.{{ c }}{% if not loop.last %} or {% endif %}{% endfor %}
        union all
        select stored.day
        from {{ this }} as stored
        left join sparse_now
            on sparse_now.account_id = stored.account_id and sparse_now.day = stored.day
        where sparse_now.account_id is null
          and ({% for c in sparse %}stored.{{ c }} <> 0{% if not loop.last %} or {% endif %}{% endfor %})
    ) as changed_days
),

run_start as (
    select
        case
            when (select day from sparse_changed) < {{ plg_incremental_start('day', ref('int_account_daily_activity')) }}
                then (select day from sparse_changed)
            else {{ plg_incremental_start('day', ref('int_account_daily_activity')) }}
        end as start_day
),
{% endif %}

new_days as (
    select * from account_days
    {% if is_incremental() %}
    where day >= {{ start }}
    {% endif %}
),

-- the subscription version in force when each day ends (at the next midnight UTC), by
-- the same rules as int_account_billing: plg_version_in_force (an open version has a
-- null or far-future end) and, with several subscriptions, plg_version_preference
day_version_candidates as (
    select
        new_days.account_id,
        new_days.day,
        versions.status,
        versions.is_cancel_at_period_end,
        row_number() over (
            partition by new_days.account_id, new_days.day
            order by {{ plg_version_preference('versions') }}
        ) as preference
    from new_days
    inner join versions
        on versions.account_id = new_days.account_id
        and {{ plg_version_in_force('versions', ts_add_days('cast(new_days.day as ' ~ dbt.type_timestamp() ~ ')', 1)) }}
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
        new_days.account_day_id,
        new_days.account_id,
        new_days.day,
        coalesce(activity.event_count, 0) as event_count,
        1 as day_count,
        activity.last_received_at,
        coalesce(key_user_exits.key_user_exit_count, 0) as key_user_exit_count,
        coalesce(ticket_days.negative_ticket_count, 0) as negative_ticket_count,
        coalesce(ticket_days.sentiment_sum, 0) as sentiment_sum,
        coalesce(ticket_days.scored_ticket_count, 0) as scored_ticket_count,
        coalesce(downgrade_days.downgrade_count, 0) as downgrade_count,
        coalesce(day_versions.is_cancel_at_period_end, false) as is_cancel_at_period_end,
        coalesce(day_versions.is_canceled, false) as is_canceled,
        {{ plg_day_elapsed_fraction('new_days.day') }} as day_fraction
    from new_days
    left join activity
        on activity.account_id = new_days.account_id and activity.activity_date = new_days.day
    left join key_user_exits
        on key_user_exits.account_id = new_days.account_id and key_user_exits.day = new_days.day
    left join ticket_days
        on ticket_days.account_id = new_days.account_id and ticket_days.day = new_days.day
    left join downgrade_days
        on downgrade_days.account_id = new_days.account_id and downgrade_days.day = new_days.day
    left join day_versions
        on day_versions.account_id = new_days.account_id and day_versions.day = new_days.day
),

running as (
    select
        *,
        {%- for c in totals %}
        sum({{ c }}) over (
            partition by account_id order by day rows between unbounded preceding and current row
        ) as running_{{ c }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from daily
),

{% if is_incremental() %}
-- the stored running totals of the day before the first recomputed day
carried as (
    select account_id, {% for c in totals %}cumulative_{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ this }}
    where day = {{ date_add_days(start, -1) }}
),

cumulative as (
    select
        running.*,
        {%- for c in totals %}
        running.running_{{ c }} + coalesce(carried.cumulative_{{ c }}, 0) as cumulative_{{ c }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from running
    left join carried on carried.account_id = running.account_id
),

-- stored rows only on the days a window of a recomputed day starts or ends at (each
-- recomputed day minus each offset): a few days per offset, not the {{ offsets | max }}-day history
history as (
    select account_id, day, event_count, {% for c in totals %}cumulative_{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ this }}
    where day < {{ start }}
      and day >= {{ date_add_days(start, -1 * (offsets | max)) }}
      and ({% for k in offsets %}
          (day >= {{ date_add_days(start, -1 * k) }} and day <= {{ date_add_days(plg_last_day(), -1 * k) }}){% if not loop.last %} or{% endif %}
      {%- endfor %}
      )
    union all
    select account_id, day, event_count, {% for c in totals %}cumulative_{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
    from cumulative
),
{% else %}
cumulative as (
    select
        running.*,
        {%- for c in totals %}
        running.running_{{ c }} as cumulative_{{ c }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from running
),

history as (
    select account_id, day, event_count, {% for c in totals %}cumulative_{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
    from cumulative
),
{% endif %}

windowed as (
    select
        cumulative.*,
        -- the share of the day {{ cur }} (and {{ cur + base }}) days earlier that still falls
        -- inside the {{ cur }} x 24 hours ending at plg_as_of: 0 on complete days
        cast(round((1 - cumulative.day_fraction) * coalesce(h{{ cur }}.event_count, 0), 0) as {{ dbt.type_bigint() }})
            as carried_into_current,
        cast(round((1 - cumulative.day_fraction) * coalesce(h{{ cur + base }}.event_count, 0), 0) as {{ dbt.type_bigint() }})
            as carried_into_baseline,
        {{ running_window('event_count', cur) }} as usage_current_days,
        {{ running_window('event_count', base, cur) }} as usage_baseline_days,
        {{ running_window('day_count', cur + base) }} as days_in_windows,
        {{ running_window('key_user_exit_count', kw) }} as key_user_exits_recent,
        {{ running_window('negative_ticket_count', sw) }} as negative_tickets_recent,
        {{ running_window('negative_ticket_count', sb, sw) }} as negative_tickets_baseline,
        {{ running_window('sentiment_sum', sw) }} as sentiment_sum_recent,
        {{ running_window('scored_ticket_count', sw) }} as scored_tickets_recent,
        {{ running_window('sentiment_sum', sb, sw) }} as sentiment_sum_baseline,
        {{ running_window('scored_ticket_count', sb, sw) }} as scored_tickets_baseline,
        {{ running_window('downgrade_count', dw) }} as downgrades_recent
    from cumulative
    {%- for k in offsets %}
    left join history as h{{ k }}
        on h{{ k }}.account_id = cumulative.account_id
        and h{{ k }}.day = {{ date_add_days('cumulative.day', -1 * k) }}
    {%- endfor %}
),

prorated as (
    select
        *,
        usage_current_days + carried_into_current as usage_current,
        usage_baseline_days - carried_into_current + carried_into_baseline as usage_baseline
    from windowed
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
    from prorated
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
        last_received_at,
        -- the day's own counts and the running totals the windows of later days read
        key_user_exit_count,
        negative_ticket_count,
        sentiment_sum,
        scored_ticket_count,
        downgrade_count,
        {%- for c in totals %}
        cumulative_{{ c }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from scored
    {% if is_incremental() %}
    where day >= {{ start }}
    {% endif %}
)

-- an incremental run writes only the rows that differ from the stored ones (macro
-- plg_changed_rows): the same table as rewriting every recomputed row
{%- set final_columns = ['account_day_id', 'account_id', 'day', 'event_count', 'usage_current',
    'usage_baseline', 'usage_drop_pct', 'has_usage_drop', 'has_key_user_offboarded',
    'has_negative_support', 'sentiment_recent', 'sentiment_baseline', 'negative_tickets_recent',
    'negative_tickets_baseline', 'has_downgrade', 'is_cancel_at_period_end', 'is_canceled',
    'risk_score', 'is_risk_signal', 'last_received_at'] + sparse -%}
{%- for c in totals %}{% do final_columns.append('cumulative_' ~ c) %}{% endfor %}
{{ plg_changed_rows('final', final_columns, 'day >= ' ~ start) }}
