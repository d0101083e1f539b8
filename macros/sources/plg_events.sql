{#- Segment / RudderStack `tracks` read as the loaders land them (docs/sources.md#events).
    plg_segment_tracks_rows() is the one definition of how a raw row is read and whether
    it is usable: stg_segment__tracks keeps the rows whose `quarantine_reason` is null,
    plg_data_quality counts the others by reason. Dispatched under `plg_signals`. -#}

{#- Where the account of an event comes from: groups (latest `group` call per user),
    context (a column of tracks, e.g. context_group_id) or none (the product database
    only: users.account_id). -#}
{% macro plg_event_account_source() -%}
  {{ return(adapter.dispatch('plg_event_account_source', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_event_account_source() -%}
  {%- set choice = var('plg_event_account_source', 'groups') -%}
  {%- if choice not in ['groups', 'context', 'none'] -%}
    {{ exceptions.raise_compiler_error("var plg_event_account_source is " ~ choice ~ "; use groups, context or none (docs/sources.md)") }}
  {%- endif -%}
  {{ return(choice) }}
{%- endmacro %}

{#- The tracks rows, renamed and cast, with `quarantine_reason` (null = usable) and
    `payload_hash` (to tell a redelivery from a different event reusing an id).
    `incremental_from`: only rows received at or after this time. `row_filter`: a
    condition on the raw table's own columns, applied before any row is renamed, classified
    or hashed (e.g. the ids an incremental run rechecks), so the warehouse reads only those. -#}
{% macro plg_segment_tracks_rows(incremental_from=none, row_filter=none) -%}
  {{ return(adapter.dispatch('plg_segment_tracks_rows', 'plg_signals')(incremental_from, row_filter)) }}
{%- endmacro %}

{% macro default__plg_segment_tracks_rows(incremental_from, row_filter=none) -%}
  {%- set relation = source('segment', 'tracks') -%}
  {%- set columns = plg_relation_columns(relation, 'vars plg_segment_schema / plg_tracks_identifier') -%}
  {%- do plg_require_columns(relation, columns, ['id', 'user_id', 'event', 'timestamp'], {
        'id': 'Segment and RudderStack write it on every row (the message id)',
        'user_id': 'Segment and RudderStack write it once an identify call has run',
        'event': 'Segment and RudderStack write it on every track call',
        'timestamp': 'Segment and RudderStack write it on every row'}) -%}
  {%- set account_source = plg_event_account_source() -%}
  {%- set context_column = var('plg_event_account_id_column', none) or 'context_group_id' -%}
  {%- if account_source == 'context' -%}
    {%- do plg_require_columns(relation, columns, [context_column], {
          context_column: "var plg_event_account_id_column names the tracks column holding the account id (plg_event_account_source: context); use plg_event_account_source: groups to read the groups table instead"}) -%}
  {%- endif -%}
  {#- properties: the var's column, else a `properties` column when the table has one
      (neither loader documents one: custom properties go to per-event tables) -#}
  {%- set properties_column = var('plg_event_properties_column', none)
        or ('properties' if columns is not none and 'properties' in columns else 'null') -%}
  {#- the time the warehouse received the row: received_at, else the loader's load time;
      an offline compile (columns unknown) reads the documented received_at -#}
  {%- set received = [] -%}
  {%- set candidates = ['received_at'] if columns is none else ['received_at', 'loaded_at', 'uuid_ts'] -%}
  {%- for candidate in candidates if plg_has_column(columns, candidate) -%}
    {%- do received.append('cast(' ~ candidate ~ ' as ' ~ dbt.type_timestamp() ~ ')') -%}
  {%- endfor -%}
  {%- do received.append('cast(' ~ plg_source_column('timestamp') ~ ' as ' ~ dbt.type_timestamp() ~ ')') -%}
  {%- set received_expr = 'coalesce(' ~ (received | join(', ')) ~ ')' if received | length > 1 else received[0] -%}
  {%- set tolerance_hours = var('plg_event_future_tolerance_hours', 24) -%}
  with raw_tracks as (
      select
          cast(id as {{ dbt.type_string() }}) as event_id,
          cast(user_id as {{ dbt.type_string() }}) as user_id,
          {% if account_source == 'context' -%}
          cast({{ context_column }} as {{ dbt.type_string() }})
          {%- else -%}
          cast(null as {{ dbt.type_string() }})
          {%- endif %} as context_account_id,
          cast(event as {{ dbt.type_string() }}) as event_name,
          cast({{ plg_source_column('timestamp') }} as {{ dbt.type_timestamp() }}) as occurred_at,
          {{ received_expr }} as received_at,
          {% if properties_column != 'null' -%}
          {{ plg_optional_column(columns, properties_column, dbt.type_string()) }}
          {%- else -%}
          cast(null as {{ dbt.type_string() }})
          {%- endif %} as properties
      from {{ relation }}
      where user_id is not null
      {%- if incremental_from %}
        and {{ received_expr }} >= {{ incremental_from }}
      {%- endif %}
      {%- if row_filter %}
        and ({{ row_filter }})
      {%- endif %}
  )

  select
      raw_tracks.*,
      case
          when event_id is null or trim(event_id) = '' then 'missing_key'
          when event_name is null or trim(event_name) = '' then 'missing_event_name'
          when occurred_at is null then 'missing_timestamp'
          when occurred_at > cast({{ dbt.dateadd('hour', tolerance_hours, plg_as_of()) }} as {{ dbt.type_timestamp() }})
              then 'future_timestamp'
      end as quarantine_reason,
      {{ surrogate_key(['user_id', 'event_name', 'occurred_at']) }} as payload_hash
  from raw_tracks
{%- endmacro %}

{#- The event ids with more than one usable copy in the tracks rows read with the same
    arguments as plg_segment_tracks_rows: the only ids whose copies need comparing or
    ranking (a redelivery, or an id reused for a different event). Aggregating the ids
    first keeps the full build from windowing every event. -#}
{% macro plg_segment_tracks_repeated_ids(incremental_from=none, row_filter=none) -%}
  {{ return(adapter.dispatch('plg_segment_tracks_repeated_ids', 'plg_signals')(incremental_from, row_filter)) }}
{%- endmacro %}

{% macro default__plg_segment_tracks_repeated_ids(incremental_from, row_filter=none) -%}
  select event_id
  from ({{ plg_segment_tracks_rows(incremental_from=incremental_from, row_filter=row_filter) }}) as rows_read
  where quarantine_reason is null
  group by event_id
  having count(*) > 1
{%- endmacro %}
