{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
        partition_by=plg_day_partition('occurred_date'),
        cluster_by=plg_day_cluster('occurred_date'),
    )
}}
{#- Segment or RudderStack `tracks`: columns per var plg_event_source (docs/sources.md). #}
-- Segment redelivers events: keep one row per message id (the first received in a batch).
-- Incremental on received_at (the loader's clock), so late-arriving events are picked up
-- whatever their event time; a redelivery in a later batch replaces the stored row by
-- event_id, so the table never holds two copies. Materialised (not a view) because
-- every downstream incremental model filters it by day, which a deduplicating view
-- could only answer after scanning the whole event history.
with source as (
    select * from {{ source('segment', 'tracks') }}
    {% if is_incremental() %}
    where received_at >= (
        select {{ ts_add_days('max(received_at)', -1 * var('plg_incremental_lookback_days')) }}
        from {{ this }}
    )
    {% endif %}
),

renamed as (
    select
        cast(id as {{ dbt.type_string() }}) as event_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast({{ plg_event_column('account_id') }} as {{ dbt.type_string() }}) as event_account_id,
        cast(event as {{ dbt.type_string() }}) as event_name,
        cast({{ plg_source_column('timestamp') }} as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(received_at as {{ dbt.type_timestamp() }}) as received_at,
        cast({{ plg_event_column('properties') }} as {{ dbt.type_string() }}) as properties
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
        cast(occurred_at as date) as occurred_date,
        received_at,
        properties
    from deduplicated
    where delivery_number = 1
)

select * from final
