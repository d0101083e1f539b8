{#- One CRM shape per var plg_crm_source (docs/sources.md): `generic` reads one companies
    table; `hubspot` and `salesforce` read the company/account table as Fivetran lands it
    plus its owners table, for the owner's email. That join is the one exception to "no
    joins in staging": the owner email is an attribute of the company for every consumer. -#}
{%- set crm_source = plg_crm_source() -%}
with source as (
    select * from {{ source('crm', 'companies') }}
),
{%- if crm_source != 'generic' %}

owners as (
    select * from {{ source('crm', 'owners') }}
),
{%- endif %}

renamed as (
{%- if crm_source == 'hubspot' %}
    select
        cast(source.id as {{ dbt.type_string() }}) as crm_company_id,
        cast(source.{{ var('plg_hubspot_account_id_property', 'property_plg_account_id') }} as {{ dbt.type_string() }}) as account_id,
        cast(source.property_name as {{ dbt.type_string() }}) as crm_company_name,
        lower(cast(source.property_lifecyclestage as {{ dbt.type_string() }})) as lifecycle_stage,
        lower(cast(owners.email as {{ dbt.type_string() }})) as owner_email,
        cast(source.property_createdate as {{ dbt.type_timestamp() }}) as created_at,
        cast(source.property_hs_lastmodifieddate as {{ dbt.type_timestamp() }}) as updated_at
    from source
    left join owners
        on cast(source.property_hubspot_owner_id as {{ dbt.type_string() }}) = cast(owners.owner_id as {{ dbt.type_string() }})
    where not coalesce(source.is_deleted, false)
        and not coalesce(source._fivetran_deleted, false)
{%- elif crm_source == 'salesforce' %}
    select
        cast(source.id as {{ dbt.type_string() }}) as crm_company_id,
        cast(source.{{ var('plg_salesforce_account_id_field', 'plg_account_id_c') }} as {{ dbt.type_string() }}) as account_id,
        cast(source.name as {{ dbt.type_string() }}) as crm_company_name,
        lower(cast(source.{{ var('plg_salesforce_lifecycle_field', 'type') }} as {{ dbt.type_string() }})) as lifecycle_stage,
        lower(cast(owners.email as {{ dbt.type_string() }})) as owner_email,
        cast(source.created_date as {{ dbt.type_timestamp() }}) as created_at,
        cast(source.last_modified_date as {{ dbt.type_timestamp() }}) as updated_at
    from source
    left join owners
        on source.owner_id = owners.id
    where not coalesce(source.is_deleted, false)
        and not coalesce(source._fivetran_deleted, false)
{%- else %}
    select
        cast(company_id as {{ dbt.type_string() }}) as crm_company_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(name as {{ dbt.type_string() }}) as crm_company_name,
        lower(cast(lifecycle_stage as {{ dbt.type_string() }})) as lifecycle_stage,
        lower(cast(owner_email as {{ dbt.type_string() }})) as owner_email,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
{%- endif %}
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
