-- Deactivated users, and whether each was a key user of the account: an admin, or the
-- account's most active user over the 30 days before the deactivation.

with users as (
    select * from {{ ref('stg_app__users') }}
),

user_days as (
    select * from {{ ref('int_user_daily_activity') }}
),

deactivated as (
    select * from users where deactivated_at is not null
),

-- activity of every user of an affected account in the 30 days before each deactivation
activity_before as (
    select
        deactivated.user_id as deactivated_user_id,
        user_days.user_id,
        sum(user_days.event_count) as event_count
    from deactivated
    inner join user_days
        on user_days.account_id = deactivated.account_id
        and user_days.activity_date < cast(deactivated.deactivated_at as date)
        and user_days.activity_date >= {{ date_add_days('cast(deactivated.deactivated_at as date)', -30) }}
    group by 1, 2
),

ranked as (
    select
        deactivated_user_id,
        user_id,
        event_count,
        rank() over (partition by deactivated_user_id order by event_count desc) as activity_rank
    from activity_before
),

final as (
    select
        deactivated.user_id,
        deactivated.account_id,
        deactivated.role,
        deactivated.deactivated_at,
        coalesce(ranked.activity_rank = 1, false) as was_most_active,
        deactivated.role = 'admin' or coalesce(ranked.activity_rank = 1, false) as is_key_user
    from deactivated
    left join ranked
        on ranked.deactivated_user_id = deactivated.user_id
        and ranked.user_id = deactivated.user_id
)

select * from final
