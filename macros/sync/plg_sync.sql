{#- Helpers of the sync models (models/sync), dispatched under `plg_signals`. -#}

{#- sync_hash(relation_alias, columns=none): a hash of every column of the row, computed in SQL.
    The sync engine compares it with the hash it stored when the destination last
    acknowledged the record, so only changed rows leave the warehouse.

    The hash is built from the columns one by one, in a fixed order (sorted by name), never
    from an engine's JSON rendering of the row: JSON key order and number/time formatting are
    the engine's own (Snowflake's object_construct orders keys its own way) and would change
    every hash, and so resend every row, whenever they change. Each value is rendered as
    text in a canonical form (timestamps as microseconds and dates as days since 1970-01-01,
    declared integers as integers; see plg_hash_text), written as `<length>:<text>`, and a null as
    the marker `null` (which no length-prefixed value can equal); values are joined with ','.

    Columns: by default the model's documented columns (its YAML, which the enforced contract
    of every sync model keeps equal to the output), minus `sync_hash` itself; pass `columns`
    (a list of names, or of (name, data_type) pairs) for a model without a YAML entry.
    Use it in the final select of a sync model: `select final.*, {{ sync_hash('final') }}
    as sync_hash from final`. -#}
{% macro sync_hash(relation_alias, columns=none) -%}
  {%- set typed = [] -%}
  {%- if columns is none -%}
    {%- if model.resource_type == 'unit_test' -%}
      {#- A dbt unit test compiles the model as a node of its own, without the model's
          columns or the graph: its rows carry no real hash (unit tests compare the columns
          they list; sync_hash itself is checked by tests/warehouses and the e2e suite). -#}
      {{ return("cast(null as " ~ dbt.type_string() ~ ")") }}
    {%- endif -%}
    {%- for name, column in (model.columns or {}).items() -%}
      {%- do typed.append((name, column.data_type or '')) -%}
    {%- endfor -%}
  {%- else -%}
    {%- for column in columns -%}
      {%- do typed.append((column, '') if column is string else (column[0], column[1] or '')) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set typed = typed | rejectattr(0, 'equalto', 'sync_hash') | sort(attribute=0) | list -%}
  {%- if typed | length == 0 -%}
    {%- if execute -%}
      {{ exceptions.raise_compiler_error(
          "sync_hash(" ~ relation_alias ~ ") in model " ~ model.name ~ " found no columns: "
          ~ "document the model's columns in its YAML (sync models enforce a contract) or "
          ~ "pass them: sync_hash('" ~ relation_alias ~ "', ['col_a', 'col_b'])") }}
    {%- endif -%}
    {{ return("cast(null as " ~ dbt.type_string() ~ ")") }}
  {%- endif -%}
  {%- set parts = [] -%}
  {%- for name, data_type in typed -%}
    {%- set text = plg_hash_text(relation_alias ~ "." ~ name, data_type) -%}
    {%- do parts.append("coalesce(cast(" ~ dbt.length(text) ~ " as " ~ dbt.type_string() ~ ") || ':' || " ~ text ~ ", 'null')") -%}
  {%- endfor -%}
  {#- parts joined with ',' in one plg_concat_text (no part is null: each is coalesced) -#}
  {%- set pieces = [] -%}
  {%- for part in parts -%}
    {%- if not loop.first -%}{%- do pieces.append("','") -%}{%- endif -%}
    {%- do pieces.append(part) -%}
  {%- endfor -%}
  {{ return(adapter.dispatch('sync_hash', 'plg_signals')(plg_concat_text(pieces))) }}
{%- endmacro %}

{% macro default__sync_hash(row_text) -%}
  md5({{ row_text }})
{%- endmacro %}

{% macro bigquery__sync_hash(row_text) -%}
  to_hex(md5({{ row_text }}))
{%- endmacro %}

{#- One value as canonical text for sync_hash. Timestamps and dates become whole numbers
    (microseconds / days since 1970-01-01, via dbt.datediff) rather than formatted text, so
    no session output format and no engine's rendering can change them; declared integers
    go through bigint; everything else is cast to the string type. -#}
{% macro plg_hash_text(expression, data_type) -%}
  {{ return(adapter.dispatch('plg_hash_text', 'plg_signals')(expression, data_type)) }}
{%- endmacro %}

{% macro default__plg_hash_text(expression, data_type) -%}
  {%- set t = (data_type or '') | lower -%}
  {%- if t.startswith('timestamp') or t.startswith('datetime') -%}
    {%- set epoch = "cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")" -%}
    {%- set number = dbt.datediff(epoch, expression, 'microsecond') -%}
  {%- elif t == 'date' -%}
    {%- set number = dbt.datediff("cast('1970-01-01' as date)", expression, 'day') -%}
  {%- elif t in ('integer', 'int', 'bigint', 'smallint', 'int64') or t.startswith('number(38,0)') -%}
    {%- set number = expression -%}
  {%- else -%}
    {{ return("cast(" ~ expression ~ " as " ~ dbt.type_string() ~ ")") }}
  {%- endif -%}
  {{ return("cast(cast(" ~ number ~ " as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")") }}
{%- endmacro %}

{#- The window in which signal occurrences are offered as events: older ones leave the
    model (and the event sync ignores removals), so a first sync does not replay history. -#}
{% macro plg_event_window_start() -%}
  {{ return(adapter.dispatch('plg_event_window_start', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_event_window_start() -%}
  {{ date_add_days(plg_as_of_date(), -1 * var('plg_signal_event_lookback_days')) }}
{%- endmacro %}
