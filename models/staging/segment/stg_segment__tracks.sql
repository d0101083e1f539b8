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
{#- Segment or RudderStack `tracks` as the loaders land them (docs/sources.md#events). -#}
-- Rows staging cannot use (no message id, event name or timestamp; stamped after
-- plg_as_of + plg_event_future_tolerance_hours) are left out here and counted by reason in
-- plg_data_quality (plg_segment_tracks_rows is the one rule for both). Anonymous events
-- (no user_id) are dropped: the signals are per user and account.
-- Segment redelivers events: keep one row per message id (the first received; ties broken
-- by event time and payload, so the choice is deterministic). Incremental on received_at
-- (the warehouse's clock), so late-arriving events are picked up whatever their event
-- time; a redelivery in a later batch replaces the stored row by event_id. Materialised
-- (not a view) because every downstream incremental model filters it by day.
-- The account of an event comes from plg_event_account_source: the user's latest `group`
-- call (groups table), a context column, or none (users.account_id only). That lookup is
-- the one join in this model: the account is an attribute of the event for every consumer.
{%- set account_source = plg_event_account_source() %}
with usable as (
    select * from (
        {{ plg_segment_tracks_rows(
            incremental_from=(
                '(select ' ~ ts_add_days('max(received_at)', -1 * var('plg_incremental_lookback_days')) ~ ' from ' ~ this ~ ')'
            ) if is_incremental() else none
        ) }}
    ) as classified
    where quarantine_reason is null
),
{%- if account_source == 'groups' %}

groups as (
    select * from {{ ref('stg_segment__groups') }}
),
{%- endif %}

deduplicated as (
    select
        *,
        row_number() over (
            partition by event_id order by received_at, occurred_at, payload_hash
        ) as delivery_number
    from usable
),

final as (
    select
        deduplicated.event_id,
        deduplicated.user_id,
        {% if account_source == 'groups' -%}
        groups.account_id
        {%- else -%}
        deduplicated.context_account_id
        {%- endif %} as event_account_id,
        deduplicated.event_name,
        deduplicated.occurred_at,
        cast(deduplicated.occurred_at as date) as occurred_date,
        deduplicated.received_at,
        deduplicated.properties
    from deduplicated
    {%- if account_source == 'groups' %}
    left join groups on deduplicated.user_id = groups.user_id
    {%- endif %}
    where deduplicated.delivery_number = 1
)

select * from final
