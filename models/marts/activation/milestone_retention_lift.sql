-- Which early events go with day-N retention? For the plg_lift_top_n_events most common
-- event names: retention of users who did the event in their first plg_lift_first_days
-- days against users who did not, with Wilson score intervals, among users old enough to
-- have a complete retention window before the as-of date. Ratios are rounded to 6 places
-- (significance is decided before rounding).

{%- set retention_day = var('plg_retention_day') %}
{%- set retention_end_day = var('plg_retention_day') + var('plg_retention_window_days') %}
{%- set z = var('plg_lift_confidence_z') %}

with users as (
    select * from {{ ref('stg_app__users') }}
),

user_event_firsts as (
    select * from {{ ref('int_user_event_firsts') }}
),

user_active_days as (
    select * from {{ ref('int_user_daily_activity') }}
),

milestones as (
    select * from {{ ref('plg_milestones') }}
),

milestone_events as (
    select distinct event_name from milestones
),

-- one row per user and event first sent before the as-of time (int_user_event_firsts):
-- "did it within the first days" holds when the first day does, as the bound is an upper one
events_before_as_of as (
    select
        user_id,
        event_name,
        first_activity_date
    from user_event_firsts
    where first_occurred_at < {{ plg_as_of() }}
),

event_popularity as (
    select
        event_name,
        count(*) as users_ever_count
    from events_before_as_of
    group by event_name
),

candidate_events as (
    select
        event_name,
        users_ever_count,
        row_number() over (order by users_ever_count desc, event_name) as popularity_rank
    from event_popularity
),

top_events as (
    select * from candidate_events
    where popularity_rank <= {{ var('plg_lift_top_n_events') }}
),

-- users whose whole retention window lies before the as-of date
cohort as (
    select
        user_id,
        cast(created_at as date) as signup_date
    from users
    where {{ days_between('cast(created_at as date)', plg_as_of_date()) }} >= {{ retention_end_day }}
),

retained_users as (
    select distinct cohort.user_id
    from cohort
    inner join user_active_days
        on cohort.user_id = user_active_days.user_id
    where {{ days_between('cohort.signup_date', 'user_active_days.activity_date') }} >= {{ retention_day }}
      and {{ days_between('cohort.signup_date', 'user_active_days.activity_date') }} < {{ retention_end_day }}
),

cohort_retention as (
    select
        cohort.user_id,
        cohort.signup_date,
        case when retained_users.user_id is not null then 1 else 0 end as retained_flag
    from cohort
    left join retained_users
        on cohort.user_id = retained_users.user_id
),

cohort_totals as (
    select
        count(*) as cohort_count,
        coalesce(sum(retained_flag), 0) as cohort_retained_count
    from cohort_retention
),

-- early = signup day up to day plg_lift_first_days - 1 (events stamped before signup by a
-- skewed client clock count as early)
early_event_users as (
    select
        cohort_retention.user_id,
        cohort_retention.retained_flag,
        events_before_as_of.event_name
    from cohort_retention
    inner join events_before_as_of
        on cohort_retention.user_id = events_before_as_of.user_id
    where {{ days_between('cohort_retention.signup_date', 'events_before_as_of.first_activity_date') }}
        < {{ var('plg_lift_first_days') }}
),

did_counts as (
    select
        event_name,
        count(*) as users_did_count,
        sum(retained_flag) as retained_did_count
    from early_event_users
    group by event_name
),

group_counts as (
    select
        top_events.event_name,
        top_events.popularity_rank,
        coalesce(did_counts.users_did_count, 0) as users_did_count,
        coalesce(did_counts.retained_did_count, 0) as retained_did_count,
        cohort_totals.cohort_count - coalesce(did_counts.users_did_count, 0) as users_did_not_count,
        cohort_totals.cohort_retained_count - coalesce(did_counts.retained_did_count, 0)
            as retained_did_not_count
    from top_events
    cross join cohort_totals
    left join did_counts
        on top_events.event_name = did_counts.event_name
),

rates as (
    select
        group_counts.*,
        cast(retained_did_count as {{ plg_type_double() }}) / nullif(users_did_count, 0)
            as retention_did_pct,
        cast(retained_did_not_count as {{ plg_type_double() }}) / nullif(users_did_not_count, 0)
            as retention_did_not_pct,
        {{ plg_wilson_lower('retained_did_count', 'users_did_count', z) }} as retention_did_ci_lower,
        {{ plg_wilson_upper('retained_did_count', 'users_did_count', z) }} as retention_did_ci_upper,
        {{ plg_wilson_lower('retained_did_not_count', 'users_did_not_count', z) }}
            as retention_did_not_ci_lower,
        {{ plg_wilson_upper('retained_did_not_count', 'users_did_not_count', z) }}
            as retention_did_not_ci_upper
    from group_counts
),

compared as (
    select
        rates.*,
        {{ safe_divide('retention_did_pct', 'retention_did_not_pct') }} as retention_lift,
        retention_did_pct - retention_did_not_pct as retention_difference,
        coalesce(
            retention_did_ci_lower > retention_did_not_ci_upper
            or retention_did_ci_upper < retention_did_not_ci_lower,
            false
        ) as is_significant,
        users_did_count >= {{ var('plg_lift_min_group_size') }}
            and users_did_not_count >= {{ var('plg_lift_min_group_size') }} as has_enough_data,
        milestone_events.event_name is not null as is_configured_milestone
    from rates
    left join milestone_events
        on rates.event_name = milestone_events.event_name
),

ranked as (
    select
        compared.*,
        case
            when has_enough_data then rank() over (
                partition by has_enough_data
                order by case when retention_lift is null then 1 else 0 end, retention_lift desc
            )
        end as lift_rank
    from compared
),

final as (
    select
        event_name,
        cast(popularity_rank as {{ dbt.type_int() }}) as popularity_rank,
        cast(users_did_count as {{ dbt.type_int() }}) as users_did_count,
        cast(users_did_not_count as {{ dbt.type_int() }}) as users_did_not_count,
        cast(retained_did_count as {{ dbt.type_int() }}) as retained_did_count,
        cast(retained_did_not_count as {{ dbt.type_int() }}) as retained_did_not_count,
        round(retention_did_pct, 6) as retention_did_pct,
        round(retention_did_not_pct, 6) as retention_did_not_pct,
        round(retention_lift, 6) as retention_lift,
        round(retention_difference, 6) as retention_difference,
        round(retention_did_ci_lower, 6) as retention_did_ci_lower,
        round(retention_did_ci_upper, 6) as retention_did_ci_upper,
        round(retention_did_not_ci_lower, 6) as retention_did_not_ci_lower,
        round(retention_did_not_ci_upper, 6) as retention_did_not_ci_upper,
        is_significant,
        has_enough_data,
        is_configured_milestone,
        cast(lift_rank as {{ dbt.type_int() }}) as lift_rank
    from ranked
)

select * from final
