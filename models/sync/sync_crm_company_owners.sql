-- One row per account whose CRM company has no owner (neither an owner id nor an owner
-- email in the CRM load) and whose latest handoff was
-- assigned round-robin (account_owner_assignments): sets the company's / Account's owner
-- to that rep. Only while the CRM shows no owner: once the CRM load brings an owner (ours
-- or one a human chose), the row leaves the model, so the sync never overrides an owner
-- set in the CRM (the sync should ignore removals). With var plg_owner_override_crm the
-- rotation's owner is set even over an existing one.

with assignments as (
    select * from {{ ref('account_owner_assignments') }}
),

crm as (
    select * from {{ ref('stg_crm__companies') }}
),

latest as (
    select
        *,
        row_number() over (partition by account_id order by handoff_at desc, handoff_id desc) as recency
    from assignments
    where assignment_source = 'round_robin'
),

final as (
    select
        cast(latest.account_id as {{ dbt.type_string() }}) as sync_key,
        cast(latest.account_id as {{ dbt.type_string() }}) as plg_account_id,
        cast(crm.crm_company_id as {{ dbt.type_string() }}) as crm_company_id,
        cast(latest.owner_email as {{ dbt.type_string() }}) as owner_email,
        cast(latest.owner_name as {{ dbt.type_string() }}) as owner_name,
        cast(latest.crm_owner_id as {{ dbt.type_string() }}) as crm_owner_id,
        cast(latest.handoff_id as {{ dbt.type_string() }}) as handoff_id,
        cast(latest.assigned_at as {{ dbt.type_timestamp() }}) as assigned_at
    from latest
    left join crm on crm.account_id = latest.account_id
    where latest.recency = 1
      and latest.crm_owner_id is not null
      {% if not var('plg_owner_override_crm', false) %}
      and crm.owner_email is null
      and crm.owner_id is null
      {% endif %}
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
