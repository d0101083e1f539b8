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
-- The only model that reads events: one row per user, event name and day. An event's
-- time is its client timestamp clamped to when the warehouse received it (plg_event_time),
-- so a client clock running ahead cannot date an event in the future.
-- An incremental run recomputes whole days: the newest built day minus the lookback, and
-- every older day holding an event received since this model's newest receipt minus the
-- lookback (plg_received_watermark), however late the event arrived.

with events as (
    select * from {{ ref('stg_segment__tracks') }}
),

users as (
    select user_id, account_id from {{ ref('stg_app__users') }}
),

{% if is_incremental() %}
{#- both bounds read once, as literals (plg_incremental_value): as scalar subqueries
    inside an `or` they were joined to every event -#}
{%- set watermark = plg_incremental_value(plg_received_watermark(), dbt.type_timestamp()) %}
{%- set incremental_start = plg_incremental_value(plg_incremental_start('activity_date'), 'date') %}
-- events the warehouse received since this model's newest receipt minus the lookback:
-- filtered on the stored columns first, so only those rows pay for the clamp
newly_received as (
    select
        cast({{ plg_event_time('occurred_at', 'received_at') }} as date) as activity_date
    from events
    where received_at >= {{ watermark }}
       or (received_at is null and occurred_at >= {{ watermark }})
),

changed_days as (
    select distinct activity_date from newly_received
),

recompute_from as (
    select least(
        {{ incremental_start }},
        coalesce((select min(activity_date) from changed_days), {{ incremental_start }})
    ) as first_day
),

-- clamping only moves an event earlier, so an event of a recomputed day never has an
-- occurred_date before the first such day: a bound on the stored (partitioned) day
candidates as (
    select *
    from events
    where occurred_date >= (select first_day from recompute_from)
),
{% else %}
candidates as (
    select * from events
),
{% endif %}

timed as (
    select
        user_id,
        event_account_id,
        event_name,
        {{ plg_event_time('occurred_at', 'received_at') }} as activity_at,
        coalesce(received_at, occurred_at) as received_at
    from candidates
),

dated as (
    select
        *,
        cast(activity_at as date) as activity_date
    from timed
    -- events up to plg_as_of: the as-of day is partial and recomputed on every run
    where activity_at < {{ plg_as_of() }}
    {{ plg_history_filter('cast(activity_at as date)') }}
),

in_scope as (
    select *
    from dated
    {% if is_incremental() %}
    where activity_date >= {{ incremental_start }}
       or activity_date in (select activity_date from changed_days)
    {% endif %}
),

final as (
    select
        {{ surrogate_key(['in_scope.user_id', 'in_scope.event_name', 'in_scope.activity_date']) }}
            as user_event_day_id,
        in_scope.user_id,
        coalesce(users.account_id, in_scope.event_account_id) as account_id,
        in_scope.event_name,
        in_scope.activity_date,
        count(*) as event_count,
        min(in_scope.activity_at) as first_occurred_at,
        max(in_scope.activity_at) as last_occurred_at,
        max(in_scope.received_at) as last_received_at
    from in_scope
    left join users on in_scope.user_id = users.user_id
    group by 1, 2, 3, 4, 5
)

select * from final
