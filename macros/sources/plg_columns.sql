{#- Optional columns are detected, not assumed (docs/sources.md), as Fivetran's
    `fill_staging_columns` does: staging reads the source relation's columns at compile
    time, selects null for an optional column the loader did not write, and stops with one
    message naming the table, the column and the setting that provides it when a required
    column is missing. All dispatched under `plg_signals`. -#}

{#- The lower-cased column names of a source relation, or none when they cannot be read:
    while parsing, and in an offline compile (`--no-introspect`), where the SQL is
    compiled for the loader's full documented shape. A table that does not exist stops the
    build naming the table and the var that points at it.
    Read once per dbt invocation and relation (plg_column_names caches them): several
    models read the same source (the events table feeds staging and two data-quality
    models). Source tables are not built by dbt, so their columns do not change while a
    run compiles. -#}
{% macro plg_relation_columns(relation, setting='') -%}
  {{ return(adapter.dispatch('plg_relation_columns', 'plg_signals')(relation, setting)) }}
{%- endmacro %}

{% macro default__plg_relation_columns(relation, setting) -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- if flags.INTROSPECT is defined and not flags.INTROSPECT -%}{{ return(none) }}{%- endif -%}
  {%- set names = plg_catalog_columns(relation) -%}
  {%- if names is none -%}
    {%- set found = adapter.get_relation(
          database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if found is none -%}
      {{ exceptions.raise_compiler_error(
          "plg_signals: source table " ~ relation ~ " does not exist"
          ~ ("; it is set by " ~ setting if setting else "")
          ~ " (docs/sources.md)") }}
    {%- endif -%}
    {%- set names = plg_column_names(found) -%}
  {%- endif -%}
  {{ return(names) }}
{%- endmacro %}

{#- The lower-cased column names of an existing relation, in the warehouse's order: from
    the schema's catalog where plg_catalog_columns reads one, else what
    adapter.get_columns_in_relation reports, read once per invocation and relation
    (plg_run_cache: each get_columns_in_relation call costs a query plus a fresh macro
    context, about 10 ms, on every scheduled run). Asked about source tables (dbt does not
    build them) and a model's own table before its build (only that model's run changes
    it, after its compile), so the answer cannot change within the run. -#}
{% macro plg_column_names(relation) -%}
  {{ return(adapter.dispatch('plg_column_names', 'plg_signals')(relation)) }}
{%- endmacro %}

{% macro default__plg_column_names(relation) -%}
  {%- set cache = plg_run_cache('relation_columns') -%}
  {%- set key = relation | string -%}
  {%- if key not in cache -%}
    {%- set names = plg_catalog_columns(relation) -%}
    {%- if names is none -%}
      {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- endif -%}
    {%- do cache.update({key: names}) -%}
  {%- endif -%}
  {{ return(cache[key]) }}
{%- endmacro %}

{#- The lower-cased column names of a table or view as one catalog query per schema and
    invocation lists them (plg_run_cache), or none when the catalog does not list it (or
    the adapter reads no catalog: the default; callers then ask dbt).
    DuckDB: duckdb_columns() for the whole schema, looked up by lower-cased table name
    (DuckDB compares identifiers case-insensitively). One query instead of one describe
    per relation, and for source tables no dependence on dbt's relation cache, which a
    concurrent first fill of the source schema can show half-filled to another thread
    (seen at threads 2: a source table reported missing). The snapshot is shared by the
    nodes of one run for the two kinds of relation it is asked about: source tables (dbt
    does not build them) and a model's own table before its build (only that model's own
    run changes it, after its compile). -#}
{% macro plg_catalog_columns(relation) -%}
  {{ return(adapter.dispatch('plg_catalog_columns', 'plg_signals')(relation)) }}
{%- endmacro %}

{% macro default__plg_catalog_columns(relation) -%}
  {{ return(none) }}
{%- endmacro %}

{% macro duckdb__plg_catalog_columns(relation) -%}
  {%- if relation.database is none or relation.schema is none or relation.identifier is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set cache = plg_run_cache('schema_columns') -%}
  {%- set key = (relation.database ~ '.' ~ relation.schema) | lower -%}
  {%- if key not in cache -%}
    {%- set result = run_query(
          "select lower(table_name) as table_name, lower(column_name) as column_name"
          ~ " from duckdb_columns()"
          ~ " where lower(database_name) = lower('" ~ relation.database | replace("'", "''") ~ "')"
          ~ " and lower(schema_name) = lower('" ~ relation.schema | replace("'", "''") ~ "')"
          ~ " order by table_name, column_index") -%}
    {%- set tables = {} -%}
    {%- for row in result.rows -%}
      {%- if row[0] not in tables -%}{%- do tables.update({row[0]: []}) -%}{%- endif -%}
      {%- do tables[row[0]].append(row[1]) -%}
    {%- endfor -%}
    {%- do cache.update({key: tables}) -%}
  {%- endif -%}
  {{ return(cache[key].get(relation.identifier | lower)) }}
{%- endmacro %}

{#- A dict shared by every node of the current dbt invocation, for reads that cost a query
    and cannot change while the run compiles (plg_column_names). Kept in the `graph`
    context dict, the one object dbt hands to every node of an invocation, under the
    invocation id, so a manifest reused by a programmatic caller (dbtRunner) never serves
    an earlier invocation's answers. -#}
{% macro plg_run_cache(name) -%}
  {{ return(adapter.dispatch('plg_run_cache', 'plg_signals')(name)) }}
{%- endmacro %}

{% macro default__plg_run_cache(name) -%}
  {%- set store = graph.get('plg_signals_run_cache') -%}
  {%- if store is none or store.get('invocation_id') != invocation_id -%}
    {%- set store = {'invocation_id': invocation_id} -%}
    {%- do graph.update({'plg_signals_run_cache': store}) -%}
  {%- endif -%}
  {%- if name not in store -%}{%- do store.update({name: {}}) -%}{%- endif -%}
  {{ return(store[name]) }}
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
