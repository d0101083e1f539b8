{#- The source tables whose quarantined share of rows is above `threshold` (0-1), from
    plg_data_quality: used by the warn and error tests in tests/dbt. -#}
{% macro plg_quarantine_share_above(threshold) -%}
  {{ return(adapter.dispatch('plg_quarantine_share_above', 'plg_signals')(threshold)) }}
{%- endmacro %}

{% macro default__plg_quarantine_share_above(threshold) -%}
  select
      source_name,
      table_name,
      sum(row_count) as quarantined_rows,
      max(table_row_count) as table_row_count,
      sum(row_count) * 1.0 / nullif(max(table_row_count), 0) as quarantined_pct
  from {{ ref('plg_data_quality') }}
  where action = 'quarantined'
  group by source_name, table_name
  having sum(row_count) * 1.0 / nullif(max(table_row_count), 0) > {{ threshold }}
{%- endmacro %}
