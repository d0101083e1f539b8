{{
    config(
        materialized='incremental',
        unique_key='user_event_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
        cluster_by=plg_day_cluster('first_activity_date'),
    )
}}
-- One row per user and event name the user ever sent before the as-of time: when they
-- first sent it. The compact input of the activation marts (milestones with min_count 1,
-- event popularity and "did it early" in milestone_retention_lift), so a new day does not
-- re-read every user-event-day.
-- A first time only moves earlier as events are added, so an incremental run reads the
-- days int_user_event_daily recomputed (the newest built day minus the lookback, and every
-- day holding events received since this model's newest receipt minus the lookback,
-- however late) and merges them into the stored rows: the earliest first time, the newest
-- day and receipt.

with user_event_days as (
    select * from {{ ref('int_user_event_daily') }}
),

{% if is_incremental() %}
stored as (
    select * from {{ this }}
),
{% endif %}

-- a day row starting at or after the as-of time (a table built with a later as-of time)
-- holds no event before it
changed_days as (
    select *
    from user_event_days
    where first_occurred_at < {{ plg_as_of() }}
    {% if is_incremental() %}
      and (
          activity_date >= {{ plg_incremental_value(
              'select ' ~ date_add_days('max(last_activity_date)', -1 * var('plg_incremental_lookback_days')) ~ ' from ' ~ this,
              'date') }}
          or last_received_at >= {{ plg_incremental_value(plg_received_watermark(), dbt.type_timestamp()) }}
      )
    {% endif %}
),

per_user_event as (
    select
        user_id,
        event_name,
        min(first_occurred_at) as first_occurred_at,
        min(activity_date) as first_activity_date,
        max(activity_date) as last_activity_date,
        max(last_received_at) as last_received_at
    from changed_days
    group by user_id, event_name
),

{% if is_incremental() %}
-- the recomputed days merged into what is stored: earliest first, newest last
merged as (
    select
        per_user_event.user_id,
        per_user_event.event_name,
        {#- the earlier of the two firsts and the later of the two lasts; a side that is null
            (a pair not stored yet) gives way to the other: least/greatest return null when
            any argument is null on BigQuery and Snowflake -#}
        {%- for column, pick in [
            ('first_occurred_at', 'least'), ('first_activity_date', 'least'),
            ('last_activity_date', 'greatest'), ('last_received_at', 'greatest'),
        ] %}
        {{ pick }}(
            coalesce(per_user_event.{{ column }}, stored.{{ column }}),
            coalesce(stored.{{ column }}, per_user_event.{{ column }})
        ) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from per_user_event
    left join stored
        on stored.user_id = per_user_event.user_id
        and stored.event_name = per_user_event.event_name
),
{% else %}
merged as (
    select * from per_user_event
),
{% endif %}

final as (
    select
        {{ surrogate_key(['user_id', 'event_name']) }} as user_event_id,
        user_id,
        event_name,
        first_occurred_at,
        first_activity_date,
        last_activity_date,
        last_received_at
    from merged
)

select * from final
