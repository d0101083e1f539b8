{#- Optional columns are detected, not assumed (docs/sources.md), as Fivetran's
    `fill_staging_columns` does: staging reads the source relation's columns at compile
    time, selects null for an optional column the loader did not write, and stops with one
    message naming the table, the column and the setting that provides it when a required
    column is missing. All dispatched under `plg_signals`. -#}

{#- The lower-cased column names of a source relation, or none when they cannot be read:
    while parsing, and in an offline compile (`--no-introspect`), where the SQL is
    compiled for the loader's full documented shape. A table that does not exist stops the
    build naming the table and the var that points at it. -#}
{% macro plg_relation_columns(relation, setting='') -%}
  {{ return(adapter.dispatch('plg_relation_columns', 'plg_signals')(relation, setting)) }}
{%- endmacro %}

{% macro default__plg_relation_columns(relation, setting) -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- if flags.INTROSPECT is defined and not flags.INTROSPECT -%}{{ return(none) }}{%- endif -%}
  {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
  {%- if found is none -%}
    {{ exceptions.raise_compiler_error(
        "plg_signals: source table " ~ relation ~ " does not exist"
        ~ ("; it is set by " ~ setting if setting else "")
        ~ " (docs/sources.md)") }}
  {%- endif -%}
  {%- set names = [] -%}
  {%- for column in adapter.get_columns_in_relation(found) -%}
    {%- do names.append(column.name | lower) -%}
  {%- endfor -%}
  {{ return(names) }}
{%- endmacro %}

{#- True when `name` is a column of the relation (or the columns are unknown). -#}
{% macro plg_has_column(columns, name) -%}
  {{ return(adapter.dispatch('plg_has_column', 'plg_signals')(columns, name)) }}
{%- endmacro %}

{% macro default__plg_has_column(columns, name) -%}
  {{ return(columns is none or (name | lower) in columns) }}
{%- endmacro %}

{#- `cast(<column> as <type>)` when the relation has the column, else `cast(null as
    <type>)`. `expr` overrides how the column is written (a quoted keyword column). -#}
{% macro plg_optional_column(columns, name, type, expr=none) -%}
  {{ return(adapter.dispatch('plg_optional_column', 'plg_signals')(columns, name, type, expr)) }}
{%- endmacro %}

{% macro default__plg_optional_column(columns, name, type, expr) -%}
  {%- if name and plg_has_column(columns, name) -%}
    cast({{ expr or name }} as {{ type }})
  {%- else -%}
    cast(null as {{ type }})
  {%- endif -%}
{%- endmacro %}

{#- Stop the build when a required column is missing: one message naming the table, the
    column and, from `provided_by` (column -> text), the var or loader setting that
    provides it. -#}
{% macro plg_require_columns(relation, columns, required, provided_by={}) -%}
  {{ return(adapter.dispatch('plg_require_columns', 'plg_signals')(relation, columns, required, provided_by)) }}
{%- endmacro %}

{% macro default__plg_require_columns(relation, columns, required, provided_by) -%}
  {%- if columns is not none -%}
    {%- for name in required if name and (name | lower) not in columns -%}
      {{ exceptions.raise_compiler_error(
          "plg_signals: table " ~ relation ~ " has no column `" ~ name ~ "`, which "
          ~ model.name ~ " needs; "
          ~ provided_by.get(name, "the loader writes it in its documented shape")
          ~ " (docs/sources.md)") }}
    {%- endfor -%}
  {%- endif -%}
{%- endmacro %}
