{%- set gap = var('plg_pql_episode_gap_days') -%}
-- One row per handoff to sales: each PQL episode and each routed expansion.
--   PQL episode: starts on a crossing day (int_account_pql_crossings) when the account
--     had not been at/above the threshold in the plg_pql_episode_gap_days days before
--     (a dip and a new crossing within that gap continue the same episode, so one deal
--     per episode), and the account was eligible (plan or status) when it crossed.
--     handoff_at is the crossing moment.
--   Routed expansion: an account routed to sales (account_plan_limits.is_routed_to_sales)
--     with a limit approaching, at or over its boundary, once per usage cycle;
--     handoff_at is the moment both became true in that cycle, like pql_reached_at:
--     the latest of the cycle start, the start of the subscription version that made the
--     account routed (MRR >= plg_route_to_sales_mrr or a plan of plg_route_to_sales_plans,
--     after a version that was not), and the moment the earliest non-ok limit reached
--     plg_limit_approaching_percent of its value: for a seats-style (active_users) limit
--     the signup of the user who took the count there (users active now, in signup order);
--     for a metered limit the start of the first usage day of the cycle on which the cycle
--     sum (cycle_sum) or the day's value (latest) got there (usage is daily); the cycle
--     start when the usage rows do not show it. So handoffs reach the owner ledger in
--     handoff_at order and a rebuild of account_owner_assignments from empty replays them
--     in the same order.
-- Only handoffs newer than plg_handoff_lookback_days days are listed, so a first build on
-- years of history does not hand off old episodes.

with accounts as (
    select * from {{ ref('stg_app__accounts') }}
),

billing as (
    select * from {{ ref('int_account_billing') }}
),

versions as (
    select * from {{ ref('stg_stripe__subscription_history') }}
),

score_days as (
    select * from {{ ref('account_pql_daily') }}
),

crossings as (
    select * from {{ ref('int_account_pql_crossings') }}
),

limits as (
    select * from {{ ref('account_plan_limits') }}
),

crm as (
    select * from {{ ref('stg_crm__companies') }}
),

plan_limits as (
    select * from {{ ref('plg_plan_limits') }}
),

usage as (
    select * from {{ ref('int_account_usage_daily') }}
    where usage_date <= {{ plg_last_day() }}
),

users as (
    select * from {{ ref('stg_app__users') }}
),

-- a crossing day starts an episode unless the account was at/above the threshold on one
-- of the {{ gap }} days before it: a semi-join of the few crossing days to the
-- above-threshold days (was a running max over every day of every account)
crossing_days as (
    select account_id, day
    from score_days
    where is_crossing_day
),

recently_above as (
    select distinct
        crossing_days.account_id,
        crossing_days.day
    from crossing_days
    inner join score_days as above
        on above.account_id = crossing_days.account_id
        and above.is_above_threshold
        and above.day < crossing_days.day
        and above.day >= {{ date_add_days('crossing_days.day', -1 * gap) }}
),

episode_starts as (
    select crossing_days.account_id, crossing_days.day
    from crossing_days
    left join recently_above
        on recently_above.account_id = crossing_days.account_id
        and recently_above.day = crossing_days.day
    where recently_above.account_id is null
),

-- the subscription version in force at the crossing moment made the account eligible
eligible_at_crossing as (
    select distinct
        crossings.account_id,
        crossings.day
    from crossings
    inner join versions
        on versions.account_id = crossings.account_id
        and versions.valid_from <= crossings.crossed_at
        and (versions.valid_to is null or versions.valid_to > crossings.crossed_at)
    where (
            versions.plan in {{ in_list(var('plg_pql_eligible_plans')) }}
            or versions.status in {{ in_list(var('plg_pql_eligible_statuses')) }}
        )
      and versions.status <> 'canceled'
),

pql_handoffs as (
    select
        {{ surrogate_key(['episode_starts.account_id', "'pql'", 'episode_starts.day']) }} as handoff_id,
        'pql' as handoff_kind,
        episode_starts.account_id,
        crossings.crossed_at as handoff_at
    from episode_starts
    inner join crossings
        on crossings.account_id = episode_starts.account_id
        and crossings.day = episode_starts.day
    inner join eligible_at_crossing
        on eligible_at_crossing.account_id = episode_starts.account_id
        and eligible_at_crossing.day = episode_starts.day
),

routed_limits as (
    select
        limits.account_id,
        limits.limit_key,
        limits.plan,
        limits.aggregation,
        limits.limit_value,
        limits.usage_cycle_start_at,
        plan_limits.usage_metric
    from limits
    left join plan_limits
        on plan_limits.plan = limits.plan and plan_limits.limit_key = limits.limit_key
    where limits.is_routed_to_sales
      and limits.limit_status <> 'ok'
      and limits.usage_cycle_start_at is not null
),

-- when the account became routed to sales: the start of its latest routed version that
-- follows a version that was not routed (or is its first)
version_routing as (
    select
        account_id,
        valid_from,
        coalesce(
            status <> 'canceled'
            and (mrr >= {{ var('plg_route_to_sales_mrr') }}
                 or plan in {{ in_list(var('plg_route_to_sales_plans')) }}),
            false
        ) as is_routed
    from versions
    where valid_from <= {{ plg_as_of() }}
),

routing_changes as (
    select
        *,
        lag(is_routed) over (partition by account_id order by valid_from) as was_routed
    from version_routing
),

