{#- One CRM shape per var plg_crm_source (docs/sources.md#crm): `generic` reads one
    companies table; `hubspot` and `salesforce` read the company/account table as Fivetran
    lands it plus its owners table, for the owner's email; the owner's id is the company's
    own column (HubSpot property_hubspot_owner_id, Salesforce owner_id). That join is the one exception to
    "no joins in staging": the owner email is an attribute of the company for every consumer.
    Optional properties/fields (owner, lifecycle stage, dates) a portal does not sync are
    detected and read as null; the product account id property is required. -#}
{%- set crm_source = plg_crm_source() -%}
{%- set str = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
{%- set companies = source('crm', 'companies') -%}
{%- set columns = plg_relation_columns(companies, 'vars plg_crm_schema / plg_crm_companies_identifier') -%}
{%- if crm_source != 'generic' -%}
  {%- set owners = source('crm', 'owners') -%}
  {%- set owner_columns = plg_relation_columns(owners, 'vars plg_crm_schema / plg_crm_owners_identifier') -%}
{%- endif -%}
{%- if crm_source == 'hubspot' -%}
  {%- set account_property = var('plg_hubspot_account_id_property', 'property_plg_account_id') -%}
  {%- do plg_require_columns(companies, columns, ['id', account_property], {
        account_property: "var plg_hubspot_account_id_property names the company property with the product account id (`plg-sync setup hubspot --apply` creates plg_account_id, which Fivetran lands as property_plg_account_id)"}) -%}
  {%- do plg_require_columns(owners, owner_columns, ['owner_id', 'email'], {}) -%}
  {%- set has_owner = plg_has_column(columns, 'property_hubspot_owner_id') -%}
{%- elif crm_source == 'salesforce' -%}
  {%- set account_field = var('plg_salesforce_account_id_field', 'plg_account_id_c') -%}
  {%- do plg_require_columns(companies, columns, ['id', account_field], {
        account_field: "var plg_salesforce_account_id_field names the Account field with the product account id (PLG_Account_Id__c lands as plg_account_id_c)"}) -%}
  {%- do plg_require_columns(owners, owner_columns, ['id', 'email'], {}) -%}
  {%- set has_owner = plg_has_column(columns, 'owner_id') -%}
{%- else -%}
  {%- do plg_require_columns(companies, columns, ['company_id', 'account_id'], {}) -%}
{%- endif -%}

{#- deleted rows: is_deleted (HubSpot, Salesforce), _fivetran_deleted (when the connector
    writes it); history mode (Salesforce _fivetran_active) keeps the active version only -#}
{%- set live = [] -%}
{%- for flag in ['is_deleted', '_fivetran_deleted'] if crm_source != 'generic' and plg_has_column(columns, flag) and columns is not none -%}
  {%- do live.append('not coalesce(cast(source.' ~ flag ~ ' as ' ~ dbt.type_boolean() ~ '), false)') -%}
{%- endfor -%}
{%- if crm_source == 'salesforce' and columns is not none and '_fivetran_active' in columns -%}
  {%- do live.append('coalesce(cast(source._fivetran_active as ' ~ dbt.type_boolean() ~ '), true)') -%}
{%- endif %}
with source as (
    select * from {{ companies }}
),
{%- if crm_source != 'generic' %}

owners as (
    select * from {{ owners }}
),
{%- endif %}

renamed as (
{%- if crm_source == 'hubspot' %}
    select
        cast(source.id as {{ str }}) as crm_company_id,
        cast(source.{{ account_property }} as {{ str }}) as account_id,
        {{ plg_optional_column(columns, 'property_name', str, 'source.property_name') }} as crm_company_name,
        lower({{ plg_optional_column(columns, 'property_lifecyclestage', str, 'source.property_lifecyclestage') }}) as lifecycle_stage,
        {% if has_owner -%} lower(cast(owners.email as {{ str }})) {%- else -%} cast(null as {{ str }}) {%- endif %} as owner_email,
        {{ plg_optional_column(columns, 'property_hubspot_owner_id', str, 'source.property_hubspot_owner_id') }} as owner_id,
        {{ plg_optional_column(columns, 'property_createdate', ts, 'source.property_createdate') }} as created_at,
        coalesce(
            {{ plg_optional_column(columns, 'property_hs_lastmodifieddate', ts, 'source.property_hs_lastmodifieddate') }},
            {{ plg_optional_column(columns, '_fivetran_synced', ts, 'source._fivetran_synced') }}
        ) as updated_at
    from source
    {%- if has_owner %}
    left join owners
        on cast(source.property_hubspot_owner_id as {{ str }}) = cast(owners.owner_id as {{ str }})
    {%- endif %}
{%- elif crm_source == 'salesforce' %}
    {%- set lifecycle_field = var('plg_salesforce_lifecycle_field', 'type') %}
    select
        cast(source.id as {{ str }}) as crm_company_id,
        cast(source.{{ account_field }} as {{ str }}) as account_id,
        {{ plg_optional_column(columns, 'name', str, 'source.name') }} as crm_company_name,
        lower({{ plg_optional_column(columns, lifecycle_field, str, 'source.' ~ plg_source_column(lifecycle_field)) }}) as lifecycle_stage,
        {% if has_owner -%} lower(cast(owners.email as {{ str }})) {%- else -%} cast(null as {{ str }}) {%- endif %} as owner_email,
        {{ plg_optional_column(columns, 'owner_id', str, 'source.owner_id') }} as owner_id,
        {{ plg_optional_column(columns, 'created_date', ts, 'source.created_date') }} as created_at,
        coalesce(
            {{ plg_optional_column(columns, 'last_modified_date', ts, 'source.last_modified_date') }},
            {{ plg_optional_column(columns, 'system_modstamp', ts, 'source.system_modstamp') }},
            {{ plg_optional_column(columns, '_fivetran_synced', ts, 'source._fivetran_synced') }}
        ) as updated_at
    from source
    {%- if has_owner %}
    left join owners
        on cast(source.owner_id as {{ str }}) = cast(owners.id as {{ str }})
    {%- endif %}
{%- else %}
    select
        cast(company_id as {{ str }}) as crm_company_id,
        cast(account_id as {{ str }}) as account_id,
        {{ plg_optional_column(columns, 'name', str) }} as crm_company_name,
        lower({{ plg_optional_column(columns, 'lifecycle_stage', str) }}) as lifecycle_stage,
        lower({{ plg_optional_column(columns, 'owner_email', str) }}) as owner_email,
        {{ plg_optional_column(columns, 'owner_id', str) }} as owner_id,
        {{ plg_optional_column(columns, 'created_at', ts) }} as created_at,
        {{ plg_optional_column(columns, 'updated_at', ts) }} as updated_at
    from source
{%- endif %}
    {%- if live %}
    where {{ live | join('\n      and ') }}
    {%- endif %}
),

-- one row per CRM company (a company listed twice, e.g. with two account ids in a
-- generic table, keeps its most recently updated row), then one CRM company per product
-- account: the most recently updated wins
companies as (
    select * from (
        select
            *,
            row_number() over (
                partition by crm_company_id order by updated_at desc, account_id
            ) as company_rank
        from renamed
        where account_id is not null and crm_company_id is not null
    ) as versions
    where company_rank = 1
),

ranked as (
    select
        *,
        row_number() over (partition by account_id order by updated_at desc, crm_company_id) as account_rank
    from companies
),

final as (
    select
        crm_company_id,
        account_id,
        crm_company_name,
        lifecycle_stage,
        owner_email,
        owner_id,
        created_at,
        updated_at
    from ranked
    where account_rank = 1
)

select * from final
