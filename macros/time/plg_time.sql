{#- Time is a parameter: every "relative to now" computation goes through these macros,
    so unit tests and planted-truth checks are deterministic (set var plg_as_of).
    Dispatched under `plg_signals` so a consumer can override any of them. -#}

{% macro plg_as_of() -%}
  {{ return(adapter.dispatch('plg_as_of', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_as_of() -%}
  {%- set as_of = var('plg_as_of', none) -%}
  {%- if as_of is none or as_of == '' -%}
    cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
  {%- else -%}
    cast('{{ as_of }}' as {{ dbt.type_timestamp() }})
  {%- endif -%}
{%- endmacro %}

{#- The first day that is not complete yet: windows end here (exclusive). -#}
{% macro plg_as_of_date() -%}
  {{ return(adapter.dispatch('plg_as_of_date', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_as_of_date() -%}
  cast({{ plg_as_of() }} as date)
{%- endmacro %}

{#- The date n days before the as-of date. -#}
{% macro plg_days_ago(n) -%}
  {{ return(adapter.dispatch('plg_days_ago', 'plg_signals')(n)) }}
{%- endmacro %}

{% macro default__plg_days_ago(n) -%}
  {{ date_add_days(plg_as_of_date(), -1 * n) }}
{%- endmacro %}

{#- The as-of time minus n days, as a timestamp on every adapter (dbt.dateadd returns a
    DATETIME on BigQuery, which does not compare with TIMESTAMP columns). -#}
{% macro plg_as_of_minus_days(n) -%}
  {{ return(adapter.dispatch('plg_as_of_minus_days', 'plg_signals')(n)) }}
{%- endmacro %}

{% macro default__plg_as_of_minus_days(n) -%}
  cast({{ dbt.dateadd('day', -1 * n, plg_as_of()) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Date arithmetic that keeps its type on every warehouse (dbt.dateadd turns dates and
    timestamps into DATETIME on BigQuery, which then refuses to compare them). -#}
{% macro date_add_days(date_expr, n) -%}
  {{ return(adapter.dispatch('date_add_days', 'plg_signals')(date_expr, n)) }}
{%- endmacro %}

{% macro default__date_add_days(date_expr, n) -%}
  cast({{ dbt.dateadd('day', n, date_expr) }} as date)
{%- endmacro %}

{% macro bigquery__date_add_days(date_expr, n) -%}
  date_add(cast({{ date_expr }} as date), interval ({{ n }}) day)
{%- endmacro %}

{% macro ts_add_days(ts_expr, n) -%}
  {{ return(adapter.dispatch('ts_add_days', 'plg_signals')(ts_expr, n)) }}
{%- endmacro %}

{% macro default__ts_add_days(ts_expr, n) -%}
  cast({{ dbt.dateadd('day', n, ts_expr) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro bigquery__ts_add_days(ts_expr, n) -%}
  timestamp_add({{ ts_expr }}, interval ({{ n }}) day)
{%- endmacro %}
