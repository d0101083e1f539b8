{#- Helpers of the sync models (models/sync), dispatched under `plg_signals`. -#}

{#- sync_hash(relation_alias): a hash of every column of the row, computed in SQL.
    The sync engine compares it with the hash it stored when the destination last
    acknowledged the record, so only changed rows leave the warehouse. Hashing the whole
    row (as JSON) means a column added to a sync model is covered without editing a list.
    Use it in the final select of a sync model: `select final.*, {{ sync_hash('final') }}
    as sync_hash from final`. -#}
{% macro sync_hash(relation_alias) -%}
  {{ return(adapter.dispatch('sync_hash', 'plg_signals')(relation_alias)) }}
{%- endmacro %}

{% macro default__sync_hash(relation_alias) -%}
  md5(cast(to_json({{ relation_alias }}) as {{ dbt.type_string() }}))
{%- endmacro %}

{% macro snowflake__sync_hash(relation_alias) -%}
  {#- object keys are stored sorted, so the JSON text is stable; nulls kept explicitly -#}
  md5(to_json(object_construct_keep_null({{ relation_alias }}.*)))
{%- endmacro %}

{% macro bigquery__sync_hash(relation_alias) -%}
  to_hex(md5(to_json_string({{ relation_alias }})))
{%- endmacro %}

{#- The window in which signal occurrences are offered as events: older ones leave the
    model (and the event sync ignores removals), so a first sync does not replay history. -#}
{% macro plg_event_window_start() -%}
  {{ return(adapter.dispatch('plg_event_window_start', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_event_window_start() -%}
  {{ date_add_days(plg_as_of_date(), -1 * var('plg_signal_event_lookback_days')) }}
{%- endmacro %}
