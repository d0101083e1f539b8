{#- Incremental plumbing shared by the per-day models; dispatched under `plg_signals`. -#}

{#- delete+insert where the adapter has it cheaply (DuckDB), merge elsewhere. -#}
{% macro plg_incremental_strategy() -%}
  {{ return(adapter.dispatch('plg_incremental_strategy', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_incremental_strategy() -%}
  {{ return('merge') }}
{%- endmacro %}

{% macro duckdb__plg_incremental_strategy() -%}
  {{ return('delete+insert') }}
{%- endmacro %}

{#- Adapter-only physical configs for a per-day table: BigQuery partitions by day,
    Snowflake clusters by day; DuckDB needs neither (and rejects partition_by). -#}
{% macro plg_day_partition(column) -%}
  {{ return(adapter.dispatch('plg_day_partition', 'plg_signals')(column)) }}
{%- endmacro %}

{% macro default__plg_day_partition(column) -%}
  {{ return(none) }}
{%- endmacro %}

{% macro bigquery__plg_day_partition(column) -%}
  {{ return({'field': column, 'data_type': 'date', 'granularity': 'day'}) }}
{%- endmacro %}

{% macro plg_day_cluster(column) -%}
  {{ return(adapter.dispatch('plg_day_cluster', 'plg_signals')(column)) }}
{%- endmacro %}

{% macro default__plg_day_cluster(column) -%}
  {{ return(none) }}
{%- endmacro %}

{% macro snowflake__plg_day_cluster(column) -%}
  {{ return([column]) }}
{%- endmacro %}

{#- The first day an incremental run recomputes: the newest day already built minus the
    lookback for late-arriving events. Whole days are recomputed, never partial groups. -#}
{% macro plg_incremental_start(day_column) -%}
  {{ return(adapter.dispatch('plg_incremental_start', 'plg_signals')(day_column)) }}
{%- endmacro %}

{% macro default__plg_incremental_start(day_column) -%}
  (select {{ date_add_days('max(' ~ day_column ~ ')', -1 * var('plg_incremental_lookback_days')) }} from {{ this }})
{%- endmacro %}

{#- Optional lower bound for the first build (var plg_history_start_date). -#}
{% macro plg_history_filter(date_expr) -%}
  {{ return(adapter.dispatch('plg_history_filter', 'plg_signals')(date_expr)) }}
{%- endmacro %}

{% macro default__plg_history_filter(date_expr) -%}
  {%- if var('plg_history_start_date', none) -%}
    and {{ date_expr }} >= cast('{{ var("plg_history_start_date") }}' as date)
  {%- endif -%}
{%- endmacro %}
