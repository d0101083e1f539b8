-- One row per account with at least one active user (macro plg_user_is_active: signed up
-- at or before the as-of time and not deactivated by then): how many, and the billing
-- owner, the account's contact for billing and expansion: the active billing user, else an
-- admin, else the earliest to sign up (users with an email first; ties by user id).
-- account_signals and account_plan_limits both read this, so the active-user count and
-- the seat usage are one number.

with users as (
    select * from {{ ref('stg_app__users') }}
),

active_users as (
    select *
    from users
    where account_id is not null
      and {{ plg_user_is_active() }}
),

user_counts as (
    select
        account_id,
        count(*) as active_user_count
    from active_users
    group by account_id
),

owner_candidates as (
    select
        account_id,
        user_id,
        email,
        role,
        row_number() over (
            partition by account_id
            order by
                case when email is null then 1 else 0 end,
                case role when 'billing' then 0 when 'admin' then 1 else 2 end,
                created_at,
                user_id
        ) as owner_preference
    from active_users
),

final as (
    select
        user_counts.account_id,
        user_counts.active_user_count,
        owner_candidates.user_id as billing_owner_user_id,
        owner_candidates.email as billing_owner_email,
        owner_candidates.role as billing_owner_role
    from user_counts
    left join owner_candidates
        on user_counts.account_id = owner_candidates.account_id
        and owner_candidates.owner_preference = 1
)

select * from final
