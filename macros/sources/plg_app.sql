{#- The product database's tables (docs/sources.md#product-database-one-shape-each), read
    with a `quarantine_reason` per row (null = usable). The staging model keeps the usable
    rows, plg_data_quality counts the others by reason: one rule for both. Every row also
    carries `record_key` (the key an analyst looks the row up by) and `payload_hash` (to
    tell a repeated row from a different row reusing a key). Dispatched under
    `plg_signals`. -#}

{% macro plg_app_accounts_rows() -%}
  {{ return(adapter.dispatch('plg_app_accounts_rows', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_app_accounts_rows() -%}
  {%- set relation = source('app', 'accounts') -%}
  {%- set columns = plg_relation_columns(relation, 'vars plg_app_schema / plg_accounts_identifier') -%}
  {%- do plg_require_columns(relation, columns, ['account_id', 'created_at'], {}) -%}
  with renamed as (
      select
          cast(account_id as {{ dbt.type_string() }}) as account_id,
          {{ plg_optional_column(columns, 'name', dbt.type_string()) }} as account_name,
          {{ plg_optional_column(columns, 'domain', dbt.type_string()) }} as domain,
          {{ plg_optional_column(columns, 'industry', dbt.type_string()) }} as industry,
          {{ plg_optional_column(columns, 'employee_count', dbt.type_int()) }} as employee_count,
          cast(created_at as {{ dbt.type_timestamp() }}) as created_at
      from {{ relation }}
  )

  select
      renamed.*,
      account_id as record_key,
      created_at as seen_at,
      case
          when account_id is null or trim(account_id) = '' then 'missing_key'
          when created_at is null then 'missing_timestamp'
      end as quarantine_reason,
      {{ surrogate_key(['account_name', 'domain', 'industry', 'employee_count', 'created_at']) }} as payload_hash
  from renamed
{%- endmacro %}

{% macro plg_app_users_rows() -%}
  {{ return(adapter.dispatch('plg_app_users_rows', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_app_users_rows() -%}
  {%- set relation = source('app', 'users') -%}
  {%- set columns = plg_relation_columns(relation, 'vars plg_app_schema / plg_users_identifier') -%}
  {%- do plg_require_columns(relation, columns, ['user_id', 'account_id', 'created_at'], {}) -%}
  with renamed as (
      select
          cast(user_id as {{ dbt.type_string() }}) as user_id,
          cast(account_id as {{ dbt.type_string() }}) as account_id,
          lower({{ plg_optional_column(columns, 'email', dbt.type_string()) }}) as email,
          {{ plg_optional_column(columns, 'name', dbt.type_string()) }} as full_name,
          lower({{ plg_optional_column(columns, 'role', dbt.type_string()) }}) as role,
          cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
          {{ plg_optional_column(columns, 'deactivated_at', dbt.type_timestamp()) }} as deactivated_at,
          {{ plg_optional_column(columns, 'updated_at', dbt.type_timestamp()) }} as updated_at
      from {{ relation }}
  )

  select
      renamed.*,
      user_id as record_key,
      coalesce(updated_at, created_at) as seen_at,
      case
          when user_id is null or trim(user_id) = '' then 'missing_key'
          when created_at is null then 'missing_timestamp'
      end as quarantine_reason,
      {{ surrogate_key(['account_id', 'email', 'full_name', 'role', 'created_at', 'deactivated_at']) }} as payload_hash
  from renamed
{%- endmacro %}

{#- Usage: a value below zero, or above plg_usage_max_value, is a loader or metering error
    and is quarantined rather than counted against a plan limit. -#}
{% macro plg_app_usage_rows() -%}
  {{ return(adapter.dispatch('plg_app_usage_rows', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_app_usage_rows() -%}
  {%- set relation = source('app', 'usage_daily') -%}
  {%- set columns = plg_relation_columns(relation, 'vars plg_app_schema / plg_usage_identifier') -%}
  {%- do plg_require_columns(relation, columns, ['account_id', 'usage_date', 'metric', 'value'], {}) -%}
  with renamed as (
      select
          cast(account_id as {{ dbt.type_string() }}) as account_id,
          cast(usage_date as date) as usage_date,
          lower(cast(metric as {{ dbt.type_string() }})) as metric,
          cast(value as {{ plg_type_double() }}) as usage_value
      from {{ relation }}
  )

  select
      renamed.*,
      {{ dbt.concat(["coalesce(account_id, '')", "'|'", "coalesce(cast(usage_date as " ~ dbt.type_string() ~ "), '')", "'|'", "coalesce(metric, '')"]) }} as record_key,
      cast(usage_date as {{ dbt.type_timestamp() }}) as seen_at,
      case
          when account_id is null or trim(account_id) = '' then 'missing_key'
          when usage_date is null then 'missing_timestamp'
          when metric is null or trim(metric) = '' then 'missing_metric'
          when usage_value is null then 'missing_value'
          when usage_value < 0 then 'negative_value'
          when usage_value > {{ var('plg_usage_max_value', 1000000000000) }} then 'absurd_value'
      end as quarantine_reason,
      {{ surrogate_key(['usage_value']) }} as payload_hash
  from renamed
{%- endmacro %}
