-- One row per active user with an email for CRM contacts, matched on email (HubSpot's
-- natural contact key) with plg_user_id kept for Salesforce external ids.

with users as (
    select * from {{ ref('user_activation') }}
),

final as (
    select
        cast(user_id as {{ dbt.type_string() }}) as sync_key,
        cast(email as {{ dbt.type_string() }}) as email,
        cast(user_id as {{ dbt.type_string() }}) as plg_user_id,
        cast(account_id as {{ dbt.type_string() }}) as plg_account_id,
        cast(role as {{ dbt.type_string() }}) as plg_role,
        cast(signed_up_at as {{ dbt.type_timestamp() }}) as plg_signed_up_at,
        cast(activation_status as {{ dbt.type_string() }}) as plg_activation_status,
        cast(milestones_completed_count as {{ dbt.type_int() }}) as plg_milestones_completed,
        cast(next_milestone_label as {{ dbt.type_string() }}) as plg_next_milestone,
        cast(activated_at as {{ dbt.type_timestamp() }}) as plg_activated_at
    from users
    where is_active_user
      and email is not null
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
