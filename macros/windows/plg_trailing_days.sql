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
