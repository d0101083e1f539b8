{%- set frac = var('plg_churn_recovery_fraction') -%}
{%- set w = var('plg_churn_weights') -%}
-- One row per account: churn risk now, why, and the exit condition.
-- An at-risk episode starts on the first day of a run of at least
-- plg_churn_min_signal_days days with the daily risk score at/above the threshold, and lasts until the first later day on which the score is below the threshold AND
-- usage is back to at least plg_churn_recovery_fraction of the baseline measured when
-- the episode started. (Comparing with the rolling baseline instead would "recover"
-- every account once the low period itself became the baseline.)
-- risk_state names where the account is in that cycle, so a CSM never reads a bare
-- contradiction (at risk with score 0): at_risk (open episode, today a risk day),
-- awaiting_recovery (open episode, the score fell below the threshold but usage is not
-- back to the episode's baseline yet), recovered (the latest episode ended within
-- plg_churn_recovered_window_days), none; risk_state_reason says why in words.

-- the daily history, read by five CTEs that each name it once: DuckDB stores a CTE read
-- more than once in full (every column of every day) before the first read, every run
with history as (
    select * from {{ ref('account_health_daily') }}
),

history_at_start as (
    select * from {{ ref('account_health_daily') }}
),

history_after_start as (
    select * from {{ ref('account_health_daily') }}
),

history_days as (
    select * from {{ ref('account_health_daily') }}
),

history_latest as (
    select * from {{ ref('account_health_daily') }}
),

accounts as (
    select * from {{ ref('stg_app__accounts') }}
),

billing as (
    select * from {{ ref('int_account_billing') }}
),

offboarding as (
    select * from {{ ref('int_user_offboarding') }}
),

users as (
    select * from {{ ref('stg_app__users') }}
),

changes as (
    select * from {{ ref('int_subscription_changes') }}
),

-- runs of consecutive signal days; a run counts once it lasted plg_churn_min_signal_days
-- (a one-day dip is noise), and the episode then starts on the run's first day.
-- The history is dense (one row per account and day of int_account_days), so a run is an
-- island of consecutive dates among the signal days alone: day minus its rank among the
-- account's signal days is constant along a run. Numbering only the signal days keeps
-- the window off the whole history (issue 19).
signal_days as (
    select
        account_id,
        day,
        row_number() over (partition by account_id order by day) as signal_day_number
    from history
    where is_risk_signal
),

signal_runs as (
    select
        account_id,
        {{ date_add_days('day', '-1 * signal_day_number') }} as run_key,
        min(day) as started_on,
        count(*) as run_days
    from signal_days
    group by account_id, {{ date_add_days('day', '-1 * signal_day_number') }}
),

episode_starts as (
    select
        signal_runs.account_id,
        {{ date_add_days('signal_runs.started_on', var('plg_churn_min_signal_days') - 1) }} as confirmed_on,
        signal_runs.started_on,
        history.usage_baseline as baseline_at_start
    from signal_runs
    inner join history_at_start as history
        on history.account_id = signal_runs.account_id
        and history.day = signal_runs.started_on
    where signal_runs.run_days >= {{ var('plg_churn_min_signal_days') }}
),

episodes as (
    select
        episode_starts.account_id,
        episode_starts.started_on,
        episode_starts.baseline_at_start,
        min(history.day) as recovered_on
    from episode_starts
    left join history_after_start as history
        on history.account_id = episode_starts.account_id
        and history.day > episode_starts.confirmed_on
        and not history.is_risk_signal
        and not history.is_canceled
        and history.usage_current >= {{ frac }} * coalesce(episode_starts.baseline_at_start, 0)
    group by 1, 2, 3
),

-- overlapping episodes merge: a start before the previous episode ended continues it
ordered as (
    select
        *,
        max(coalesce(recovered_on, cast('9999-12-31' as date))) over (
            partition by account_id order by started_on
            rows between unbounded preceding and 1 preceding
        ) as previous_end
    from episodes
),

numbered as (
    select
        *,
        sum(case when previous_end is null or started_on >= previous_end then 1 else 0 end) over (
            partition by account_id order by started_on rows between unbounded preceding and current row
        ) as episode_number
    from ordered
),

merged as (
    select
        account_id,
        episode_number,
        min(started_on) as started_on,
        max(coalesce(recovered_on, cast('9999-12-31' as date))) as ended_on,
        -- the exit still to meet: the highest starting baseline among the runs not yet
        -- recovered (each must get back to plg_churn_recovery_fraction of its own)
        max(case when recovered_on is null then baseline_at_start end) as open_baseline
    from numbered
    group by 1, 2
),

latest_episode as (
    select
        *,
        row_number() over (partition by account_id order by started_on desc) as recency
    from merged
),

latest_day as (
    select account_id, max(day) as day from history_days group by account_id
),

today as (
    select history.*
    from history_latest as history
    inner join latest_day
        on history.account_id = latest_day.account_id and history.day = latest_day.day
),

