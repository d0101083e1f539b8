-- percent_used is never negative, and limit_status agrees with usage, limit and
-- plg_limit_approaching_percent.
with limits as (
    select * from {{ ref('account_plan_limits') }}
),

contradictions as (
    select *
    from limits
    where percent_used < 0
       or usage_value < 0
       or limit_value is null
       or (limit_status = 'over') <> (usage_value > limit_value)
       or (limit_status = 'at_limit') <> (usage_value = limit_value)
       or (limit_status = 'approaching' and (usage_value >= limit_value
            or 100 * usage_value / nullif(limit_value, 0) < {{ var('plg_limit_approaching_percent') }}))
       or (limit_status = 'ok' and 100 * usage_value / nullif(limit_value, 0) >= {{ var('plg_limit_approaching_percent') }})
       or (projected_days_to_limit is not null and (projected_days_to_limit < 0 or usage_value >= limit_value))
)

select * from contradictions
