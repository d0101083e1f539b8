-- user_milestones holds exactly one row per user of user_activation and milestone of the
-- seed, and no completed milestone has negative hours from signup.
with user_milestones as (
    select * from {{ ref('user_milestones') }}
),

user_activation as (
    select * from {{ ref('user_activation') }}
),

milestones as (
    select * from {{ ref('plg_milestones') }}
),

milestone_count as (
    select count(*) as milestones_in_seed from milestones
),

rows_per_user as (
    select
        user_activation.user_id,
        count(user_milestones.user_id) as milestone_rows
    from user_activation
    left join user_milestones
        on user_activation.user_id = user_milestones.user_id
    group by user_activation.user_id
),

missing_or_extra as (
    select rows_per_user.user_id
    from rows_per_user
    cross join milestone_count
    where rows_per_user.milestone_rows <> milestone_count.milestones_in_seed
),

negative_hours as (
    select user_id
    from user_milestones
    where hours_from_signup < 0
       or (is_completed and hours_from_signup is null)
       or (not is_completed and (completed_at is not null or is_completed_within_window))
)

select user_id from missing_or_extra
union all
select user_id from negative_hours
