{#- One definition of an active user (issue 17.6), used wherever users are counted or
    picked: signed up at or before the as-of time and not deactivated by then, i.e.
    created_at <= as-of < deactivated_at (a null deactivated_at never ends). account_signals'
    active_user_count, account_plan_limits' seat usage, user_activation.is_active_user and
    the billing owner all read it. `prefix` qualifies the columns (e.g. 'users.').
    Dispatched under `plg_signals` so a consumer can override it. -#}
{% macro plg_user_is_active(prefix='', at=none) -%}
  {{ return(adapter.dispatch('plg_user_is_active', 'plg_signals')(prefix, at)) }}
{%- endmacro %}

{% macro default__plg_user_is_active(prefix='', at=none) -%}
  {%- set at = at if at is not none else plg_as_of() -%}
  ({{ prefix }}created_at <= {{ at }} and ({{ prefix }}deactivated_at is null or {{ prefix }}deactivated_at > {{ at }}))
{%- endmacro %}
