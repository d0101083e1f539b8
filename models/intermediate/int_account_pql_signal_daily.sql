{{
    config(
        materialized='incremental',
        unique_key='account_signal_day_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
        partition_by=plg_day_partition('day'),
        cluster_by=plg_day_cluster('day'),
    )
}}
{#- the first recomputed day, read once as a literal (plg_incremental_value): as a scalar
    subquery DuckDB joined it to every stored row instead of filtering the scans -#}
{%- set start = plg_incremental_value(plg_incremental_start('day', ref('int_account_daily_activity')), 'date') if is_incremental() else none -%}
-- One row per account, PQL signal and day (dense): units that day and the points the
-- signal is worth on that day over its rolling window:
--   points = least(cap_points, points_per_unit * units_in_window / unit_size)
-- where units_in_window sums the units on days (day - window_days, day].
-- Event signals count events (from int_user_event_daily, before the as-of time); usage
-- signals sum a metered metric (from stg_app__usage_daily, up to the as-of day: today's
-- row, when the app already wrote one, counts as it stands).
-- The last day is the as-of day so far (macros/plg_intraday.sql); its row grows during
-- the day and every incremental run recomputes it.

-- Incremental: days from the newest built day minus the lookback are recomputed, or from
-- the oldest day that received events since this model's newest receipt (last_received_at,
-- plg_incremental_start with changes), so a late event is counted however late; the
-- running total continues from the stored cumulative_units of the day before, and the
-- window subtracts the stored total from window_days earlier. Changing the signals seed
-- (a new signal or another window) needs `--full-refresh` of this model.

with signals as (
    select * from {{ ref('plg_pql_signals') }}
),

account_days as (
    select * from {{ ref('int_account_days') }}
    {% if is_incremental() %}
    where day >= {{ start }}
    {% endif %}
),

user_events as (
    select * from {{ ref('int_user_event_daily') }}
),

usage as (
    select * from {{ ref('stg_app__usage_daily') }}
),

activity as (
    select * from {{ ref('int_account_daily_activity') }}
    {% if is_incremental() %}
    where activity_date >= {{ start }}
    {% endif %}
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
    {% if is_incremental() %}
      and user_events.activity_date >= {{ start }}
    {% endif %}
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
    where usage.usage_date <= {{ plg_last_day() }}
    {% if is_incremental() %}
      and usage.usage_date >= {{ start }}
    {% endif %}
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
        coalesce(units.units, 0) as units,
        activity.last_received_at
    from account_days
    cross join signals
    left join units
        on units.account_id = account_days.account_id
        and units.signal_key = signals.signal_key
        and units.day = account_days.day
    left join activity
        on activity.account_id = account_days.account_id
        and activity.activity_date = account_days.day
),

running as (
    select
        *,
        sum(units) over (
            partition by account_id, signal_key order by day
            rows between unbounded preceding and current row
        ) as running_units
    from dense
),

{% if is_incremental() %}
carried as (
    select account_id, signal_key, cumulative_units
    from {{ this }}
    where day = {{ date_add_days(start, -1) }}
),

cumulative as (
    select
        running.*,
        running.running_units + coalesce(carried.cumulative_units, 0) as cumulative_units
    from running
    left join carried
        on carried.account_id = running.account_id
        and carried.signal_key = running.signal_key
),

-- the stored running totals a recomputed day's window subtracts (the total window_days
-- before it): per signal only the days from the first recomputed day to the as-of day,
-- each minus window_days, not the whole window
history as (
    select stored.account_id, stored.signal_key, stored.day, stored.cumulative_units
    from {{ this }} as stored
    inner join signals on signals.signal_key = stored.signal_key
    where stored.day < {{ start }}
      and stored.day >= {{ date_add_days(start, '-1 * signals.window_days') }}
      and stored.day <= {{ date_add_days(plg_last_day(), '-1 * signals.window_days') }}
    union all
    select account_id, signal_key, day, cumulative_units
    from cumulative
),
{% else %}
cumulative as (
    select running.*, running.running_units as cumulative_units
    from running
),

history as (
    select account_id, signal_key, day, cumulative_units
    from cumulative
),
{% endif %}

windowed as (
    select
        cumulative.account_id,
        cumulative.day,
        cumulative.signal_key,
        cumulative.units,
        cumulative.cumulative_units,
        cumulative.cumulative_units - coalesce(before_window.cumulative_units, 0) as window_units,
        cumulative.points_per_unit,
        cumulative.unit_size,
        cumulative.cap_points,
        cumulative.last_received_at
    from cumulative
    left join history as before_window
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
        cumulative_units,
        window_units,
        least(cap_points, points_per_unit * window_units / unit_size) as points,
        last_received_at
    from windowed
)

-- an incremental run writes only the rows that differ from the stored ones (macro
-- plg_changed_rows): the same table as rewriting every recomputed row
{{ plg_changed_rows('final', ['account_signal_day_id', 'account_id', 'signal_key', 'day', 'units', 'cumulative_units', 'window_units', 'points', 'last_received_at'], 'day >= ' ~ start) }}