latest_key_user_exit as (
    select
        offboarding.account_id,
        users.email,
        offboarding.role,
        offboarding.deactivated_at,
        row_number() over (partition by offboarding.account_id order by offboarding.deactivated_at desc) as recency
    from offboarding
    inner join users on offboarding.user_id = users.user_id
    where offboarding.is_key_user
      and offboarding.deactivated_at <= {{ plg_as_of() }}
),

latest_downgrade as (
    select
        changes.*,
        row_number() over (partition by account_id order by changed_at desc) as recency
    from changes
    where change_kind in ('plan_downgrade', 'seat_reduction', 'mrr_reduction')
      and changed_at <= {{ plg_as_of() }}
),

reason_rows as (
    select account_id, 'usage_drop' as reason_key, {{ w['usage_drop'] }} as points,
        {{ dbt.concat(["'usage down '",
                       "cast(cast(round(100 * usage_drop_pct, 0) as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")",
                       "'% ('", "cast(usage_baseline as " ~ dbt.type_string() ~ ")", "' -> '",
                       "cast(usage_current as " ~ dbt.type_string() ~ ")",
                       "' events, last " ~ var('plg_churn_current_window_days') ~ " days vs the " ~ var('plg_churn_baseline_window_days') ~ " before)'"]) }} as reason
    from today where has_usage_drop
    union all
    select today.account_id, 'key_user_offboarded', {{ w['key_user_offboarded'] }},
        {{ dbt.concat(["'key user offboarded: '", "coalesce(latest_key_user_exit.email, 'unknown')",
                       "' ('", "coalesce(latest_key_user_exit.role, 'user')", "') deactivated '",
                       "cast(" ~ days_between('cast(latest_key_user_exit.deactivated_at as date)', plg_as_of_date()) ~ " as " ~ dbt.type_string() ~ ")",
                       "' days ago'"]) }}
    from today
    left join latest_key_user_exit
        on today.account_id = latest_key_user_exit.account_id and latest_key_user_exit.recency = 1
    where today.has_key_user_offboarded
    union all
    select account_id, 'negative_support', {{ w['negative_support'] }},
        {{ dbt.concat(["cast(negative_tickets_recent as " ~ dbt.type_string() ~ ")",
                       "' negative support tickets in " ~ var('plg_churn_sentiment_window_days') ~ " days (sentiment '",
                       plg_number_text("round(sentiment_recent, 2)"),
                       "coalesce(" ~ dbt.concat(["' vs '", plg_number_text("round(sentiment_baseline, 2)"), "' before'"]) ~ ", '')",
                       "')'"]) }}
    from today where has_negative_support
    union all
    select today.account_id, 'downgrade', {{ w['downgrade'] }},
        {{ dbt.concat(["replace(coalesce(latest_downgrade.change_kind, 'downgrade'), '_', ' ')", "': '",
                       "coalesce(latest_downgrade.previous_plan, '?')", "' -> '", "coalesce(latest_downgrade.plan, '?')",
                       "', seats '", "coalesce(cast(latest_downgrade.previous_seats as " ~ dbt.type_string() ~ "), '?')",
                       "' -> '", "coalesce(cast(latest_downgrade.seats as " ~ dbt.type_string() ~ "), '?')", "', '",
                       "cast(" ~ days_between('cast(latest_downgrade.changed_at as date)', plg_as_of_date()) ~ " as " ~ dbt.type_string() ~ ")",
                       "' days ago'"]) }}
    from today
    left join latest_downgrade
        on today.account_id = latest_downgrade.account_id and latest_downgrade.recency = 1
    where today.has_downgrade
    union all
    select account_id, 'cancel_at_period_end', {{ w['cancel_at_period_end'] }},
        'set to cancel at the end of the billing period'
    from today where is_cancel_at_period_end
),

ranked_reasons as (
    select
        *,
        row_number() over (partition by account_id order by points desc, reason_key) as reason_rank
    from reason_rows
),

reasons as (
    select
        account_id,
        {{ dbt.listagg('reason', "'; '", 'order by points desc, reason_key') }} as risk_reasons,
        max(case when reason_rank = 1 then reason_key end) as top_risk_reason_key
    from ranked_reasons
    group by account_id
),

