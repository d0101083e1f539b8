-- One row per account: the behavioural PQL score now, whether the account is a PQL,
-- when it crossed the threshold (from the daily history) and why, in plain words.

with accounts as (
    select * from {{ ref('stg_app__accounts') }}
),

billing as (
    select * from {{ ref('int_account_billing') }}
),

signals as (
    select * from {{ ref('plg_pql_signals') }}
),

signal_days as (
    select * from {{ ref('int_account_pql_signal_daily') }}
),

-- the daily scores, read by three CTEs that each name it once: DuckDB stores a CTE read
-- more than once in full before the first read, every run
score_days as (
    select * from {{ ref('account_pql_daily') }}
),

current_score_days as (
    select * from {{ ref('account_pql_daily') }}
),

week_ago_score_days as (
    select * from {{ ref('account_pql_daily') }}
),

crossing_times as (
    select * from {{ ref('int_account_pql_crossings') }}
),

account_activity as (
    select * from {{ ref('int_account_daily_activity') }}
),

user_events as (
    select * from {{ ref('int_user_event_daily') }}
),

-- the latest day and the first and last crossings, in one pass over the history
score_history as (
    select
        account_id,
        max(day) as day,
        min(case when is_above_threshold then day end) as first_pql_reached_date,
        max(case when is_crossing_day then day end) as last_crossing_date
    from score_days
    group by account_id
),

latest_day as (
    select account_id, day from score_history
),

current_score as (
    select score_days.*
    from current_score_days as score_days
    inner join latest_day
        on score_days.account_id = latest_day.account_id
        and score_days.day = latest_day.day
),

week_ago_score as (
    select score_days.account_id, score_days.pql_score
    from week_ago_score_days as score_days
    inner join latest_day
        on score_days.account_id = latest_day.account_id
        and score_days.day = {{ date_add_days('latest_day.day', -7) }}
),

crossings as (
    select account_id, first_pql_reached_date, last_crossing_date from score_history
),

current_signals as (
    select
        signal_days.account_id,
        signal_days.signal_key,
        signal_days.window_units,
        signal_days.points,
        signals.label,
        signals.window_days,
        row_number() over (
            partition by signal_days.account_id
            order by signal_days.points desc, signal_days.signal_key
        ) as reason_rank
    from signal_days
    inner join latest_day
        on signal_days.account_id = latest_day.account_id
        and signal_days.day = latest_day.day
    inner join signals on signal_days.signal_key = signals.signal_key
    where signal_days.points > 0
),

reasons as (
    select
        account_id,
        {{ dbt.listagg(
            dbt.concat(["label", "' ('", "cast(cast(round(window_units, 0) as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")",
                        "' in '", "cast(window_days as " ~ dbt.type_string() ~ ")", "' days, +'",
                        "cast(cast(round(points, 0) as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")", "' pts)'"]),
            "'; '",
            "order by points desc, signal_key") }} as pql_reasons,
        max(case when reason_rank = 1 then signal_key end) as top_signal_key
    from current_signals
    where reason_rank <= {{ var('plg_pql_top_reasons') }}
    group by account_id
),

signal_summary as (
    select
        account_id,
        {{ dbt.listagg(
            dbt.concat(["signal_key", "'='", "cast(cast(round(points, 0) as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")"]),
            "', '",
            "order by signal_key") }} as signal_points
    from current_signals
    group by account_id
),

recent_activity as (
    select
        account_id,
        sum(event_count) as events_7d,
        max(activity_date) as last_active_date
    from account_activity
    where activity_date >= {{ plg_window_start_day(var('plg_recent_activity_days')) }}
      and activity_date <= {{ plg_last_day() }}
    group by account_id
),

event_signal_names as (
    select distinct source_name as event_name from signals where source_type = 'event'
),

recent_users as (
    select
        user_events.account_id,
        count(distinct user_events.user_id) as active_users_7d,
        sum(case when event_signal_names.event_name is not null
                 then user_events.event_count else 0 end) as key_events_7d
    from user_events
    left join event_signal_names on user_events.event_name = event_signal_names.event_name
    where user_events.activity_date >= {{ plg_window_start_day(var('plg_recent_activity_days')) }}
      and user_events.first_occurred_at < {{ plg_as_of() }}
    group by user_events.account_id
),

final as (
    select
        accounts.account_id,
        accounts.account_name,
        billing.plan,
        billing.status as subscription_status,
        coalesce(billing.mrr, 0) as mrr,
        billing.seats,
        coalesce(
            (
                billing.plan in {{ in_list(var('plg_pql_eligible_plans')) }}
                or billing.status in {{ in_list(var('plg_pql_eligible_statuses')) }}
            ) and coalesce(billing.status, '') <> 'canceled',
            false
        ) as is_pql_eligible,
        coalesce(current_score.pql_score, 0) as pql_score,
        {{ var('plg_pql_threshold') }} as pql_threshold,
        coalesce(
            (
                billing.plan in {{ in_list(var('plg_pql_eligible_plans')) }}
                or billing.status in {{ in_list(var('plg_pql_eligible_statuses')) }}
            ) and coalesce(billing.status, '') <> 'canceled'
            and current_score.pql_score >= {{ var('plg_pql_threshold') }},
            false
        ) as is_pql,
        -- the moment of the event that crossed the threshold (int_account_pql_crossings)
        case when current_score.pql_score >= {{ var('plg_pql_threshold') }}
             then last_crossing.crossed_at end as pql_reached_at,
        first_crossing.crossed_at as first_pql_reached_at,
        coalesce(current_score.pql_score, 0) - coalesce(week_ago_score.pql_score, 0) as pql_score_change_7d,
        reasons.pql_reasons,
        reasons.top_signal_key,
        signal_summary.signal_points,
        coalesce(recent_users.active_users_7d, 0) as active_users_7d,
        coalesce(recent_activity.events_7d, 0) as events_7d,
        coalesce(recent_users.key_events_7d, 0) as key_events_7d,
        recent_activity.last_active_date
    from accounts
    left join billing on accounts.account_id = billing.account_id
    left join current_score on accounts.account_id = current_score.account_id
    left join week_ago_score on accounts.account_id = week_ago_score.account_id
    left join crossings on accounts.account_id = crossings.account_id
    left join crossing_times as last_crossing
        on crossings.account_id = last_crossing.account_id
        and crossings.last_crossing_date = last_crossing.day
    left join crossing_times as first_crossing
        on crossings.account_id = first_crossing.account_id
        and crossings.first_pql_reached_date = first_crossing.day
    left join reasons on accounts.account_id = reasons.account_id
    left join signal_summary on accounts.account_id = signal_summary.account_id
    left join recent_activity on accounts.account_id = recent_activity.account_id
    left join recent_users on accounts.account_id = recent_users.account_id
)

select * from final
