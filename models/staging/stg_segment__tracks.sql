-- Segment redelivers events: keep one row per message id (the first received).
with source as (
    select * from {{ source('segment', 'tracks') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_string() }}) as event_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(context_group_id as {{ dbt.type_string() }}) as event_account_id,
        cast(event as {{ dbt.type_string() }}) as event_name,
        cast({{ adapter.quote('timestamp') }} as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(received_at as {{ dbt.type_timestamp() }}) as received_at,
        cast(properties as {{ dbt.type_string() }}) as properties
    from source
    where user_id is not null
),

deduplicated as (
    select
        *,
        row_number() over (partition by event_id order by received_at, occurred_at) as delivery_number
    from renamed
),

final as (
    select
        event_id,
        user_id,
        event_account_id,
        event_name,
        occurred_at,
        received_at,
        properties
    from deduplicated
    where delivery_number = 1
)

select * from final
