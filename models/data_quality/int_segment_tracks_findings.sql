{{
    config(
        materialized='incremental',
        unique_key=['record_key', 'reason', 'action'],
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}
-- What plg_data_quality reports for the events table (tracks), kept incrementally: the
-- events table is by far the largest source, and re-reading all of it on every scheduled
-- run cost more than the rest of the run. One row per event id, reason and action:
--   quarantined  copies staging leaves out: missing_event_name, missing_timestamp,
--                future_timestamp (plg_segment_tracks_rows, the rule staging uses)
--   deduplicated copies of an id with a different payload than the copy staging keeps
-- Rows without an id (missing_key) are counted by plg_data_quality directly: they have
-- no key to keep them apart.
-- An incremental run recomputes every id that has a copy received since the previous run
-- (minus plg_incremental_lookback_days, as staging) and every id held back as
-- future_timestamp (it becomes usable as plg_as_of moves on), reading all copies of
-- those ids; a finding that no longer holds is kept with row_count 0 (plg_data_quality
-- reads row_count > 0), so the merge key needs no deletes. One row with reason
-- `watermark` records the newest receipt read, so a run with no findings still moves the
-- window on.

{#- the previous run's newest receipt minus the lookback, written into the SQL as a literal
    (plg_incremental_value) so the scan of the events table can skip older row groups -#}
{%- set watermark = "coalesce((select " ~ ts_add_days('max(last_seen_at)', -1 * var('plg_incremental_lookback_days')) ~ " from " ~ this ~ " where reason = 'watermark'), cast('1900-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ "))" %}

with
{% if is_incremental() %}
received as (
    select event_id, received_at
    from ({{ plg_segment_tracks_rows(incremental_from=plg_incremental_value(watermark, dbt.type_timestamp())) }}) as rows_read
),

recheck as (
    select event_id from received
    where event_id is not null and trim(event_id) <> ''
    union
    select record_key from {{ this }}
    where reason = 'future_timestamp' and row_count > 0
),
{% endif %}

-- which rows are read: the copies of the rechecked ids (which are never blank), or every
-- copy with an id: a blank id is empty or starts with whitespace, so the trim only runs on
-- ids that sort before '!' or after '~' (the filter applies before any row is classified
-- or hashed).
{%- set raw_id = 'cast(id as ' ~ dbt.type_string() ~ ')' %}
{%- if is_incremental() %}
-- An incremental run reads the few copies of the rechecked ids once and compares them all.
tracks as (
    select * from ({{ plg_segment_tracks_rows(row_filter=raw_id ~ ' in (select event_id from recheck)') }}) as rows_read
),
{%- set quarantine_rows = 'tracks as rows_read' %}
{%- set compared_rows = 'tracks as rows_read' %}
{%- else %}
-- A full build reads the events table once per CTE below (a CTE read by two others is
-- materialised whole by DuckDB: every event, hashed), and compares only the copies of ids
-- with more than one usable copy (windowing every event held them all in memory at once).
{%- set with_id = 'id is not null and ((' ~ raw_id ~ " >= '!' and " ~ raw_id ~ " <= '~') or trim(" ~ raw_id ~ ") <> '')" %}
{%- set all_with_id = '(' ~ plg_segment_tracks_rows(row_filter=with_id) ~ ') as rows_read' %}
repeated_ids as (
    {{ plg_segment_tracks_repeated_ids(row_filter=with_id) }}
),
{%- set quarantine_rows = all_with_id %}
{%- set compared_rows = all_with_id ~ ' inner join repeated_ids on rows_read.event_id = repeated_ids.event_id' %}
{%- endif %}

quarantined as (
    select
        event_id as record_key,
        quarantine_reason as reason,
        'quarantined' as action,
        received_at as seen_at
    from {{ quarantine_rows }}
    where quarantine_reason is not null
),

-- an id repeated with a different payload: every copy but the one staging keeps
deduplicated as (
    select
        event_id as record_key,
        'duplicate_id_different_payload' as reason,
        'deduplicated' as action,
        received_at as seen_at
    from (
        select
            rows_read.event_id,
            rows_read.received_at,
            rows_read.payload_hash,
            first_value(rows_read.payload_hash) over (
                partition by rows_read.event_id
                order by rows_read.received_at, rows_read.occurred_at, rows_read.payload_hash
            ) as kept_payload_hash
        from {{ compared_rows }}
        where rows_read.quarantine_reason is null
    ) as copies
    where payload_hash <> kept_payload_hash
),

findings as (
    select
        cast(record_key as {{ dbt.type_string() }}) as record_key,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(action as {{ dbt.type_string() }}) as action,
        count(*) as row_count,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at
    from (
        select * from quarantined
        union all
        select * from deduplicated
    ) as copies
    group by 1, 2, 3
),

{% if is_incremental() %}
cleared as (
    select stored.record_key, stored.reason, stored.action,
        0 as row_count,
        stored.first_seen_at,
        stored.last_seen_at
    from {{ this }} as stored
    left join findings
        on findings.record_key = stored.record_key
        and findings.reason = stored.reason
        and findings.action = stored.action
    where stored.reason <> 'watermark'
      and stored.row_count > 0
      and stored.record_key in (select event_id from recheck)
      and findings.record_key is null
),

newest_receipt as (
    select max(received_at) as received_at from received
),
{% else %}
newest_receipt as (
    select max(received_at) as received_at
    from ({{ plg_segment_tracks_rows() }}) as rows_read
),
{% endif %}

watermark as (
    select
        cast('watermark' as {{ dbt.type_string() }}) as record_key,
        cast('watermark' as {{ dbt.type_string() }}) as reason,
        cast('watermark' as {{ dbt.type_string() }}) as action,
        0 as row_count,
        cast(null as {{ dbt.type_timestamp() }}) as first_seen_at,
        {% if is_incremental() %}
        coalesce(
            (select received_at from newest_receipt),
            (select max(last_seen_at) from {{ this }} where reason = 'watermark')
        )
        {%- else -%}
        (select received_at from newest_receipt)
        {%- endif %} as last_seen_at
),

final as (
    select * from findings
    {% if is_incremental() %}
    union all
    select * from cleared
    {% endif %}
    union all
    select * from watermark
)

select * from final
