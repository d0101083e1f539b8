-- One row per user (signed up by the as-of time): milestone progress and an activation
-- status for onboarding nudges and the CS alert rule (activation_status, plan, MRR band).

with users as (
    select * from {{ ref('stg_app__users') }}
),

user_milestones as (
    select * from {{ ref('user_milestones') }}
),

account_billing as (
    select * from {{ ref('int_account_billing') }}
),

signed_up_users as (
    select
        user_id,
        account_id,
        email,
        role,
        created_at,
        created_at as signed_up_at,
        deactivated_at
    from users
    where created_at <= {{ plg_as_of() }}
),

-- each milestone's place in the order users see them (milestone_order, then key): a
-- handful of rows, so per user the next milestone is a min() over ranks and the list of
-- completed milestones is ordered by one integer, instead of a window sorting every
-- user-milestone row
milestone_ranks as (
    select
        milestone_key,
        milestone_label,
        row_number() over (order by milestone_order, milestone_key) as milestone_rank
    from (
        select distinct milestone_key, milestone_label, milestone_order
        from user_milestones
    ) as milestone_keys
),

ranked_user_milestones as (
    select
        user_milestones.user_id,
        user_milestones.milestone_key,
        user_milestones.is_completed,
        user_milestones.completed_at,
        milestone_ranks.milestone_rank
    from user_milestones
    inner join milestone_ranks
        on user_milestones.milestone_key = milestone_ranks.milestone_key
),

milestone_progress as (
    select
        user_id,
        count(*) as milestones_total,
        sum(case when is_completed then 1 else 0 end) as milestones_completed_count,
        max(completed_at) as last_milestone_at,
        min(case when not is_completed then milestone_rank end) as next_milestone_rank
    from ranked_user_milestones
    group by user_id
),

-- the ordered list over completed rows only (an ordered aggregate sorts every row it is given)
completed_lists as (
    select
        user_id,
        nullif(
            {{ dbt.listagg(
                measure='milestone_key',
                delimiter_text="','",
                order_by_clause='order by milestone_rank'
            ) }},
            ''
        ) as milestones_completed
    from ranked_user_milestones
    where is_completed
    group by user_id
),

next_milestones as (
    select
        milestone_progress.user_id,
        milestone_ranks.milestone_key,
        milestone_ranks.milestone_label
    from milestone_progress
    inner join milestone_ranks
        on milestone_progress.next_milestone_rank = milestone_ranks.milestone_rank
),

progress as (
    select
        signed_up_users.*,
        coalesce(milestone_progress.milestones_total, 0) as milestones_total,
        coalesce(milestone_progress.milestones_completed_count, 0) as milestones_completed_count,
        completed_lists.milestones_completed,
        milestone_progress.last_milestone_at,
        next_milestones.milestone_key as next_milestone_key,
        next_milestones.milestone_label as next_milestone_label
    from signed_up_users
    left join milestone_progress
        on signed_up_users.user_id = milestone_progress.user_id
    left join next_milestones
        on signed_up_users.user_id = next_milestones.user_id
    left join completed_lists
        on signed_up_users.user_id = completed_lists.user_id
),

-- stall cutoff = as-of time minus plg_stall_after_days days; a user is stalled when both
-- the signup and the latest milestone (if any) are at or before the cutoff
classified as (
    select
        progress.*,
        case
            when milestones_total > 0 and milestones_completed_count = milestones_total
                then 'activated'
            when signed_up_at <= {{ plg_as_of_minus_days(var('plg_stall_after_days')) }}
                and (
                    last_milestone_at is null
                    or last_milestone_at <= {{ plg_as_of_minus_days(var('plg_stall_after_days')) }}
                )
                then 'stalled'
            when milestones_completed_count = 0 then 'not_started'
            else 'in_progress'
        end as activation_status
    from progress
),

final as (
    select
        classified.user_id,
        classified.account_id,
        classified.email,
        classified.role,
        classified.signed_up_at,
        cast(
            {{ days_between('cast(classified.signed_up_at as date)', plg_as_of_date()) }}
            as {{ dbt.type_int() }}
        ) as days_since_signup,
        -- one definition of an active user (macro plg_user_is_active), as in
        -- int_account_active_users
        {{ plg_user_is_active('classified.') }} as is_active_user,
        cast(classified.milestones_total as {{ dbt.type_int() }}) as milestones_total,
        cast(classified.milestones_completed_count as {{ dbt.type_int() }}) as milestones_completed_count,
        classified.milestones_completed,
        classified.next_milestone_key,
        classified.next_milestone_label,
        classified.last_milestone_at,
        case
            when classified.activation_status = 'activated' then classified.last_milestone_at
        end as activated_at,
        classified.activation_status,
        coalesce(account_billing.mrr_band, 'none') as account_mrr_band,
        account_billing.plan
    from classified
    left join account_billing
        on classified.account_id = account_billing.account_id
)

select * from final
