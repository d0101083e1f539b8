-- One row per active user for Customer.io person identify: attributes named as they
-- appear in Customer.io. Values that change every day (days since signup, scores) are
-- left out on purpose: they would resend every person on every run.

with users as (
    select * from {{ ref('user_activation') }}
),

accounts as (
    select * from {{ ref('account_signals') }}
),

final as (
    select
        cast(users.user_id as {{ dbt.type_string() }}) as sync_key,
        cast(users.user_id as {{ dbt.type_string() }}) as id,
        cast(users.email as {{ dbt.type_string() }}) as email,
        cast(users.account_id as {{ dbt.type_string() }}) as account_id,
        cast(users.role as {{ dbt.type_string() }}) as role,
        cast(users.signed_up_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(users.activation_status as {{ dbt.type_string() }}) as activation_status,
        cast(users.milestones_completed as {{ dbt.type_string() }}) as milestones_completed,
        cast(users.milestones_completed_count as {{ dbt.type_int() }}) as milestones_completed_count,
        cast(users.next_milestone_key as {{ dbt.type_string() }}) as next_milestone,
        cast(users.next_milestone_label as {{ dbt.type_string() }}) as next_milestone_label,
        cast(users.activated_at as {{ dbt.type_timestamp() }}) as activated_at,
        cast(accounts.plan as {{ dbt.type_string() }}) as account_plan,
        cast(accounts.mrr_band as {{ dbt.type_string() }}) as account_mrr_band,
        cast(coalesce(accounts.is_pql, false) as {{ dbt.type_boolean() }}) as account_is_pql,
        cast(accounts.pql_reached_at as {{ dbt.type_timestamp() }}) as account_pql_reached_at,
        cast(accounts.risk_band as {{ dbt.type_string() }}) as account_risk_band,
        cast(coalesce(accounts.is_at_risk, false) as {{ dbt.type_boolean() }}) as account_is_at_risk,
        cast(coalesce(accounts.risk_state, 'none') as {{ dbt.type_string() }}) as account_risk_state,
        cast(coalesce(accounts.is_recovered, false) as {{ dbt.type_boolean() }}) as account_is_recovered,
        cast(accounts.limit_status as {{ dbt.type_string() }}) as account_limit_status,
        cast(accounts.limit_key as {{ dbt.type_string() }}) as account_limit_key,
        cast(accounts.lifecycle_stage as {{ dbt.type_string() }}) as crm_lifecycle_stage
    from users
    left join accounts on users.account_id = accounts.account_id
    where users.is_active_user
    {% if var('plg_sync_require_email') %}
      and users.email is not null
    {% endif %}
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
