{#- Aggregate: the account named by the latest row of a group, for a user the users table
    does not know (int_user_event_daily): the `account` of the row with the greatest
    `at`, ties to the greater account id; rows naming no account never win, so the
    result is null only when no row names one. Deterministic, so an incremental run and
    a rebuild pick the same account. Dispatched under `plg_signals`. -#}
{% macro plg_latest_account(account, at) -%}
  {{ return(adapter.dispatch('plg_latest_account', 'plg_signals')(account, at)) }}
{%- endmacro %}

{% macro default__plg_latest_account(account, at) -%}
  (array_agg({{ account }} order by {{ at }} desc, {{ account }} desc) filter (where {{ account }} is not null))[1]
{%- endmacro %}

{#- DuckDB: the greatest (time, account) pair; a struct compares field by field -#}
{% macro duckdb__plg_latest_account(account, at) -%}
  max(case when {{ account }} is not null then struct_pack(at := {{ at }}, account := {{ account }}) end).account
{%- endmacro %}

{#- Snowflake's array_agg leaves nulls out (sorting them last as well keeps stand-ins that
    keep them right); element 0 of the ordered array is the pick -#}
{% macro snowflake__plg_latest_account(account, at) -%}
  (array_agg({{ account }}) within group (order by {{ account }} is null, {{ at }} desc, {{ account }} desc))[0]::varchar
{%- endmacro %}

{% macro bigquery__plg_latest_account(account, at) -%}
  array_agg({{ account }} ignore nulls order by {{ at }} desc, {{ account }} desc)[safe_offset(0)]
{%- endmacro %}
