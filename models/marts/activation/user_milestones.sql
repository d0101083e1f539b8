-- One row per user (signed up by the as-of time, active or deactivated) and milestone of
-- seeds/plg_milestones.csv: whether and when the user reached the milestone's min_count
-- occurrences of its event, counting only events before the as-of time.

with users as (
    select * from {{ ref('stg_app__users') }}
),

milestones as (
    select * from {{ ref('plg_milestones') }}
),

user_event_days as (
    select * from {{ ref('int_user_event_daily') }}
),

user_event_firsts as (
    select * from {{ ref('int_user_event_firsts') }}
),

signed_up_users as (
    select
        user_id,
        account_id,
        created_at as signed_up_at
    from users
    where created_at <= {{ plg_as_of() }}
),

-- min_count 1: completed at the first event before the as-of time, which
-- int_user_event_firsts keeps per user and event (incremental: a new day adds only the
-- users and events seen that day)
first_event_completions as (
    select
        user_event_firsts.user_id,
        milestones.milestone_key,
        user_event_firsts.first_occurred_at as completed_at
    from user_event_firsts
    inner join milestones
        on user_event_firsts.event_name = milestones.event_name
    where milestones.min_count <= 1
      and user_event_firsts.first_occurred_at < {{ plg_as_of() }}
),

-- min_count above 1 needs running counts: per-day rows of each such milestone's event,
-- cut at the as-of time: a day that straddles it (first event before, last event at or
-- after) counts as one event at its first time
milestone_event_days as (
    select
        user_event_days.user_id,
        milestones.milestone_key,
        user_event_days.activity_date,
        case
            when user_event_days.last_occurred_at < {{ plg_as_of() }} then user_event_days.event_count
            else 1
        end as event_count,
        user_event_days.first_occurred_at,
        case
            when user_event_days.last_occurred_at < {{ plg_as_of() }} then user_event_days.last_occurred_at
            else user_event_days.first_occurred_at
        end as last_occurred_at
    from user_event_days
    inner join milestones
        on user_event_days.event_name = milestones.event_name
    where milestones.min_count > 1
      and user_event_days.first_occurred_at < {{ plg_as_of() }}
),

cumulative_counts as (
    select
        milestone_event_days.*,
        sum(event_count) over (
            partition by user_id, milestone_key
            order by activity_date
            rows between unbounded preceding and current row
        ) as cumulative_count
    from milestone_event_days
),

-- the first day on which the running count reaches min_count
reaching_days as (
    select
        cumulative_counts.user_id,
        cumulative_counts.milestone_key,
        cumulative_counts.first_occurred_at,
        cumulative_counts.last_occurred_at,
        cumulative_counts.cumulative_count - cumulative_counts.event_count as count_before_day,
        milestones.min_count,
        row_number() over (
            partition by cumulative_counts.user_id, cumulative_counts.milestone_key
            order by cumulative_counts.activity_date
        ) as reaching_day_number
    from cumulative_counts
    inner join milestones
        on cumulative_counts.milestone_key = milestones.milestone_key
    where cumulative_counts.cumulative_count >= milestones.min_count
),

-- exact when the day's first event is the min_count-th (always so for min_count 1);
-- otherwise the day's last event, the earliest time known to include min_count events
running_count_completions as (
    select
        user_id,
        milestone_key,
        case
            when count_before_day + 1 >= min_count then first_occurred_at
            else last_occurred_at
        end as completed_at
    from reaching_days
    where reaching_day_number = 1
),

completions as (
    select * from first_event_completions
    union all
    select * from running_count_completions
),

user_milestone_grid as (
    select
        signed_up_users.user_id,
        signed_up_users.account_id,
        signed_up_users.signed_up_at,
        milestones.milestone_key,
        milestones.label as milestone_label,
        milestones.event_name,
        milestones.min_count,
        milestones.milestone_order,
        milestones.window_days
    from signed_up_users
    cross join milestones
),

timed as (
    select
        user_milestone_grid.*,
        completions.completed_at,
        {{ hours_between('user_milestone_grid.signed_up_at', 'completions.completed_at') }} as raw_hours_from_signup
    from user_milestone_grid
    left join completions
        on user_milestone_grid.user_id = completions.user_id
        and user_milestone_grid.milestone_key = completions.milestone_key
),

final as (
    select
        {{ surrogate_key(['user_id', 'milestone_key']) }} as user_milestone_id,
        user_id,
        account_id,
        signed_up_at,
        milestone_key,
        milestone_label,
        event_name,
        cast(min_count as {{ dbt.type_int() }}) as min_count,
        cast(milestone_order as {{ dbt.type_int() }}) as milestone_order,
        cast(window_days as {{ dbt.type_int() }}) as window_days,
        completed_at is not null as is_completed,
        completed_at,
        cast(
            case
                when raw_hours_from_signup is null then null
                when raw_hours_from_signup < 0 then 0
                else round(raw_hours_from_signup, 2)
            end
            as {{ plg_type_double() }}
        ) as hours_from_signup,
        coalesce(raw_hours_from_signup < window_days * 24, false) as is_completed_within_window
    from timed
)

select * from final
