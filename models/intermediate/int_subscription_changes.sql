-- One row per subscription version with what changed against the previous version:
-- a downgrade is a lower plan tier, fewer seats or lower MRR while the subscription
-- stays live; cancellations are kept apart.

with versions as (
    select * from {{ ref('stg_stripe__subscription_history') }}
),

plan_order as (
    {% for plan in var('plg_plan_order') %}
    select '{{ plan }}' as plan, {{ loop.index }} as plan_rank
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

ranked as (
    select
        versions.*,
        plan_order.plan_rank
    from versions
    left join plan_order on versions.plan = plan_order.plan
),

compared as (
    select
        ranked.*,
        lag(plan) over (partition by subscription_id order by valid_from) as previous_plan,
        lag(plan_rank) over (partition by subscription_id order by valid_from) as previous_plan_rank,
        lag(seats) over (partition by subscription_id order by valid_from) as previous_seats,
        lag(mrr) over (partition by subscription_id order by valid_from) as previous_mrr,
        lag(status) over (partition by subscription_id order by valid_from) as previous_status
    from ranked
),

final as (
    select
        subscription_version_id,
        subscription_id,
        account_id,
        valid_from as changed_at,
        status,
        previous_status,
        plan,
        previous_plan,
        seats,
        previous_seats,
        mrr,
        previous_mrr,
        is_cancel_at_period_end,
        case
            when previous_status is null then 'created'
            when status = 'canceled' and previous_status <> 'canceled' then 'canceled'
            when status in ('active', 'past_due') and plan_rank < previous_plan_rank then 'plan_downgrade'
            when status in ('active', 'past_due') and seats < previous_seats then 'seat_reduction'
            when status in ('active', 'past_due') and previous_status in ('active', 'past_due')
                 and mrr < previous_mrr then 'mrr_reduction'
            when plan_rank > previous_plan_rank or seats > previous_seats or mrr > previous_mrr then 'expansion'
            else 'other'
        end as change_kind
    from compared
)

select * from final
