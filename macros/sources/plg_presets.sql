{#- Source presets: which loader's table shape the staging models read (docs/sources.md).
    Presets are var switches, not adapter differences; the macros still dispatch under
    `plg_signals` so a consumer can add a preset of their own by overriding one. -#}

{#- The event loader: segment (default) or rudderstack. Both land a `tracks` table with
    id, user_id, event, timestamp, received_at and flattened context_* columns. -#}
{% macro plg_event_source() -%}
  {{ return(adapter.dispatch('plg_event_source', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_event_source() -%}
  {%- set preset = var('plg_event_source', 'segment') -%}
  {%- if preset not in ['segment', 'rudderstack'] -%}
    {{ exceptions.raise_compiler_error("var plg_event_source is " ~ preset ~ "; use segment or rudderstack (docs/sources.md)") }}
  {%- endif -%}
  {{ return(preset) }}
{%- endmacro %}

{#- The column of the tracks table that holds `role` (account_id | properties): the var
    override if set, else the preset's column. `null` means the loader has no such column. -#}
{% macro plg_event_column(role) -%}
  {{ return(adapter.dispatch('plg_event_column', 'plg_signals')(role)) }}
{%- endmacro %}

{% macro default__plg_event_column(role) -%}
  {%- set preset = plg_event_source() -%}
  {%- set defaults = {
      'segment': {'account_id': 'context_group_id', 'properties': 'properties'},
      'rudderstack': {'account_id': 'context_group_id', 'properties': 'null'},
  } -%}
  {{ return(var('plg_event_' ~ role ~ '_column', none) or defaults[preset][role]) }}
{%- endmacro %}

{#- The CRM shape: generic (one companies table with account_id, lifecycle_stage,
    owner_email), hubspot or salesforce (as Fivetran lands them). -#}
{% macro plg_crm_source() -%}
  {{ return(adapter.dispatch('plg_crm_source', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_crm_source() -%}
  {%- set preset = var('plg_crm_source', 'generic') -%}
  {%- if preset not in ['generic', 'hubspot', 'salesforce'] -%}
    {{ exceptions.raise_compiler_error("var plg_crm_source is " ~ preset ~ "; use generic, hubspot or salesforce (docs/sources.md)") }}
  {%- endif -%}
  {{ return(preset) }}
{%- endmacro %}
