{{
    config(
        materialized='incremental',
        unique_key='user_event_day_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
        partition_by=plg_day_partition('activity_date'),
        cluster_by=plg_day_cluster('activity_date'),
    )
}}
-- The only model that reads events: one row per user, event name and day. An
-- incremental run recomputes whole days from the newest built day minus the lookback.

with events as (
    select * from {{ ref('stg_segment__tracks') }}
    -- events up to plg_as_of: the as-of day is partial and recomputed on every run
    where occurred_at < {{ plg_as_of() }}
    {{ plg_history_filter('occurred_date') }}
    {% if is_incremental() %}
        and occurred_date >= {{ plg_incremental_start('activity_date') }}
    {% endif %}
),

users as (
    select user_id, account_id from {{ ref('stg_app__users') }}
),

final as (
    select
        {{ surrogate_key(['events.user_id', 'events.event_name', 'events.occurred_date']) }}
            as user_event_day_id,
        events.user_id,
        coalesce(users.account_id, events.event_account_id) as account_id,
        events.event_name,
        events.occurred_date as activity_date,
        count(*) as event_count,
        min(events.occurred_at) as first_occurred_at,
        max(events.occurred_at) as last_occurred_at
    from events
    left join users on events.user_id = users.user_id
    group by 1, 2, 3, 4, 5
)

select * from final
