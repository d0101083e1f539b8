{#- One rule for subscription versions (issue 17.4), used by every model that reads
    stg_stripe__subscription_history, so the billing snapshot (int_account_billing) and the
    daily churn history (account_health_daily) can never disagree about which version holds.
    Dispatched under `plg_signals` so a consumer can override it.

    In force at time `at`: valid_from <= at < valid_to, and a null valid_to is an open
    version that never ends. Half-open, so a shape whose end equals the next version's start
    (dbt snapshots) never has two versions at once; Fivetran history mode ends a version one
    millisecond before the next one starts (`_fivetran_end`), so it loses nothing but that
    millisecond; its open versions end on 9999-12-31, others leave the end null. -#}
{% macro plg_version_in_force(alias, at) -%}
  {{ return(adapter.dispatch('plg_version_in_force', 'plg_signals')(alias, at)) }}
{%- endmacro %}

{% macro default__plg_version_in_force(alias, at) -%}
  ({{ alias }}.valid_from <= {{ at }} and ({{ alias }}.valid_to is null or {{ alias }}.valid_to > {{ at }}))
{%- endmacro %}

{#- When an account has several versions in force (several subscriptions), the one that
    speaks for the account: a live one over a canceled one, then the latest to start. Use
    as the `order by` of a row_number() partitioned by account. -#}
{% macro plg_version_preference(alias) -%}
  {{ return(adapter.dispatch('plg_version_preference', 'plg_signals')(alias)) }}
{%- endmacro %}

{% macro default__plg_version_preference(alias) -%}
  case when {{ alias }}.status = 'canceled' then 1 else 0 end, {{ alias }}.valid_from desc, {{ alias }}.subscription_id
{%- endmacro %}
