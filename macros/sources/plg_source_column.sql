{#- Warehouse differences in how source tables are addressed (models/staging). -#}

{#- A source column whose name is a keyword (Segment's `timestamp`), quoted so every
    warehouse reads it as a column. Snowflake folds unquoted names to upper case and
    loaders (Segment, RudderStack, Fivetran) create columns unquoted, so the column is
    TIMESTAMP there and a quoted "timestamp" would not resolve; DuckDB and BigQuery
    compare quoted names case-insensitively. -#}
{% macro plg_source_column(name) -%}
  {{ return(adapter.dispatch('plg_source_column', 'plg_signals')(name)) }}
{%- endmacro %}

{% macro default__plg_source_column(name) -%}
  {{ adapter.quote(name) }}
{%- endmacro %}

{% macro snowflake__plg_source_column(name) -%}
  {{ adapter.quote(name | upper) }}
{%- endmacro %}
