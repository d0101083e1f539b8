{{
    config(
        materialized='incremental',
        unique_key='account_day_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
        partition_by=plg_day_partition('activity_date'),
        cluster_by=plg_day_cluster('activity_date'),
    )
}}
-- One row per account and active day: events and active users. An incremental run
-- recomputes the recent days and every day that received events since this model's
-- newest receipt (plg_recompute_days).

with user_days as (
    select * from {{ ref('int_user_daily_activity') }}
    where account_id is not null
    {% if is_incremental() %}
        and {{ plg_recompute_days('activity_date', ref('int_user_daily_activity')) }}
    {% endif %}
),

final as (
    select
        {{ surrogate_key(['account_id', 'activity_date']) }} as account_day_id,
        account_id,
        activity_date,
        sum(event_count) as event_count,
        count(*) as active_user_count,
        max(last_received_at) as last_received_at
    from user_days
    group by account_id, activity_date
)

-- an incremental run writes only the rows that differ from the stored ones (macro
-- plg_changed_rows; the stored rows compared start at the recent days' lower bound)
{{ plg_changed_rows(
    'final',
    ['account_day_id', 'account_id', 'activity_date', 'event_count', 'active_user_count', 'last_received_at'],
    'activity_date >= ' ~ plg_incremental_start('activity_date', ref('int_user_daily_activity'))
) }}