assessed as (
    select
        accounts.account_id,
        accounts.account_name,
        billing.plan,
        billing.status as subscription_status,
        coalesce(billing.mrr, 0) as mrr,
        coalesce(billing.mrr_band, 'none') as mrr_band,
        coalesce(billing.mrr, 0) >= {{ var('plg_churn_min_mrr') }}
            and coalesce(billing.status, '') <> 'canceled' as is_scored,
        coalesce(today.risk_score, 0) as risk_score,
        case
            when billing.status = 'canceled' then 'churned'
            when coalesce(billing.mrr, 0) < {{ var('plg_churn_min_mrr') }} then 'not_scored'
            when coalesce(today.risk_score, 0) >= 75 then 'high'
            when coalesce(today.risk_score, 0) >= {{ var('plg_churn_risk_threshold') }} then 'medium'
            when coalesce(today.risk_score, 0) >= 25 then 'low'
            else 'none'
        end as risk_band,
        coalesce(
            latest_episode.ended_on = cast('9999-12-31' as date)
            and coalesce(billing.status, '') <> 'canceled'
            and coalesce(billing.mrr, 0) >= {{ var('plg_churn_min_mrr') }},
            false
        ) as is_at_risk,
        case when latest_episode.ended_on = cast('9999-12-31' as date)
             then cast(latest_episode.started_on as {{ dbt.type_timestamp() }}) end as at_risk_since,
        reasons.risk_reasons,
        reasons.top_risk_reason_key,
        today.usage_current,
        today.usage_baseline,
        today.usage_drop_pct,
        coalesce(today.has_usage_drop, false) as has_usage_drop,
        coalesce(today.has_key_user_offboarded, false) as has_key_user_offboarded,
        coalesce(today.has_negative_support, false) as has_negative_support,
        coalesce(today.has_downgrade, false) as has_downgrade,
        coalesce(today.is_cancel_at_period_end, false) as is_cancel_at_period_end,
        coalesce(
            latest_episode.ended_on < cast('9999-12-31' as date)
            and latest_episode.ended_on >= {{ plg_days_ago(var('plg_churn_recovered_window_days')) }}
            and coalesce(billing.status, '') <> 'canceled'
            and coalesce(billing.mrr, 0) >= {{ var('plg_churn_min_mrr') }},
            false
        ) as is_recovered,
        case when latest_episode.ended_on < cast('9999-12-31' as date)
             then cast(latest_episode.ended_on as {{ dbt.type_timestamp() }}) end as recovered_at,
        cast(latest_episode.started_on as {{ dbt.type_timestamp() }}) as last_episode_started_at,
        coalesce(today.is_risk_signal, false) as is_risk_day,
        case when latest_episode.ended_on = cast('9999-12-31' as date)
             then latest_episode.open_baseline end as episode_usage_baseline
    from accounts
    left join billing on accounts.account_id = billing.account_id
    left join today on accounts.account_id = today.account_id
    left join latest_episode
        on accounts.account_id = latest_episode.account_id and latest_episode.recency = 1
    left join reasons on accounts.account_id = reasons.account_id
),

with_progress as (
    select
        assessed.*,
        case when is_at_risk and episode_usage_baseline > 0
             then usage_current * 1.0 / episode_usage_baseline end as usage_vs_episode_baseline_pct
    from assessed
),

final as (
    select
        account_id,
        account_name,
        plan,
        subscription_status,
        mrr,
        mrr_band,
        is_scored,
        risk_score,
        risk_band,
        is_at_risk,
        at_risk_since,
        case
            when is_at_risk and is_risk_day then 'at_risk'
            when is_at_risk then 'awaiting_recovery'
            when is_recovered then 'recovered'
            else 'none'
        end as risk_state,
        case
            when is_at_risk and is_risk_day then
                {{ dbt.concat(["'risk score '", "cast(risk_score as " ~ dbt.type_string() ~ ")",
                               "' is at or above the threshold " ~ var('plg_churn_risk_threshold') ~ "; at risk since '",
                               "cast(cast(at_risk_since as date) as " ~ dbt.type_string() ~ ")"]) }}
            when is_at_risk and usage_vs_episode_baseline_pct is not null then
                {{ dbt.concat(["'usage at '", "cast(cast(round(100 * usage_vs_episode_baseline_pct, 0) as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")",
                               "'% of the " ~ var('plg_churn_baseline_window_days') ~ "-day baseline when the episode started (needs " ~ (var('plg_churn_recovery_fraction') * 100) | round | int ~ "%); risk score '",
                               "cast(risk_score as " ~ dbt.type_string() ~ ")",
                               "' is below the threshold " ~ var('plg_churn_risk_threshold') ~ "'"]) }}
            when is_at_risk then
                {{ dbt.concat(["'risk score '", "cast(risk_score as " ~ dbt.type_string() ~ ")",
                               "' is below the threshold " ~ var('plg_churn_risk_threshold') ~ "; the episode ends when usage is back to " ~ (var('plg_churn_recovery_fraction') * 100) | round | int ~ "% of the " ~ var('plg_churn_baseline_window_days') ~ "-day baseline when it started'"]) }}
            when is_recovered then
                {{ dbt.concat(["'recovered on '", "cast(cast(recovered_at as date) as " ~ dbt.type_string() ~ ")",
                               "': risk score below the threshold " ~ var('plg_churn_risk_threshold') ~ " and usage back to " ~ (var('plg_churn_recovery_fraction') * 100) | round | int ~ "% of the baseline when the episode started'"]) }}
        end as risk_state_reason,
        episode_usage_baseline,
        usage_vs_episode_baseline_pct,
        risk_reasons,
        top_risk_reason_key,
        usage_current,
        usage_baseline,
        usage_drop_pct,
        has_usage_drop,
        has_key_user_offboarded,
        has_negative_support,
        has_downgrade,
        is_cancel_at_period_end,
        is_recovered,
        recovered_at,
        last_episode_started_at
    from with_progress
)

select * from final
