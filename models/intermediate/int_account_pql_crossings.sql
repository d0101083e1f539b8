-- One row per account and PQL crossing day (account_pql_daily.is_crossing_day) with the
-- moment the score crossed: the timestamp of the qualifying event that took the score to
-- the threshold. The day's score is replayed event by event:
--   score(e) = round(least(100, sum over signals of
--                 least(cap_points, points_per_unit * (units_before_the_day + units_that_day_up_to_e) / unit_size)), 1)
-- where units_before_the_day are the window's units on the days before (window_units -
-- units of the crossing day's row) and, for usage signals, the day's metered usage counts
-- from the start of the day (a daily figure has no time). Ties are ordered by event id.
-- When no single event crossed it (usage alone, or the window moved at midnight), the
-- crossing time is the start of the day.

with score_days as (
    select * from {{ ref('account_pql_daily') }}
),

signal_days as (
    select * from {{ ref('int_account_pql_signal_daily') }}
),

signals as (
    select * from {{ ref('plg_pql_signals') }}
),

events as (
    select * from {{ ref('stg_segment__tracks') }}
),

users as (
    select user_id, account_id from {{ ref('stg_app__users') }}
),

crossing_days as (
    select account_id, day
    from score_days
    where is_crossing_day
),

-- each signal's units before the first event of the crossing day
day_start as (
    select
        signal_days.account_id,
        signal_days.day,
        signal_days.signal_key,
        signals.source_type,
        signals.points_per_unit,
        signals.unit_size,
        signals.cap_points,
        case when signals.source_type = 'event'
             then signal_days.window_units - signal_days.units
             else signal_days.window_units
        end as units_at_day_start
    from signal_days
    inner join crossing_days
        on crossing_days.account_id = signal_days.account_id
        and crossing_days.day = signal_days.day
    inner join signals on signals.signal_key = signal_days.signal_key
),

day_events as (
    select
        coalesce(users.account_id, events.event_account_id) as account_id,
        events.occurred_date as day,
        events.occurred_at,
        events.event_id,
        signals.signal_key
    from events
    inner join signals
        on signals.source_type = 'event'
        and events.event_name = signals.source_name
    left join users on events.user_id = users.user_id
    where events.occurred_at < {{ plg_as_of() }}
),

ordered_events as (
    select
        day_events.*,
        row_number() over (
            partition by day_events.account_id, day_events.day
            order by day_events.occurred_at, day_events.event_id
        ) as event_number
    from day_events
    inner join crossing_days
        on crossing_days.account_id = day_events.account_id
        and crossing_days.day = day_events.day
),

-- every event of the day against every signal: the signal's units right after the event
grid as (
    select
        ordered_events.account_id,
        ordered_events.day,
        ordered_events.event_number,
        ordered_events.occurred_at,
        day_start.signal_key,
        day_start.points_per_unit,
        day_start.unit_size,
        day_start.cap_points,
        day_start.units_at_day_start
            + sum(case when ordered_events.signal_key = day_start.signal_key then 1 else 0 end) over (
                partition by ordered_events.account_id, ordered_events.day, day_start.signal_key
                order by ordered_events.event_number
                rows between unbounded preceding and current row
            ) as units_after_event
    from ordered_events
    inner join day_start
        on day_start.account_id = ordered_events.account_id
        and day_start.day = ordered_events.day
),

event_scores as (
    select
        account_id,
        day,
        event_number,
        occurred_at,
        round(least(100, sum(least(cap_points, points_per_unit * units_after_event / unit_size))), 1)
            as score_after_event
    from grid
    group by account_id, day, event_number, occurred_at
),

crossing_events as (
    select
        account_id,
        day,
        min(occurred_at) as crossing_event_at
    from event_scores
    where score_after_event >= {{ var('plg_pql_threshold') }}
    group by account_id, day
),

final as (
    select
        {{ surrogate_key(['crossing_days.account_id', 'crossing_days.day']) }} as account_day_id,
        crossing_days.account_id,
        crossing_days.day,
        coalesce(
            crossing_events.crossing_event_at,
            cast(crossing_days.day as {{ dbt.type_timestamp() }})
        ) as crossed_at,
        crossing_events.crossing_event_at is not null as is_crossed_by_event
    from crossing_days
    left join crossing_events
        on crossing_events.account_id = crossing_days.account_id
        and crossing_events.day = crossing_days.day
)

select * from final
