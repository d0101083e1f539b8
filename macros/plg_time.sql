{#- Time is a parameter: every "relative to now" computation goes through these macros,
    so unit tests and planted-truth checks are deterministic (set var plg_as_of). -#}

{% macro plg_as_of() -%}
  {%- set as_of = var('plg_as_of', none) -%}
  {%- if as_of is none or as_of == '' -%}
    cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
  {%- else -%}
    cast('{{ as_of }}' as {{ dbt.type_timestamp() }})
  {%- endif -%}
{%- endmacro %}

{#- The first day that is not complete yet: windows end here (exclusive). -#}
{% macro plg_as_of_date() -%}
  cast({{ plg_as_of() }} as date)
{%- endmacro %}

{% macro plg_days_ago(n) -%}
  {{ dbt.dateadd('day', -1 * n, plg_as_of_date()) }}
{%- endmacro %}
