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

{#- The strategy of a per-day model whose unique key determines its day (the key is a
    surrogate of the day and other columns, e.g. int_user_event_daily's user_event_day_id):
    on DuckDB delete+insert whose delete is also bounded by the first recomputed day, read
    at run time from the rows about to be inserted (get_incremental_plg_day_delete_insert_sql
    below); elsewhere the same strategy as plg_incremental_strategy (merge). The model names
    its day column in `meta: {plg_day_column: ...}`. -#}
{% macro plg_day_incremental_strategy() -%}
  {{ return(adapter.dispatch('plg_day_incremental_strategy', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_day_incremental_strategy() -%}
  {{ return(plg_incremental_strategy()) }}
{%- endmacro %}

{% macro duckdb__plg_day_incremental_strategy() -%}
  {{ return('plg_day_delete_insert') }}
{%- endmacro %}

{#- dbt's custom incremental strategy `plg_day_delete_insert` (dbt looks the macro up by
    this name): delete+insert, with `<day column> >= <first day of the new rows>` added to
    the delete as a literal. A stored row whose key matches a new row has that row's day,
    so the bound never spares a row the key would delete; it lets DuckDB skip every row
    group of older days (the full build writes the table in day order, plg_day_order,
    and incremental runs append whole recent days) instead of probing every stored key.
    dbt's incremental_predicates cannot do this: they are rendered when the project is
    parsed, before the run knows the day. -#}
{% macro get_incremental_plg_day_delete_insert_sql(arg_dict) -%}
  {{ return(adapter.dispatch('get_incremental_plg_day_delete_insert_sql', 'plg_signals')(arg_dict)) }}
{%- endmacro %}

{% macro default__get_incremental_plg_day_delete_insert_sql(arg_dict) -%}
  {%- set configured = arg_dict['incremental_predicates'] or [] -%}
  {%- set predicates = [configured] if configured is string else [] + configured -%}
  {%- set day_column = (config.get('meta') or {}).get('plg_day_column') -%}
  {%- if day_column is none -%}
    {{ exceptions.raise_compiler_error("incremental_strategy plg_day_delete_insert needs meta: {plg_day_column: <the day column the unique key determines>} on model " ~ this) }}
  {%- endif -%}
  {%- set first_day = run_query('select cast(min(' ~ adapter.quote(day_column) ~ ') as date) from ' ~ arg_dict['temp_relation']).columns[0].values()[0] -%}
  {%- if first_day is not none -%}
    {%- set qualifier = '' if arg_dict['unique_key'] is string else 'DBT_INCREMENTAL_TARGET.' -%}
    {%- do predicates.append(qualifier ~ adapter.quote(day_column) ~ " >= cast('" ~ (first_day ~ '')[:10] ~ "' as date)") -%}
  {%- endif -%}
  {{ return(get_delete_insert_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'], arg_dict['dest_columns'], predicates)) }}
{%- endmacro %}

{#- The order a full build writes a per-day table in: by day on DuckDB, whose per-row-group
    min/max (zonemaps) then let a filter on recent days skip every older row group, for the
    incremental runs' own deletes and for every model reading recent days; incremental
    runs append recent days, so the order holds. BigQuery partitions and Snowflake
    clusters by day instead (plg_day_partition, plg_day_cluster): nothing here. -#}
{% macro plg_day_order(column) -%}
  {{ return(adapter.dispatch('plg_day_order', 'plg_signals')(column)) }}
{%- endmacro %}

{% macro default__plg_day_order(column) -%}
{%- endmacro %}

{% macro duckdb__plg_day_order(column) -%}
  {%- if not is_incremental() -%}
  order by {{ column }}
  {%- endif -%}
{%- endmacro %}
