-- One row per account with the headline of all four plays: what a CSM, a sales rep or
-- a journey needs, and what the sync models read.

with accounts as (
    select * from {{ ref('stg_app__accounts') }}
),

billing as (
    select * from {{ ref('int_account_billing') }}
),

crm as (
    select * from {{ ref('stg_crm__companies') }}
),

activation as (
    select * from {{ ref('user_activation') }}
),

pql as (
    select * from {{ ref('account_pql_scores') }}
),

churn as (
    select * from {{ ref('account_churn_risk') }}
),

limits as (
    select * from {{ ref('account_plan_limits') }}
),

active_users as (
    select * from {{ ref('int_account_active_users') }}
),

paywall as (
    select * from {{ ref('int_account_paywall_hits') }}
),

-- activated and stalled among the active users (user_activation.is_active_user is the same
-- definition as int_account_active_users: macro plg_user_is_active)
activation_summary as (
    select
        account_id,
        sum(case when is_active_user and activation_status = 'activated' then 1 else 0 end)
            as activated_user_count,
        sum(case when is_active_user and activation_status = 'stalled' then 1 else 0 end)
            as stalled_user_count
    from activation
    group by account_id
),

-- the limit closest to (or furthest past) its boundary
worst_limit as (
    select
        *,
        row_number() over (
            partition by account_id
            order by
                case limit_status when 'over' then 0 when 'at_limit' then 1
                                  when 'approaching' then 2 else 3 end,
                percent_used desc,
                limit_key
        ) as severity_rank
    from limits
),

final as (
    select
        cast(accounts.account_id as {{ dbt.type_string() }}) as account_id,
        cast(accounts.account_name as {{ dbt.type_string() }}) as account_name,
        cast(accounts.domain as {{ dbt.type_string() }}) as domain,
        cast(billing.plan as {{ dbt.type_string() }}) as plan,
        cast(billing.status as {{ dbt.type_string() }}) as subscription_status,
        cast(coalesce(billing.mrr, 0) as {{ plg_type_double() }}) as mrr,
        cast(coalesce(billing.mrr_band, 'none') as {{ dbt.type_string() }}) as mrr_band,
        cast(billing.seats as {{ dbt.type_int() }}) as seats,
        cast(crm.crm_company_id as {{ dbt.type_string() }}) as crm_company_id,
        cast(crm.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(crm.owner_email as {{ dbt.type_string() }}) as owner_email,
        cast(crm.owner_id as {{ dbt.type_string() }}) as crm_owner_id,
        cast(coalesce(active_users.active_user_count, 0) as {{ dbt.type_bigint() }}) as active_user_count,
        cast(coalesce(activation_summary.activated_user_count, 0) as {{ dbt.type_bigint() }}) as activated_user_count,
        cast(coalesce(activation_summary.stalled_user_count, 0) as {{ dbt.type_bigint() }}) as stalled_user_count,
        cast(round({{ safe_divide('coalesce(activation_summary.activated_user_count, 0)', 'active_users.active_user_count') }}, 3) as {{ plg_type_double() }}) as activation_rate,
        cast(pql.pql_score as {{ plg_type_double() }}) as pql_score,
        cast(pql.is_pql as {{ dbt.type_boolean() }}) as is_pql,
        cast(pql.pql_reached_at as {{ dbt.type_timestamp() }}) as pql_reached_at,
        cast(pql.pql_reasons as {{ dbt.type_string() }}) as pql_reasons,
        cast(pql.active_users_7d as {{ dbt.type_bigint() }}) as active_users_7d,
        cast(pql.events_7d as {{ dbt.type_bigint() }}) as events_7d,
        cast(pql.last_active_date as date) as last_active_date,
        cast(churn.risk_score as {{ dbt.type_int() }}) as risk_score,
        cast(churn.risk_band as {{ dbt.type_string() }}) as risk_band,
        cast(churn.is_at_risk as {{ dbt.type_boolean() }}) as is_at_risk,
        cast(churn.at_risk_since as {{ dbt.type_timestamp() }}) as at_risk_since,
        cast(coalesce(churn.risk_state, 'none') as {{ dbt.type_string() }}) as risk_state,
        cast(churn.risk_state_reason as {{ dbt.type_string() }}) as risk_state_reason,
        cast(churn.risk_reasons as {{ dbt.type_string() }}) as risk_reasons,
        cast(churn.is_recovered as {{ dbt.type_boolean() }}) as is_recovered,
        cast(churn.recovered_at as {{ dbt.type_timestamp() }}) as recovered_at,
        cast(coalesce(worst_limit.limit_status, 'ok') as {{ dbt.type_string() }}) as limit_status,
        cast(worst_limit.limit_key as {{ dbt.type_string() }}) as limit_key,
        cast(worst_limit.percent_used as {{ plg_type_double() }}) as limit_percent_used,
        cast(coalesce(worst_limit.limit_status, 'ok') <> 'ok' as {{ dbt.type_boolean() }}) as is_near_limit,
        cast(coalesce(paywall.paywall_hits_7d, 0) as {{ dbt.type_bigint() }}) as paywall_hits_7d,
        cast(coalesce(worst_limit.is_routed_to_sales, false) as {{ dbt.type_boolean() }}) as is_routed_to_sales,
        cast(active_users.billing_owner_email as {{ dbt.type_string() }}) as billing_owner_email,
        cast(case
                when churn.is_at_risk then 'at_risk'
                when pql.is_pql then 'pql'
                when coalesce(worst_limit.limit_status, 'ok') <> 'ok' then 'expansion'
                when churn.is_recovered then 'recovered'
                else 'none'
            end as {{ dbt.type_string() }}) as primary_signal,
        cast({{ plg_as_of() }} as {{ dbt.type_timestamp() }}) as signals_as_of
    from accounts
    left join billing on accounts.account_id = billing.account_id
    left join crm on accounts.account_id = crm.account_id
    left join active_users on accounts.account_id = active_users.account_id
    left join activation_summary on accounts.account_id = activation_summary.account_id
    left join paywall on accounts.account_id = paywall.account_id
    left join pql on accounts.account_id = pql.account_id
    left join churn on accounts.account_id = churn.account_id
    left join worst_limit
        on accounts.account_id = worst_limit.account_id and worst_limit.severity_rank = 1
)

select * from final
