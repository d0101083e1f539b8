{#- Cross-database helpers not covered by dbt's own dbt.* macros. Every macro dispatches
    under `plg_signals` (default__/duckdb__/snowflake__/bigquery__), so models never branch
    on target.type and a consumer can override any of them with
    `dispatch: [{macro_namespace: plg_signals, search_order: [my_project, plg_signals]}]`. -#}

{#- A 64-bit floating type for ratios and intervals: dbt.type_float() is a 4-byte REAL on
    DuckDB, too coarse for Wilson bounds compared in tests. -#}
{% macro plg_type_double() -%}
  {{ return(adapter.dispatch('plg_type_double', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_type_double() -%}
  double precision
{%- endmacro %}

{% macro snowflake__plg_type_double() -%}
  double
{%- endmacro %}

{% macro bigquery__plg_type_double() -%}
  float64
{%- endmacro %}

{#- A stable, adapter-independent key from several columns (nulls become a marker). -#}
{% macro surrogate_key(fields) -%}
  {{ return(adapter.dispatch('surrogate_key', 'plg_signals')(fields)) }}
{%- endmacro %}

{% macro default__surrogate_key(fields) -%}
  {%- set parts = [] -%}
  {%- for f in fields -%}
    {%- do parts.append("coalesce(cast(" ~ f ~ " as " ~ dbt.type_string() ~ "), '_plg_null_')") -%}
    {%- if not loop.last %}{%- do parts.append("'|'") -%}{%- endif -%}
  {%- endfor -%}
  {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- The text of several string expressions joined end to end, for arguments that are never
    null (concat's null rules differ: DuckDB skips a null, Snowflake and BigQuery return
    null). One variadic concat(...) instead of a chain of `||`: each `||` copies the
    growing string, so a chain over n parts copies O(n^2) bytes per row (sync_hash over a
    30-column row: 0.5 s of a 1.1 s model on medium data). The default keeps `||`, which
    every warehouse has (Redshift's concat takes exactly two arguments). -#}
{% macro plg_concat_text(parts) -%}
  {{ return(adapter.dispatch('plg_concat_text', 'plg_signals')(parts)) }}
{%- endmacro %}

{% macro default__plg_concat_text(parts) -%}
  {{ return(parts | join(' || ')) }}
{%- endmacro %}

{% macro duckdb__plg_concat_text(parts) -%}
  {{ return('concat(' ~ parts | join(', ') ~ ')') }}
{%- endmacro %}

{% macro snowflake__plg_concat_text(parts) -%}
  {{ return(duckdb__plg_concat_text(parts)) }}
{%- endmacro %}

{% macro bigquery__plg_concat_text(parts) -%}
  {{ return(duckdb__plg_concat_text(parts)) }}
{%- endmacro %}

{#- n / d, null when d is zero or null (no divide-by-zero on any warehouse). -#}
{% macro safe_divide(n, d) -%}
  {{ return(adapter.dispatch('safe_divide', 'plg_signals')(n, d)) }}
{%- endmacro %}

{% macro default__safe_divide(n, d) -%}
  ({{ n }}) / nullif({{ d }}, 0)
{%- endmacro %}

{#- A SQL list literal from a list var: ('a', 'b'). An empty list matches nothing. -#}
{% macro in_list(values) -%}
  {{ return(adapter.dispatch('in_list', 'plg_signals')(values)) }}
{%- endmacro %}

{% macro default__in_list(values) -%}
  {%- if values is string -%}{%- set values = [values] -%}{%- endif -%}
  {%- if values | length == 0 -%}(null){%- else -%}
  ({%- for v in values -%}'{{ v | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%})
  {%- endif -%}
{%- endmacro %}

{#- A string value at a top-level key of a JSON text column. -#}
{% macro json_string(column, key) -%}
  {{ return(adapter.dispatch('json_string', 'plg_signals')(column, key)) }}
{%- endmacro %}

{% macro default__json_string(column, key) -%}
  json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro snowflake__json_string(column, key) -%}
  try_parse_json({{ column }}):"{{ key }}"::varchar
{%- endmacro %}

{% macro bigquery__json_string(column, key) -%}
  json_value({{ column }}, '$.{{ key }}')
{%- endmacro %}

{#- One row per day from start_date (inclusive) to end_date (exclusive), column `day`. -#}
{% macro day_series(start_date, end_date) -%}
  {{ return(adapter.dispatch('day_series', 'plg_signals')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__day_series(start_date, end_date) -%}
  select cast(d as date) as day
  from range(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day) as t(d)
{%- endmacro %}

{% macro snowflake__day_series(start_date, end_date) -%}
  {#- generator() needs a constant row count: 100 years of days (cheap), then filtered;
      a span longer than that is cut, so bound old histories with plg_history_start_date. -#}
  select day from (
    select cast({{ dbt.dateadd('day', 'row_number() over (order by seq4()) - 1', 'cast(' ~ start_date ~ ' as date)') }} as date) as day
    from table(generator(rowcount => 36525))
  )
  where day < cast({{ end_date }} as date)
{%- endmacro %}

{% macro bigquery__day_series(start_date, end_date) -%}
  select day
  from unnest(generate_date_array(cast({{ start_date }} as date),
                                  date_sub(cast({{ end_date }} as date), interval 1 day))) as day
{%- endmacro %}

{#- Number of whole days from a to b (b - a), on dates. -#}
{% macro days_between(a, b) -%}
  {{ return(adapter.dispatch('days_between', 'plg_signals')(a, b)) }}
{%- endmacro %}

{% macro default__days_between(a, b) -%}
  {{ dbt.datediff(a, b, 'day') }}
{%- endmacro %}

{#- Hours between two timestamps, fractional. -#}
{% macro hours_between(a, b) -%}
  {{ return(adapter.dispatch('hours_between', 'plg_signals')(a, b)) }}
{%- endmacro %}

{% macro default__hours_between(a, b) -%}
  ({{ dbt.datediff(a, b, 'second') }} / 3600.0)
{%- endmacro %}

{#- Boolean type-safe cast for seeds that arrive as text. -#}
{% macro to_bool(expr) -%}
  {{ return(adapter.dispatch('to_bool', 'plg_signals')(expr)) }}
{%- endmacro %}

{% macro default__to_bool(expr) -%}
  case when lower(cast({{ expr }} as {{ dbt.type_string() }})) in ('true', 't', '1', 'yes') then true
       when lower(cast({{ expr }} as {{ dbt.type_string() }})) in ('false', 'f', '0', 'no') then false
  end
{%- endmacro %}

{#- A score clamped to [-1, 1] (values outside are loader errors; null stays null). -#}
{% macro plg_clamp_unit(expr) -%}
  {{ return(adapter.dispatch('plg_clamp_unit', 'plg_signals')(expr)) }}
{%- endmacro %}

{% macro default__plg_clamp_unit(expr) -%}
  case
        when {{ expr }} is null then null
        when {{ expr }} > 1 then 1.0
        when {{ expr }} < -1 then -1.0
        else cast({{ expr }} as {{ plg_type_double() }})
    end
{%- endmacro %}

{#- A number as text, the same on every warehouse: DuckDB writes a whole double as "-1.0"
    where Snowflake and BigQuery write "-1", so a trailing ".0" is dropped (the pattern
    uses a character class: no backslash escaping differs between warehouses). -#}
{% macro plg_number_text(expr) -%}
  {{ return(adapter.dispatch('plg_number_text', 'plg_signals')(expr)) }}
{%- endmacro %}

{% macro default__plg_number_text(expr) -%}
  regexp_replace(cast({{ expr }} as {{ dbt.type_string() }}), '[.]0$', '')
{%- endmacro %}
