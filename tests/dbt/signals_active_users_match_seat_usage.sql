-- One definition of an active user (issue 17.6): account_signals.active_user_count, the
-- seat usage of account_plan_limits (aggregation active_users) and the active users of
-- user_activation are the same number for every account.
with signals as (
    select * from {{ ref('account_signals') }}
),

limits as (
    select * from {{ ref('account_plan_limits') }}
),

activation as (
    select * from {{ ref('user_activation') }}
),

active_in_activation as (
    select account_id, sum(case when is_active_user then 1 else 0 end) as active_users
    from activation
    group by account_id
),

problems as (
    select limits.account_id, 'seat usage differs from active_user_count' as problem
    from limits
    inner join signals on limits.account_id = signals.account_id
    where limits.aggregation = 'active_users'
      and limits.usage_value <> signals.active_user_count
    union all
    select signals.account_id, 'user_activation active users differ from active_user_count' as problem
    from signals
    left join active_in_activation on signals.account_id = active_in_activation.account_id
    where signals.active_user_count <> coalesce(active_in_activation.active_users, 0)
)

select * from problems
