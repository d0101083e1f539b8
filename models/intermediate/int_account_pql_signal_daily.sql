-- One row per account, PQL signal and day (dense): units that day and the points the
-- signal is worth on that day over its rolling window:
--   points = least(cap_points, points_per_unit * units_in_window / unit_size)
-- where units_in_window sums the units on days (day - window_days, day].
-- Event signals count events (from int_user_event_daily, before the as-of time); usage
-- signals sum a metered metric (from stg_app__usage_daily, complete days only).

with signals as (
    select * from {{ ref('plg_pql_signals') }}
),

account_days as (
    select * from {{ ref('int_account_days') }}
),

user_events as (
    select * from {{ ref('int_user_event_daily') }}
),

usage as (
    select * from {{ ref('stg_app__usage_daily') }}
),

event_units as (
    select
        user_events.account_id,
        signals.signal_key,
        user_events.activity_date as day,
        sum(user_events.event_count) as units
    from user_events
    inner join signals
        on signals.source_type = 'event'
        and user_events.event_name = signals.source_name
    where user_events.first_occurred_at < {{ plg_as_of() }}
    group by 1, 2, 3
),

usage_units as (
    select
        usage.account_id,
        signals.signal_key,
        usage.usage_date as day,
        sum(usage.usage_value) as units
    from usage
    inner join signals
        on signals.source_type = 'usage'
        and usage.metric = signals.source_name
    where usage.usage_date < {{ plg_as_of_date() }}
    group by 1, 2, 3
),

units as (
    select * from event_units
    union all
    select * from usage_units
),

dense as (
    select
        account_days.account_id,
        account_days.day,
        signals.signal_key,
        signals.window_days,
        signals.points_per_unit,
        signals.unit_size,
        signals.cap_points,
        coalesce(units.units, 0) as units
    from account_days
    cross join signals
    left join units
        on units.account_id = account_days.account_id
        and units.signal_key = signals.signal_key
        and units.day = account_days.day
),

cumulative as (
    select
        *,
        sum(units) over (
            partition by account_id, signal_key order by day
            rows between unbounded preceding and current row
        ) as cumulative_units
    from dense
),

windowed as (
    select
        cumulative.account_id,
        cumulative.day,
        cumulative.signal_key,
        cumulative.units,
        cumulative.cumulative_units - coalesce(before_window.cumulative_units, 0) as window_units,
        cumulative.points_per_unit,
        cumulative.unit_size,
        cumulative.cap_points
    from cumulative
    left join cumulative as before_window
        on before_window.account_id = cumulative.account_id
        and before_window.signal_key = cumulative.signal_key
        and before_window.day = {{ date_add_days('cumulative.day', '-1 * cumulative.window_days') }}
),

final as (
    select
        {{ surrogate_key(['account_id', 'signal_key', 'day']) }} as account_signal_day_id,
        account_id,
        signal_key,
        day,
        units,
        window_units,
        least(cap_points, points_per_unit * window_units / unit_size) as points
    from windowed
)

select * from final
