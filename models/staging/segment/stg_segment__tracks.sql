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
-- by event time and payload, so the choice is deterministic). A full build ranks only the
-- copies of ids with more than one usable copy (plg_segment_tracks_repeated_ids: a fraction
-- of a percent of a loader's rows) and passes every other row straight through: ranking
-- every row, a window over the whole table, held all the events in memory at once.
-- Incremental on received_at (the warehouse's clock), so late-arriving events are picked
-- up whatever their event time; a redelivery in a later batch replaces the stored row by
-- event_id. Materialised (not a view) because every downstream incremental model filters
-- it by day.
-- The account of an event comes from plg_event_account_source: the user's latest `group`
-- call (groups table), a context column, or none (users.account_id only). That lookup is
-- the one join in this model: the account is an attribute of the event for every consumer.
{%- set account_source = plg_event_account_source() %}
{%- set received_from = (
    '(select ' ~ ts_add_days('max(received_at)', -1 * var('plg_incremental_lookback_days')) ~ ' from ' ~ this ~ ')'
) if is_incremental() else none %}
with
{%- if is_incremental() %}
-- an incremental run ranks the few rows it reads (a day or so) in one go
usable as (
    select * from ({{ plg_segment_tracks_rows(incremental_from=received_from) }}) as rows_read
    where quarantine_reason is null
),

ranked as (
    select
        *,
        row_number() over (
            partition by event_id order by received_at, occurred_at, payload_hash
        ) as delivery_number
    from usable
),
{%- else %}
-- a full build ranks only the copies of redelivered ids: the events table is read once per
-- CTE (a CTE read by two others is materialised whole by DuckDB)
repeated_ids as (
    {{ plg_segment_tracks_repeated_ids() }}
),

-- the usable rows of an id received once: nothing to choose between
single_copies as (
    select rows_read.*
    from ({{ plg_segment_tracks_rows() }}) as rows_read
    left join repeated_ids on rows_read.event_id = repeated_ids.event_id
    where rows_read.quarantine_reason is null
      and repeated_ids.event_id is null
),

-- the usable rows of a redelivered id, ranked
repeated_copies as (
    select
        rows_read.*,
        row_number() over (
            partition by rows_read.event_id
            order by rows_read.received_at, rows_read.occurred_at, rows_read.payload_hash
        ) as delivery_number
    from ({{ plg_segment_tracks_rows() }}) as rows_read
    inner join repeated_ids on rows_read.event_id = repeated_ids.event_id
    where rows_read.quarantine_reason is null
),
{%- endif %}
{%- if account_source == 'groups' %}

groups as (
    select * from {{ ref('stg_segment__groups') }}
),
{%- endif %}

{%- set kept_columns = ['event_id', 'user_id', 'context_account_id', 'event_name', 'occurred_at', 'received_at', 'properties'] %}

deduplicated as (
    {%- if is_incremental() %}
    select {{ kept_columns | join(', ') }} from ranked
    where delivery_number = 1
    {%- else %}
    select {{ kept_columns | join(', ') }} from single_copies
    union all
    select {{ kept_columns | join(', ') }} from repeated_copies
    where delivery_number = 1
    {%- endif %}
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
)

select * from final
