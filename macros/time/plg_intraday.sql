{#- Intraday signals (issue 18): the as-of day counts up to plg_as_of.

    A day "has started" when its first instant is before plg_as_of. The last started day
    is the as-of day itself (partial, up to plg_as_of), except when plg_as_of is exactly
    midnight: then the day before is the last one and it is complete. So a build at
    midnight sees exactly the complete days, and a build at 12:05 also sees the morning.

    Windows are calendar days ending with the last started day: "the N days ending at
    plg_as_of" = that day (so far) and the N - 1 days before it. A day's row only grows
    while the day runs (events are added, none leave), so a crossing seen at noon is
    still there at midnight, and every incremental run recomputes the partial day (it is
    always inside the lookback). -#}

{% macro plg_last_day() -%}
  {{ return(adapter.dispatch('plg_last_day', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_last_day() -%}
  (case
      when cast(cast({{ plg_as_of() }} as date) as {{ dbt.type_timestamp() }}) = {{ plg_as_of() }}
          then {{ date_add_days(plg_as_of_date(), -1) }}
      else {{ plg_as_of_date() }}
  end)
{%- endmacro %}

{#- The exclusive end of the day spine: the day after the last started day. -#}
{% macro plg_day_spine_end() -%}
  {{ return(adapter.dispatch('plg_day_spine_end', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_day_spine_end() -%}
  {{ date_add_days(plg_last_day(), 1) }}
{%- endmacro %}

{#- The first day of the n-day window that ends with the last started day. -#}
{% macro plg_window_start_day(n) -%}
  {{ return(adapter.dispatch('plg_window_start_day', 'plg_signals')(n)) }}
{%- endmacro %}

{% macro default__plg_window_start_day(n) -%}
  {{ date_add_days(plg_last_day(), -1 * (n - 1)) }}
{%- endmacro %}

{#- The share of a day that lies before plg_as_of: 1 for a complete day, the elapsed part
    (e.g. 0.51 at 12:15) for the as-of day while it runs. Windows that compare the partial
    day with complete days prorate by it, so a morning does not read as a usage drop. -#}
{% macro plg_day_elapsed_fraction(day_expr) -%}
  {{ return(adapter.dispatch('plg_day_elapsed_fraction', 'plg_signals')(day_expr)) }}
{%- endmacro %}

{% macro default__plg_day_elapsed_fraction(day_expr) -%}
  (case
      when {{ day_expr }} = {{ plg_as_of_date() }}
          then least(1.0, {{ dbt.datediff('cast(' ~ day_expr ~ ' as ' ~ dbt.type_timestamp() ~ ')', plg_as_of(), 'second') }} / 86400.0)
      else 1.0
  end)
{%- endmacro %}
