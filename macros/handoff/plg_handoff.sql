{#- Sales/CS handoff helpers (issue 18). -#}

{#- The sales segment of an account, per var plg_handoff_segment_by:
    employee_band (bands from plg_employee_band_edges: the highest edge <= employees),
    plan, mrr_band, industry, or all (one segment). Unknown values fall back to
    'default', which the roster can staff as a catch-all pool. -#}
{% macro plg_handoff_segment(employee_count, plan, mrr_band, industry) -%}
  {{ return(adapter.dispatch('plg_handoff_segment', 'plg_signals')(employee_count, plan, mrr_band, industry)) }}
{%- endmacro %}

{% macro default__plg_handoff_segment(employee_count, plan, mrr_band, industry) -%}
  {%- set by = var('plg_handoff_segment_by', 'employee_band') -%}
  {%- if by == 'employee_band' -%}
    {%- set edges = var('plg_employee_band_edges') -%}
    {%- set ordered = edges.items() | sort(attribute='1', reverse=true) -%}
    case
      {%- for band, edge in ordered %}
      when {{ employee_count }} >= {{ edge }} then '{{ band }}'
      {%- endfor %}
      else 'default'
    end
  {%- elif by == 'plan' -%}
    coalesce({{ plan }}, 'default')
  {%- elif by == 'mrr_band' -%}
    coalesce({{ mrr_band }}, 'default')
  {%- elif by == 'industry' -%}
    coalesce(lower({{ industry }}), 'default')
  {%- elif by == 'all' -%}
    'default'
  {%- else -%}
    {{ exceptions.raise_compiler_error("var plg_handoff_segment_by is '" ~ by ~ "': use employee_band, plan, mrr_band, industry or all") }}
  {%- endif -%}
{%- endmacro %}

{#- One Unicode block character (U+2581..U+2588) for value on a 0..max scale; a space
    when the value is null (no data that day). Eight levels: 0 -> '▁', max -> '█'. -#}
{% macro plg_spark_char(value, max_value) -%}
  {{ return(adapter.dispatch('plg_spark_char', 'plg_signals')(value, max_value)) }}
{%- endmacro %}

{% macro default__plg_spark_char(value, max_value) -%}
  case
    when {{ value }} is null then ' '
    else substr('▁▂▃▄▅▆▇█',
                cast(floor(7 * coalesce({{ safe_divide(value, max_value) }}, 0) + 0.5) as {{ dbt.type_int() }}) + 1,
                1)
  end
{%- endmacro %}
