{#- Wilson score interval for a binomial proportion (models/marts/activation), dispatched
    under `plg_signals`:
      centre = (p + z^2 / 2n) / (1 + z^2 / n)
      half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)
    Null when n is 0 or null. Arguments are SQL expressions. -#}
{% macro plg_wilson_bound(successes, n, z, side) -%}
  {{ return(adapter.dispatch('plg_wilson_bound', 'plg_signals')(successes, n, z, side)) }}
{%- endmacro %}

{% macro default__plg_wilson_bound(successes, n, z, side) -%}
  {%- set p = "(cast(" ~ successes ~ " as " ~ plg_type_double() ~ ") / nullif(" ~ n ~ ", 0))" -%}
  {%- set nn = "cast(nullif(" ~ n ~ ", 0) as " ~ plg_type_double() ~ ")" -%}
  {%- set zz = "(" ~ z ~ " * " ~ z ~ ")" -%}
  (
    ({{ p }} + {{ zz }} / (2 * {{ nn }}))
    {{ '-' if side == 'lower' else '+' }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ nn }} + {{ zz }} / (4 * {{ nn }} * {{ nn }}))
  ) / (1 + {{ zz }} / {{ nn }})
{%- endmacro %}

{% macro plg_wilson_lower(successes, n, z) -%}
  {{ return(adapter.dispatch('plg_wilson_lower', 'plg_signals')(successes, n, z)) }}
{%- endmacro %}

{% macro default__plg_wilson_lower(successes, n, z) -%}
  {{ plg_wilson_bound(successes, n, z, 'lower') }}
{%- endmacro %}

{% macro plg_wilson_upper(successes, n, z) -%}
  {{ return(adapter.dispatch('plg_wilson_upper', 'plg_signals')(successes, n, z)) }}
{%- endmacro %}

{% macro default__plg_wilson_upper(successes, n, z) -%}
  {{ plg_wilson_bound(successes, n, z, 'upper') }}
{%- endmacro %}
