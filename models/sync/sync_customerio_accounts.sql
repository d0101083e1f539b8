-- One row per account for Customer.io account objects (object_id = account id).

with accounts as (
    select * from {{ ref('account_signals') }}
),

final as (
    select
        cast(account_id as {{ dbt.type_string() }}) as sync_key,
        cast(account_id as {{ dbt.type_string() }}) as object_id,
        cast(account_name as {{ dbt.type_string() }}) as name,
        cast(domain as {{ dbt.type_string() }}) as domain,
        cast(plan as {{ dbt.type_string() }}) as plan,
        cast(subscription_status as {{ dbt.type_string() }}) as subscription_status,
        cast(mrr as {{ plg_type_double() }}) as mrr,
        cast(mrr_band as {{ dbt.type_string() }}) as mrr_band,
        cast(seats as {{ dbt.type_int() }}) as seats,
        cast(lifecycle_stage as {{ dbt.type_string() }}) as crm_lifecycle_stage,
        cast(owner_email as {{ dbt.type_string() }}) as crm_owner_email,
        cast(active_user_count as {{ dbt.type_int() }}) as active_users,
        cast(activated_user_count as {{ dbt.type_int() }}) as activated_users,
        cast(coalesce(is_pql, false) as {{ dbt.type_boolean() }}) as is_pql,
        cast(round(pql_score, 0) as {{ dbt.type_int() }}) as pql_score,
        cast(pql_reached_at as {{ dbt.type_timestamp() }}) as pql_reached_at,
        cast(pql_reasons as {{ dbt.type_string() }}) as pql_reasons,
        cast(risk_band as {{ dbt.type_string() }}) as risk_band,
        cast(coalesce(is_at_risk, false) as {{ dbt.type_boolean() }}) as is_at_risk,
        cast(at_risk_since as {{ dbt.type_timestamp() }}) as at_risk_since,
        cast(risk_state as {{ dbt.type_string() }}) as risk_state,
        cast(risk_state_reason as {{ dbt.type_string() }}) as risk_state_reason,
        cast(risk_reasons as {{ dbt.type_string() }}) as risk_reasons,
        cast(coalesce(is_recovered, false) as {{ dbt.type_boolean() }}) as is_recovered,
        cast(recovered_at as {{ dbt.type_timestamp() }}) as recovered_at,
        cast(limit_status as {{ dbt.type_string() }}) as limit_status,
        cast(limit_key as {{ dbt.type_string() }}) as limit_key,
        -- whole percent: a daily drift of a fraction of a percent is not worth a resend
        cast(round(limit_percent_used, 0) as {{ dbt.type_int() }}) as limit_percent_used,
        cast(coalesce(is_routed_to_sales, false) as {{ dbt.type_boolean() }}) as is_routed_to_sales,
        cast(billing_owner_email as {{ dbt.type_string() }}) as billing_owner_email
    from accounts
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
