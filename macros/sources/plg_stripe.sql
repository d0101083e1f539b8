{#- Stripe via Fivetran helpers (docs/sources.md#billing-stripe-via-fivetran). -#}

{#- The value of metadata key `key` on a Stripe object: Fivetran lands `metadata` as one
    JSON text column (extracted per warehouse by json_string); a flattened
    `metadata_<key>` column (older connectors, or a view of yours) is read when present. -#}
{% macro plg_stripe_metadata_value(columns, relation, key, setting) -%}
  {{ return(adapter.dispatch('plg_stripe_metadata_value', 'plg_signals')(columns, relation, key, setting)) }}
{%- endmacro %}

{% macro default__plg_stripe_metadata_value(columns, relation, key, setting) -%}
  {%- if columns is not none and ('metadata_' ~ key) in columns -%}
    cast(metadata_{{ key }} as {{ dbt.type_string() }})
  {%- else -%}
    {%- do plg_require_columns(relation, columns, ['metadata'], {'metadata': setting}) -%}
    {{ json_string('metadata', key) }}
  {%- endif -%}
{%- endmacro %}

{#- A price's amount per month: amount (cents per unit per interval_count intervals) x
    quantity / 100, then per interval: day x 365/12, week x 52/12, month x 1, year / 12;
    divided by interval_count (a price billed every 3 months is a third per month). -#}
{% macro plg_stripe_monthly_amount(amount_cents, quantity, billing_interval, interval_count) -%}
  {{ return(adapter.dispatch('plg_stripe_monthly_amount', 'plg_signals')(amount_cents, quantity, billing_interval, interval_count)) }}
{%- endmacro %}

{% macro default__plg_stripe_monthly_amount(amount_cents, quantity, billing_interval, interval_count) -%}
  (
        case {{ billing_interval }}
            when 'day' then {{ amount_cents }} * {{ quantity }} / 100.0 * 365 / 12
            when 'week' then {{ amount_cents }} * {{ quantity }} / 100.0 * 52 / 12
            when 'year' then {{ amount_cents }} * {{ quantity }} / 100.0 / 12
            else {{ amount_cents }} * {{ quantity }} / 100.0
        end / nullif({{ interval_count }}, 0)
    )
{%- endmacro %}
