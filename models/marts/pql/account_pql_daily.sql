-- Daily PQL score history, one row per account and day:
--   pql_score = least(100, sum of the signals' points that day)
-- The first crossing of the threshold is read from this history, not from "now".

with signal_days as (
    select * from {{ ref('int_account_pql_signal_daily') }}
),

scored as (
    select
        account_id,
        day,
        round(least(100, sum(points)), 1) as pql_score,
        sum(units) as signal_units
    from signal_days
    group by account_id, day
),

flagged as (
    select
        *,
        pql_score >= {{ var('plg_pql_threshold') }} as is_above_threshold,
        lag(pql_score) over (partition by account_id order by day) as previous_pql_score
    from scored
),

final as (
    select
        {{ surrogate_key(['account_id', 'day']) }} as account_day_id,
        account_id,
        day,
        pql_score,
        signal_units,
        is_above_threshold,
        is_above_threshold
            and coalesce(previous_pql_score, 0) < {{ var('plg_pql_threshold') }} as is_crossing_day
    from flagged
)

select * from final
