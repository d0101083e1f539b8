{#- When an event happened, for windows and days (issue 17.2): the client's timestamp,
    clamped to the time the warehouse received it. An event cannot happen after it was
    received; a client clock running ahead would otherwise date it in the future and push
    incremental windows forward. A loader without a receipt time keeps the client's
    timestamp. Dispatched under `plg_signals` so a consumer can override it. -#}
{% macro plg_event_time(occurred_at, received_at) -%}
  {{ return(adapter.dispatch('plg_event_time', 'plg_signals')(occurred_at, received_at)) }}
{%- endmacro %}

{% macro default__plg_event_time(occurred_at, received_at) -%}
  case
      when {{ received_at }} is not null and {{ occurred_at }} > {{ received_at }} then {{ received_at }}
      else {{ occurred_at }}
  end
{%- endmacro %}
