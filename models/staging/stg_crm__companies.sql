with source as (
    select * from {{ source('crm', 'companies') }}
),

renamed as (
    select
        cast(company_id as {{ dbt.type_string() }}) as crm_company_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(name as {{ dbt.type_string() }}) as crm_company_name,
        lower(cast(lifecycle_stage as {{ dbt.type_string() }})) as lifecycle_stage,
        lower(cast(owner_email as {{ dbt.type_string() }})) as owner_email,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
),

-- one CRM company per product account: the most recently updated wins
ranked as (
    select
        *,
        row_number() over (partition by account_id order by updated_at desc, crm_company_id) as account_rank
    from renamed
    where account_id is not null
),

final as (
    select
        crm_company_id,
        account_id,
        crm_company_name,
        lifecycle_stage,
        owner_email,
        created_at,
        updated_at
    from ranked
    where account_rank = 1
)

select * from final
