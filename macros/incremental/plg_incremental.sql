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
    lookback for late-arriving events. Whole days are recomputed, never partial groups.
    With `changes` (a relation with `last_received_at` and a day column, e.g.
    int_account_daily_activity), the start moves back to the oldest day that holds events
    the warehouse received since this model's own watermark (plg_received_watermark), so
    an event that arrives weeks late is counted without a --full-refresh (issue 17.2). -#}
{% macro plg_incremental_start(day_column, changes=none, changes_day_column='activity_date') -%}
  {{ return(adapter.dispatch('plg_incremental_start', 'plg_signals')(day_column, changes, changes_day_column)) }}
{%- endmacro %}

{% macro default__plg_incremental_start(day_column, changes=none, changes_day_column='activity_date') -%}
  {%- set newest_minus_lookback = date_add_days('max(' ~ day_column ~ ')', -1 * var('plg_incremental_lookback_days')) -%}
  {%- if changes is none -%}
  (select {{ newest_minus_lookback }} from {{ this }})
  {%- else -%}
  (select least(
      {{ newest_minus_lookback }},
      coalesce(
          (select min({{ changes_day_column }}) from {{ changes }}
           where last_received_at >= {{ plg_received_watermark() }}),
          {{ newest_minus_lookback }}
      )
   ) from {{ this }})
  {%- endif -%}
{%- endmacro %}

{#- Incremental windows of event-fed models follow what the warehouse received, not the
    client clock: every such model stores `last_received_at` (the newest receipt time of
    the events behind each row), and a run recomputes the days holding events received
    since its own newest receipt minus plg_incremental_lookback_days (for loaders that
    commit batches out of order). A model with no receipt yet (its first run after an
    upgrade added the column) recomputes every day once, without a --full-refresh. -#}
{% macro plg_received_watermark() -%}
  {{ return(adapter.dispatch('plg_received_watermark', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_received_watermark() -%}
  {#- A table built before the column existed (an upgrade) has no watermark: everything
      counts as newly received once, and on_schema_change adds the column. -#}
  {%- set has_watermark = true -%}
  {#- in a unit test `this` is the name of the given rows, not a relation -#}
  {%- if execute and is_incremental() and this is not string -%}
    {#- plg_column_names reads the columns once per model and run (some models ask twice) -#}
    {%- set relation = load_relation(this) -%}
    {%- if relation is not none -%}
      {%- set has_watermark = 'last_received_at' in plg_column_names(relation) -%}
    {%- endif -%}
  {%- endif -%}
  {%- if has_watermark -%}
  coalesce(
      (select {{ ts_add_days('max(last_received_at)', -1 * var('plg_incremental_lookback_days')) }} from {{ this }}),
      cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
  )
  {%- else -%}
  cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
  {%- endif -%}
{%- endmacro %}

{#- Where-clause for a sparse per-day model (one row per entity and active day): the
    recent days (newest built day minus the lookback) and every older day of `changes`
    that received events since this model's watermark. -#}
{% macro plg_recompute_days(day_column, changes, changes_day_column='activity_date') -%}
  {{ return(adapter.dispatch('plg_recompute_days', 'plg_signals')(day_column, changes, changes_day_column)) }}
{%- endmacro %}

{% macro default__plg_recompute_days(day_column, changes, changes_day_column='activity_date') -%}
  (
      -- a plain lower bound first, so the warehouse can skip older partitions
      {{ day_column }} >= {{ plg_incremental_start(day_column, changes, changes_day_column) }}
      and (
          {{ day_column }} >= {{ plg_incremental_start(day_column) }}
          or {{ day_column }} in (
              select {{ changes_day_column }} from {{ changes }}
              where last_received_at >= {{ plg_received_watermark() }}
          )
      )
  )
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

{#- The value of a one-row query over `this` (a watermark, the newest built day) written
    into the SQL as a literal of `data_type`, read when the model is compiled. A literal
    lets the warehouse filter while it scans; the same bound as a scalar subquery inside
    an `or` made DuckDB join every row to it. In a dbt unit test `this` is the name of the
    given rows, not a table, so the expression stays a subquery there. -#}
{% macro plg_incremental_value(expression, data_type) -%}
  {{ return(adapter.dispatch('plg_incremental_value', 'plg_signals')(expression, data_type)) }}
{%- endmacro %}

{% macro default__plg_incremental_value(expression, data_type) -%}
  {%- if not execute -%}
  cast(null as {{ data_type }})
  {%- elif this is string -%}
  cast(({{ expression }}) as {{ data_type }})
  {%- else -%}
    {%- set value = run_query('select cast((' ~ expression ~ ') as ' ~ data_type ~ ') as value').columns[0].values()[0] -%}
    {%- if value is none -%}
  cast(null as {{ data_type }})
    {%- else -%}
  cast('{{ value }}' as {{ data_type }})
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}
