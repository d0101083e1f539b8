{#- trailing_days(aggregate, days, skip_days=0): `aggregate` over the `days` days ending
    `skip_days` days before each row's day (0 = ending on it). Counts rows, so the input
    must be dense: one row per partition and day (int_account_days gives that).
    Dispatched under `plg_signals`. -#}
{% macro trailing_days(aggregate, days, skip_days=0, partition_by='account_id', order_by='day') -%}
  {{ return(adapter.dispatch('trailing_days', 'plg_signals')(aggregate, days, skip_days, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__trailing_days(aggregate, days, skip_days, partition_by, order_by) -%}
  {{ aggregate }} over (
            partition by {{ partition_by }} order by {{ order_by }}
            rows between {{ days + skip_days - 1 }} preceding
                     and {% if skip_days > 0 %}{{ skip_days }} preceding{% else %}current row{% endif %}
        )
{%- endmacro %}

{#- A trailing window read from running totals (issue 19): the sum of `column` over the
    n days ending `skip` days before the row's day is cumulative[d - skip] -
    cumulative[d - skip - n]. The model stores `cumulative_<column>` and `cumulative_day_count`
    per dense day and joins its running totals at each day offset k as `h<k>` (the row's
    own day is `current`); a total before the first day is 0. A window that skips days and
    covers none of the entity's days is null, as a window function over no rows would be. -#}
{% macro running_window(column, n, skip=0, current='cumulative') -%}
  {{ return(adapter.dispatch('running_window', 'plg_signals')(column, n, skip, current)) }}
{%- endmacro %}

{% macro default__running_window(column, n, skip, current) -%}
  {%- set lower = 'coalesce(h' ~ (n + skip) ~ '.cumulative_' ~ column ~ ', 0)' -%}
  {%- if skip == 0 -%}
    ({{ current }}.cumulative_{{ column }} - {{ lower }})
  {%- else -%}
    (case when coalesce(h{{ skip }}.cumulative_day_count, 0) > coalesce(h{{ n + skip }}.cumulative_day_count, 0)
          then h{{ skip }}.cumulative_{{ column }} - {{ lower }} end)
  {%- endif -%}
{%- endmacro %}
