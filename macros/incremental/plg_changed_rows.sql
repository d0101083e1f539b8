{#- The final select of an incremental per-day model. A run recomputes whole days (the
    lookback and every day that received late events), and most of those rows come out
    exactly as they are stored. In an incremental run only the recomputed rows that differ
    from the stored rows (a new key, or any value changed) are handed to delete+insert or
    merge. That leaves the same table as writing every recomputed row: a row left out is
    already stored with exactly the values it would have been rewritten with, and rows the
    recomputation does not produce were kept before too. It cuts the delete, the insert
    and DuckDB's write-ahead log (and the checkpoint that replays it) from lookback days x
    accounts to about one day x accounts (issue 19).
    `stored_where` bounds the stored rows compared (the recomputed days), so the comparison
    does not read the whole history. Every row is written in a full build, in a unit test
    (`this` is the given rows there) and when the stored table lacks one of the columns (an
    upgrade: on_schema_change adds it in this run). -#}
{% macro plg_changed_rows(cte, columns, stored_where) -%}
  {{ return(adapter.dispatch('plg_changed_rows', 'plg_signals')(cte, columns, stored_where)) }}
{%- endmacro %}

{% macro default__plg_changed_rows(cte, columns, stored_where) -%}
  {%- set ns = namespace(compare=false) -%}
  {%- if execute and is_incremental() and this is not string -%}
    {%- set relation = load_relation(this) -%}
    {%- if relation is not none -%}
      {%- set stored = plg_column_names(relation) -%}
      {%- set missing = columns | map('lower') | reject('in', stored) | list -%}
      {%- set ns.compare = missing | length == 0 -%}
    {%- endif -%}
  {%- endif %}
select {{ columns | join(', ') }}
from {{ cte }}
{%- if ns.compare %}
{{ plg_except_distinct() }}
select {{ columns | join(', ') }}
from {{ this }}
where {{ stored_where }}
{%- endif %}
{%- endmacro %}

{#- EXCEPT with duplicate removal: BigQuery wants the DISTINCT spelled out. -#}
{% macro plg_except_distinct() -%}
  {{ return(adapter.dispatch('plg_except_distinct', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_except_distinct() -%}
except
{%- endmacro %}

{% macro bigquery__plg_except_distinct() -%}
except distinct
{%- endmacro %}