routed_since as (
    select account_id, max(valid_from) as routed_since_at
    from routing_changes
    where is_routed and not coalesce(was_routed, false)
    group by account_id
),

-- seats-style limits: the signup that took the active users to the approaching share
seat_ranks as (
    select
        routed_limits.account_id,
        routed_limits.limit_key,
        routed_limits.limit_value,
        users.created_at,
        row_number() over (
            partition by routed_limits.account_id, routed_limits.limit_key
            order by users.created_at, users.user_id
        ) as seat_number
    from routed_limits
    inner join users on users.account_id = routed_limits.account_id
    where routed_limits.aggregation = 'active_users'
      and {{ plg_user_is_active('users.') }}
),

seat_reached as (
    select account_id, limit_key, min(created_at) as reached_at
    from seat_ranks
    where 100 * seat_number >= {{ var('plg_limit_approaching_percent') }} * limit_value
    group by account_id, limit_key
),

-- metered limits: the first usage day of the cycle at the approaching share
metered_days as (
    select
        routed_limits.account_id,
        routed_limits.limit_key,
        routed_limits.limit_value,
        usage.usage_date,
        case
            when routed_limits.aggregation = 'cycle_sum' then sum(usage.usage_value) over (
                partition by routed_limits.account_id, routed_limits.limit_key
                order by usage.usage_date
                rows between unbounded preceding and current row
            )
            else usage.usage_value
        end as usage_so_far
    from routed_limits
    inner join usage
        on usage.account_id = routed_limits.account_id
        and usage.metric = routed_limits.usage_metric
        and usage.usage_date >= cast(routed_limits.usage_cycle_start_at as date)
    where routed_limits.aggregation in ('cycle_sum', 'latest')
),

metered_reached as (
    select
        account_id,
        limit_key,
        cast(min(usage_date) as {{ dbt.type_timestamp() }}) as reached_at
    from metered_days
    where 100 * usage_so_far >= {{ var('plg_limit_approaching_percent') }} * limit_value
    group by account_id, limit_key
),

limit_reached as (
    select
        routed_limits.account_id,
        min(routed_limits.usage_cycle_start_at) as usage_cycle_start_at,
        min(greatest(
            routed_limits.usage_cycle_start_at,
            coalesce(seat_reached.reached_at, metered_reached.reached_at, routed_limits.usage_cycle_start_at)
        )) as reached_at
    from routed_limits
    left join seat_reached
        on seat_reached.account_id = routed_limits.account_id
        and seat_reached.limit_key = routed_limits.limit_key
    left join metered_reached
        on metered_reached.account_id = routed_limits.account_id
        and metered_reached.limit_key = routed_limits.limit_key
    group by routed_limits.account_id
),

expansion_handoffs as (
    select
        {{ surrogate_key(['limit_reached.account_id', "'expansion'", 'cast(limit_reached.usage_cycle_start_at as date)']) }} as handoff_id,
        'expansion' as handoff_kind,
        limit_reached.account_id,
        greatest(
            limit_reached.reached_at,
            coalesce(routed_since.routed_since_at, limit_reached.reached_at)
        ) as handoff_at
    from limit_reached
    left join routed_since on routed_since.account_id = limit_reached.account_id
),

handoffs as (
    select * from pql_handoffs
    where handoff_at >= {{ ts_add_days(plg_as_of(), -1 * var('plg_handoff_lookback_days')) }}
    union all
    select * from expansion_handoffs
),

-- plan and MRR in force at the handoff moment (what the deal is pre-filled with)
at_handoff as (
    select
        handoffs.handoff_id,
        versions.plan,
        versions.mrr,
        row_number() over (
            partition by handoffs.handoff_id order by versions.valid_from desc
        ) as recency
    from handoffs
    inner join versions
        on versions.account_id = handoffs.account_id
        and versions.valid_from <= handoffs.handoff_at
        and (versions.valid_to is null or versions.valid_to > handoffs.handoff_at)
),

final as (
    select
        cast(handoffs.handoff_id as {{ dbt.type_string() }}) as handoff_id,
        cast(handoffs.handoff_kind as {{ dbt.type_string() }}) as handoff_kind,
        cast(handoffs.account_id as {{ dbt.type_string() }}) as account_id,
        cast(accounts.account_name as {{ dbt.type_string() }}) as account_name,
        cast(handoffs.handoff_at as {{ dbt.type_timestamp() }}) as handoff_at,
        cast({{ plg_handoff_segment('accounts.employee_count', 'billing.plan', "coalesce(billing.mrr_band, 'none')", 'accounts.industry') }}
            as {{ dbt.type_string() }}) as segment,
        cast(crm.crm_company_id as {{ dbt.type_string() }}) as crm_company_id,
        cast(crm.owner_email as {{ dbt.type_string() }}) as crm_owner_email,
        cast(crm.owner_id as {{ dbt.type_string() }}) as crm_company_owner_id,
        cast(at_handoff.plan as {{ dbt.type_string() }}) as plan_at_handoff,
        cast(coalesce(at_handoff.mrr, 0) as {{ plg_type_double() }}) as mrr_at_handoff
    from handoffs
    inner join accounts on accounts.account_id = handoffs.account_id
    left join billing on billing.account_id = handoffs.account_id
    left join crm on crm.account_id = handoffs.account_id
    left join at_handoff
        on at_handoff.handoff_id = handoffs.handoff_id and at_handoff.recency = 1
)

select * from final
