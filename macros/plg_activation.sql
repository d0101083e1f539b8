{#- Helpers for the activation marts (models/marts/activation). -#}

{#- A 64-bit floating type for ratios and intervals: dbt.type_float() is a 4-byte REAL on
    DuckDB, too coarse for Wilson bounds compared in tests. -#}
{% macro plg_type_double() -%}
  {{ return(adapter.dispatch('plg_type_double', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_type_double() -%}
  double precision
{%- endmacro %}

{% macro snowflake__plg_type_double() -%}
  double
{%- endmacro %}

{% macro bigquery__plg_type_double() -%}
  float64
{%- endmacro %}

{#- The as-of time minus n days, as a timestamp on every adapter (dbt.dateadd returns a
    DATETIME on BigQuery, which does not compare with TIMESTAMP columns). -#}
{% macro plg_as_of_minus_days(n) -%}
  cast({{ dbt.dateadd('day', -1 * n, plg_as_of()) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Wilson score interval for a binomial proportion successes / n at normal quantile z:
      centre = (p + z^2 / 2n) / (1 + z^2 / n)
      half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)
    Null when n is 0 or null. Arguments are SQL expressions. -#}
{% macro plg_wilson_bound(successes, n, z, side) -%}
  {%- set p = "(cast(" ~ successes ~ " as " ~ plg_type_double() ~ ") / nullif(" ~ n ~ ", 0))" -%}
  {%- set nn = "cast(nullif(" ~ n ~ ", 0) as " ~ plg_type_double() ~ ")" -%}
  {%- set zz = "(" ~ z ~ " * " ~ z ~ ")" -%}
  (
    ({{ p }} + {{ zz }} / (2 * {{ nn }}))
    {{ '-' if side == 'lower' else '+' }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ nn }} + {{ zz }} / (4 * {{ nn }} * {{ nn }}))
  ) / (1 + {{ zz }} / {{ nn }})
{%- endmacro %}

{% macro plg_wilson_lower(successes, n, z) -%}
  {{ plg_wilson_bound(successes, n, z, 'lower') }}
{%- endmacro %}

{% macro plg_wilson_upper(successes, n, z) -%}
  {{ plg_wilson_bound(successes, n, z, 'upper') }}
{%- endmacro %}
