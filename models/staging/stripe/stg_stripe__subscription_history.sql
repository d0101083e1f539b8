-- MRR in USD per month: plan amount (cents per seat per interval) x seats, annual / 12.
-- Trialing, canceled and unpaid versions contribute no MRR.
with source as (
    select * from {{ source('stripe', 'subscription_history') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_string() }}) as subscription_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(metadata_account_id as {{ dbt.type_string() }}) as account_id,
        lower(cast(status as {{ dbt.type_string() }})) as status,
        lower(cast(plan_id as {{ dbt.type_string() }})) as plan,
        lower(cast(plan_interval as {{ dbt.type_string() }})) as plan_interval,
        cast(plan_amount as {{ plg_type_double() }}) as plan_amount_cents,
        cast(quantity as {{ dbt.type_int() }}) as seats,
        cast(cancel_at_period_end as {{ dbt.type_boolean() }}) as is_cancel_at_period_end,
        cast(current_period_start as {{ dbt.type_timestamp() }}) as current_period_start_at,
        cast(current_period_end as {{ dbt.type_timestamp() }}) as current_period_end_at,
        cast(trial_end as {{ dbt.type_timestamp() }}) as trial_end_at,
        cast(created as {{ dbt.type_timestamp() }}) as created_at,
        cast(canceled_at as {{ dbt.type_timestamp() }}) as canceled_at,
        cast(_fivetran_start as {{ dbt.type_timestamp() }}) as valid_from,
        cast(_fivetran_end as {{ dbt.type_timestamp() }}) as valid_to,
        cast(_fivetran_active as {{ dbt.type_boolean() }}) as is_current_version
    from source
),

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
            when status in ('active', 'past_due')
                then plan_amount_cents * coalesce(seats, 1) / 100.0
                     / case when plan_interval = 'year' then 12 else 1 end
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
    from renamed
)

select * from final
