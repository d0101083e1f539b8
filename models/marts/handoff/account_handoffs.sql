{%- set gap = var('plg_pql_episode_gap_days') -%}
-- One row per handoff to sales: each PQL episode and each routed expansion.
--   PQL episode: starts on a crossing day (int_account_pql_crossings) when the account
--     had not been at/above the threshold in the plg_pql_episode_gap_days days before
--     (a dip and a new crossing within that gap continue the same episode, so one deal
--     per episode), and the account was eligible (plan or status) when it crossed.
--     handoff_at is the crossing moment.
--   Routed expansion: an account routed to sales (account_plan_limits.is_routed_to_sales)
--     with a limit approaching, at or over its boundary, once per usage cycle;
--     handoff_at is the start of that cycle.
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

above_history as (
    select
        account_id,
        day,
        is_crossing_day,
        max(case when is_above_threshold then day end) over (
            partition by account_id order by day
            rows between unbounded preceding and 1 preceding
        ) as previous_above_day
    from score_days
),

episode_starts as (
    select account_id, day
    from above_history
    where is_crossing_day
      and (previous_above_day is null
           or {{ days_between('previous_above_day', 'day') }} > {{ gap }})
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
        account_id,
        min(usage_cycle_start_at) as usage_cycle_start_at
    from limits
    where is_routed_to_sales
      and limit_status <> 'ok'
      and usage_cycle_start_at is not null
    group by account_id
),

expansion_handoffs as (
    select
        {{ surrogate_key(['account_id', "'expansion'", 'cast(usage_cycle_start_at as date)']) }} as handoff_id,
        'expansion' as handoff_kind,
        account_id,
        usage_cycle_start_at as handoff_at
    from routed_limits
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
