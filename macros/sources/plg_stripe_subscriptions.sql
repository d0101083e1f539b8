{#- Stripe subscription versions with a `quarantine_reason` per row (null = usable):
    stg_stripe__subscription_history keeps the usable ones, plg_data_quality counts the
    others (no subscription id, no start, no product account id). -#}
{% macro plg_stripe_subscription_rows() -%}
  {{ return(adapter.dispatch('plg_stripe_subscription_rows', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_stripe_subscription_rows() -%}

{%- set far_future = "cast('9999-12-31 23:59:59' as " ~ dbt.type_timestamp() ~ ")" -%}
{%- set ts = dbt.type_timestamp() -%}
{%- set str = dbt.type_string() -%}

{#- subscription_history -#}
{%- set subs = source('stripe', 'subscription_history') -%}
{%- set sub_cols = plg_relation_columns(subs, 'vars plg_stripe_schema / plg_subscriptions_identifier') -%}
{%- do plg_require_columns(subs, sub_cols, ['id', 'customer_id', 'status', 'created'], {}) -%}
{%- set sub_history = plg_has_column(sub_cols, '_fivetran_start') -%}

{#- subscription_item -#}
{%- set items = source('stripe', 'subscription_item') -%}
{%- set item_cols = plg_relation_columns(items, 'vars plg_stripe_schema / plg_subscription_items_identifier (Fivetran Stripe table subscription_item)') -%}
{%- do plg_require_columns(items, item_cols, ['id', 'subscription_id', 'plan_id'], {}) -%}
{%- set item_history = plg_has_column(item_cols, '_fivetran_start') -%}

{#- price or plan: var plg_stripe_price_table, default price -#}
{%- set price_table = var('plg_stripe_price_table', 'price') -%}
{%- if price_table not in ['price', 'plan'] -%}
  {{ exceptions.raise_compiler_error("var plg_stripe_price_table is " ~ price_table ~ "; use price or plan (docs/sources.md)") }}
{%- endif -%}
{%- set prices = source('stripe', price_table) -%}
{%- set price_cols = plg_relation_columns(prices, 'var plg_stripe_price_table (' ~ price_table ~ ') and plg_' ~ price_table ~ 's_identifier') -%}
{%- if price_table == 'price' -%}
  {%- set amount_col, interval_col, count_col = 'unit_amount', 'recurring_interval', 'recurring_interval_count' -%}
{%- else -%}
  {%- set amount_col, interval_col, count_col = 'amount', 'interval', 'interval_count' -%}
{%- endif -%}
{%- do plg_require_columns(prices, price_cols, ['id', amount_col, interval_col], {
      amount_col: "Fivetran's Stripe " ~ price_table ~ " table has it; set plg_stripe_price_table to the table you sync (price or plan)",
      interval_col: "Fivetran's Stripe " ~ price_table ~ " table has it; set plg_stripe_price_table to the table you sync (price or plan)"}) -%}
{%- set plan_name_parts = [] -%}
{%- for name in var('plg_stripe_plan_name_columns', ['nickname', 'id']) if plg_has_column(price_cols, name) -%}
  {%- do plan_name_parts.append('cast(' ~ name ~ ' as ' ~ str ~ ')') -%}
{%- endfor -%}

{#- the product account id -#}
{%- set account_from = var('plg_stripe_account_id_from', 'subscription_metadata') -%}
{%- set key = var('plg_stripe_account_id_metadata_key', 'account_id') -%}
{%- if account_from not in ['subscription_metadata', 'customer_metadata', 'mapping'] -%}
  {{ exceptions.raise_compiler_error("var plg_stripe_account_id_from is " ~ account_from ~ "; use subscription_metadata, customer_metadata or mapping (docs/sources.md)") }}
{%- endif -%}
{%- if account_from == 'customer_metadata' -%}
  {%- set customers = source('stripe', 'customer') -%}
  {%- set customer_cols = plg_relation_columns(customers, 'vars plg_stripe_schema / plg_customers_identifier') -%}
{%- elif account_from == 'mapping' -%}
  {%- set mapping = source('app', 'stripe_customer_accounts') -%}
  {%- set mapping_cols = plg_relation_columns(mapping, 'vars plg_app_schema / plg_stripe_customer_mapping_identifier') -%}
  {%- do plg_require_columns(mapping, mapping_cols, ['stripe_customer_id', 'account_id'], {}) -%}
{%- endif %}
with subscription_rows as (
    select
        cast(id as {{ str }}) as subscription_id,
        cast(customer_id as {{ str }}) as customer_id,
        {% if account_from == 'subscription_metadata' -%}
        {{ plg_stripe_metadata_value(sub_cols, subs, key, "Fivetran's Stripe subscription_history has it; or set plg_stripe_account_id_from to customer_metadata or mapping") }}
        {%- else -%}
        cast(null as {{ str }})
        {%- endif %} as metadata_account_id,
        lower(cast(status as {{ str }})) as status,
        {{ plg_optional_column(sub_cols, 'quantity', dbt.type_int()) }} as subscription_quantity,
        {{ plg_optional_column(sub_cols, 'cancel_at_period_end', dbt.type_boolean()) }} as is_cancel_at_period_end,
        {{ plg_optional_column(sub_cols, 'current_period_start', ts) }} as current_period_start_at,
        {{ plg_optional_column(sub_cols, 'current_period_end', ts) }} as current_period_end_at,
        {{ plg_optional_column(sub_cols, 'trial_end', ts) }} as trial_end_at,
        cast(created as {{ ts }}) as created_at,
        {{ plg_optional_column(sub_cols, 'canceled_at', ts) }} as canceled_at,
        {%- if sub_history %}
        cast(_fivetran_start as {{ ts }}) as valid_from,
        coalesce(cast(_fivetran_end as {{ ts }}), {{ far_future }}) as valid_to,
        coalesce({{ plg_optional_column(sub_cols, '_fivetran_active', dbt.type_boolean()) }}, _fivetran_end is null) as is_current_version,
        {%- else %}
        {#- history mode off: one row per subscription, its current state, valid since creation -#}
        cast(created as {{ ts }}) as valid_from,
        {{ far_future }} as valid_to,
        true as is_current_version,
        {%- endif %}
        {{ plg_optional_column(sub_cols, '_fivetran_synced', ts) }} as synced_at,
        {{ plg_optional_column(sub_cols, '_fivetran_active', dbt.type_boolean()) }} as fivetran_active
    from {{ subs }}
),

subscriptions as (
    select * from (
        select
            *,
            row_number() over (
                partition by subscription_id, valid_from order by synced_at desc
            ) as copy_number
        from subscription_rows
        {%- if not sub_history %}
        where coalesce(fivetran_active, true)
        {%- endif %}
    ) as copies
    where copy_number = 1
),

item_rows as (
    select
        cast(id as {{ str }}) as subscription_item_id,
        cast(subscription_id as {{ str }}) as subscription_id,
        cast(plan_id as {{ str }}) as price_id,
        {{ plg_optional_column(item_cols, 'quantity', dbt.type_int()) }} as item_quantity,
        {%- if item_history %}
        cast(_fivetran_start as {{ ts }}) as item_valid_from,
        coalesce(cast(_fivetran_end as {{ ts }}), {{ far_future }}) as item_valid_to
        {%- else %}
        cast('1900-01-01' as {{ ts }}) as item_valid_from,
        {{ far_future }} as item_valid_to
        {%- endif %}
    from {{ items }}
    {%- if not item_history and plg_has_column(item_cols, '_fivetran_deleted') %}
    where not coalesce(cast(_fivetran_deleted as {{ dbt.type_boolean() }}), false)
    {%- endif %}
),

prices as (
    select
        cast(id as {{ str }}) as price_id,
        lower({% if plan_name_parts %}coalesce({{ plan_name_parts | join(', ') }}){% else %}cast(id as {{ str }}){% endif %}) as plan,
        cast({{ amount_col }} as {{ plg_type_double() }}) as amount_cents,
        lower(cast({{ plg_source_column(interval_col) }} as {{ str }})) as billing_interval,
        coalesce({{ plg_optional_column(price_cols, count_col, dbt.type_int()) }}, 1) as interval_count
    from {{ prices }}
),
{%- if account_from == 'customer_metadata' %}

customers as (
    select
        cast(id as {{ str }}) as customer_id,
        {{ plg_stripe_metadata_value(customer_cols, customers, key, "Fivetran's Stripe customer table has it; or set plg_stripe_account_id_from to subscription_metadata or mapping") }} as account_id
    from {{ customers }}
),
{%- elif account_from == 'mapping' %}

customer_accounts as (
    select
        cast(stripe_customer_id as {{ str }}) as customer_id,
        max(cast(account_id as {{ str }})) as account_id
    from {{ mapping }}
    group by 1
),
{%- endif %}

-- every moment the subscription or one of its items changed starts a version
change_points as (
    select subscription_id, valid_from as starts_at from subscriptions
    union all
    select items.subscription_id, items.item_valid_from
    from item_rows as items
    inner join (
        select subscription_id, min(valid_from) as first_valid_from
        from subscriptions group by subscription_id
    ) as firsts on items.subscription_id = firsts.subscription_id
    where items.item_valid_from > firsts.first_valid_from
),

segments as (
    select
        subscription_id,
        starts_at,
        lead(starts_at) over (partition by subscription_id order by starts_at) as next_starts_at
    from (select distinct subscription_id, starts_at from change_points) as points
),

-- an item's price per month: amount (cents per unit per interval_count intervals) x
-- quantity / 100, then day x 365/12, week x 52/12, year / 12, / interval_count
priced_items as (
    select
        segments.subscription_id,
        segments.starts_at,
        items.subscription_item_id,
        prices.plan,
        prices.billing_interval,
        items.item_quantity,
        prices.amount_cents,
        prices.interval_count,
        {{ plg_stripe_monthly_amount('prices.amount_cents', 'coalesce(items.item_quantity, 1)', 'prices.billing_interval', 'prices.interval_count') }}
            as item_monthly_amount
    from segments
    inner join item_rows as items
        on segments.subscription_id = items.subscription_id
        and items.item_valid_from <= segments.starts_at
        and items.item_valid_to >= segments.starts_at
    left join prices on items.price_id = prices.price_id
),

-- the main item (largest monthly amount) names the plan; MRR sums every item
segment_items as (
    select
        subscription_id,
        starts_at,
        plan,
        billing_interval,
        item_quantity,
        amount_cents,
        interval_count,
        count(*) over (partition by subscription_id, starts_at) as item_count,
        sum(item_monthly_amount) over (partition by subscription_id, starts_at) as monthly_amount,
        row_number() over (
            partition by subscription_id, starts_at
            order by item_monthly_amount desc, subscription_item_id
        ) as item_rank
    from priced_items
),

versions as (
    select
        segments.subscription_id,
        subscriptions.customer_id,
        {% if account_from == 'subscription_metadata' -%}
        subscriptions.metadata_account_id
        {%- elif account_from == 'customer_metadata' -%}
        customers.account_id
        {%- else -%}
        customer_accounts.account_id
        {%- endif %} as account_id,
        subscriptions.status,
        segment_items.plan,
        segment_items.billing_interval as plan_interval,
        -- Stripe keeps subscription.quantity for single-item subscriptions: it is versioned
        -- with the subscription, so it wins when the items are not history-tracked
        coalesce(subscriptions.subscription_quantity, segment_items.item_quantity) as seats,
        case
            when segment_items.item_count = 1
                then {{ plg_stripe_monthly_amount(
                    'segment_items.amount_cents',
                    'coalesce(subscriptions.subscription_quantity, segment_items.item_quantity, 1)',
                    'segment_items.billing_interval',
                    'segment_items.interval_count') }}
            else segment_items.monthly_amount
        end as monthly_amount,
        subscriptions.is_cancel_at_period_end,
        subscriptions.current_period_start_at,
        subscriptions.current_period_end_at,
        subscriptions.trial_end_at,
        subscriptions.created_at,
        subscriptions.canceled_at,
        segments.starts_at as valid_from,
        case
            when segments.next_starts_at is null then subscriptions.valid_to
            when subscriptions.valid_to < segments.next_starts_at then subscriptions.valid_to
            else cast({{ dbt.dateadd('second', -1, 'segments.next_starts_at') }} as {{ ts }})
        end as valid_to,
        subscriptions.is_current_version and segments.next_starts_at is null as is_current_version
    from segments
    inner join subscriptions
        on segments.subscription_id = subscriptions.subscription_id
        and subscriptions.valid_from <= segments.starts_at
        and subscriptions.valid_to >= segments.starts_at
    left join segment_items
        on segments.subscription_id = segment_items.subscription_id
        and segments.starts_at = segment_items.starts_at
        and segment_items.item_rank = 1
    {%- if account_from == 'customer_metadata' %}
    left join customers on subscriptions.customer_id = customers.customer_id
    {%- elif account_from == 'mapping' %}
    left join customer_accounts on subscriptions.customer_id = customer_accounts.customer_id
    {%- endif %}
),

-- MRR in the price's currency per month; only active and past_due versions count
final as (
    select
        {{ surrogate_key(['subscription_id', 'valid_from']) }} as subscription_version_id,
        subscription_id,
        customer_id,
        account_id,
        status,
        plan,
        plan_interval,
        seats,
        case
            when status in ('active', 'past_due') then coalesce(monthly_amount, 0)
            else 0
        end as mrr,
        is_cancel_at_period_end,
        current_period_start_at,
        current_period_end_at,
        trial_end_at,
        created_at,
        canceled_at,
        valid_from,
        valid_to,
        is_current_version
    from versions
)

select
      final.*,
      subscription_id as record_key,
      valid_from as seen_at,
      case
          when subscription_id is null or trim(subscription_id) = '' then 'missing_key'
          when valid_from is null then 'missing_timestamp'
          when account_id is null or trim(account_id) = '' then 'unresolved_account'
      end as quarantine_reason
  from final
{%- endmacro %}
