-- One row per account for CRM companies (HubSpot companies / Salesforce Accounts),
-- matched on the unique property plg_account_id. Columns are named as the custom
-- properties `plg-sync setup hubspot` creates.

with accounts as (
    select * from {{ ref('account_signals') }}
),

final as (
    select
        cast(account_id as {{ dbt.type_string() }}) as sync_key,
        cast(account_id as {{ dbt.type_string() }}) as plg_account_id,
        cast(account_name as {{ dbt.type_string() }}) as name,
        cast(domain as {{ dbt.type_string() }}) as domain,
        cast(plan as {{ dbt.type_string() }}) as plg_plan,
        cast(subscription_status as {{ dbt.type_string() }}) as plg_subscription_status,
        cast(mrr as {{ plg_type_double() }}) as plg_mrr,
        cast(seats as {{ dbt.type_int() }}) as plg_seats,
        cast(active_user_count as {{ dbt.type_int() }}) as plg_active_users,
        cast(activation_rate as {{ plg_type_double() }}) as plg_activation_rate,
        cast(round(pql_score, 0) as {{ dbt.type_int() }}) as plg_pql_score,
        cast(coalesce(is_pql, false) as {{ dbt.type_boolean() }}) as plg_is_pql,
        cast(pql_reached_at as {{ dbt.type_timestamp() }}) as plg_pql_reached_at,
        cast(pql_reasons as {{ dbt.type_string() }}) as plg_pql_reasons,
        cast(risk_score as {{ dbt.type_int() }}) as plg_risk_score,
        cast(risk_band as {{ dbt.type_string() }}) as plg_risk_band,
        cast(coalesce(is_at_risk, false) as {{ dbt.type_boolean() }}) as plg_is_at_risk,
        cast(risk_state as {{ dbt.type_string() }}) as plg_risk_state,
        cast(risk_state_reason as {{ dbt.type_string() }}) as plg_risk_state_reason,
        cast(risk_reasons as {{ dbt.type_string() }}) as plg_risk_reasons,
        cast(coalesce(is_recovered, false) as {{ dbt.type_boolean() }}) as plg_is_recovered,
        cast(limit_status as {{ dbt.type_string() }}) as plg_limit_status,
        cast(limit_key as {{ dbt.type_string() }}) as plg_limit_key,
        cast(round(limit_percent_used, 0) as {{ dbt.type_int() }}) as plg_limit_percent_used,
        cast(coalesce(is_routed_to_sales, false) as {{ dbt.type_boolean() }}) as plg_route_to_sales,
        cast(billing_owner_email as {{ dbt.type_string() }}) as plg_billing_owner_email
    from accounts
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
