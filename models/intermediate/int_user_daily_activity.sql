{{
    config(
        materialized='incremental',
        unique_key='user_day_id',
        incremental_strategy=plg_day_incremental_strategy(),
        meta={'plg_day_column': 'activity_date'},
        on_schema_change='append_new_columns',
        partition_by=plg_day_partition('activity_date'),
        cluster_by=plg_day_cluster('activity_date'),
    )
}}
-- One row per user and active day. An incremental run recomputes the recent days and
-- every day that received events since this model's newest receipt (plg_recompute_days).
-- On DuckDB a full build writes the rows in day order (plg_day_order) and an incremental
-- run's delete is bounded by the first recomputed day (plg_day_delete_insert).

with user_events as (
    select * from {{ ref('int_user_event_daily') }}
    {% if is_incremental() %}
        where {{ plg_recompute_days('activity_date', ref('int_user_event_daily')) }}
    {% endif %}
),

final as (
    select
        {{ surrogate_key(['user_id', 'activity_date']) }} as user_day_id,
        user_id,
        max(account_id) as account_id,
        activity_date,
        sum(event_count) as event_count,
        count(distinct event_name) as distinct_event_count,
        max(last_received_at) as last_received_at
    from user_events
    group by user_id, activity_date
)

select * from final
{{ plg_day_order('activity_date') }}
