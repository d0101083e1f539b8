{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}
-- Event ids the loader delivered more than once (usable copies), one row per id: how many
-- copies, and how many of them differ in payload from the one stg_segment__tracks keeps
-- (the first received, ties by event time and payload). plg_data_quality reports the
-- differing copies as `deduplicated`. Kept apart and incremental because finding them
-- needs every copy of an id, which a table rebuilt on every run would re-read and group
-- for the whole event history.
-- An incremental run looks only at ids with a copy received since this model's newest
-- receipt minus plg_incremental_lookback_days, or stamped since then (a copy quarantined
-- as future-dated becomes usable once plg_as_of passes it), and recomputes those ids from
-- all their copies. Copies are only ever added, so an id found once stays found.
-- The tracks rows are read as separate subqueries (not one shared CTE) so no warehouse
-- materialises every event with its payload hash.
{%- set usable_rows -%}
    select * from ({{ plg_segment_tracks_rows() }}) as rows_read
    where quarantine_reason is null
{%- endset %}

with
{% if is_incremental() %}
candidate_ids as (
    select distinct event_id
    from ({{ usable_rows }}) as usable
    -- the watermark as a literal (plg_incremental_value): compared with a subquery, the
    -- `or` of two columns made DuckDB join every event to it
    where received_at >= {{ plg_incremental_value(plg_received_watermark(), dbt.type_timestamp()) }}
       or occurred_at >= {{ plg_incremental_value(plg_received_watermark(), dbt.type_timestamp()) }}
),
{% else %}
-- ids with more than one usable copy: only those can be redelivered
candidate_ids as (
    select event_id
    from ({{ usable_rows }}) as usable
    group by event_id
    having count(*) > 1
),
{% endif %}

copies as (
    select *
    from ({{ usable_rows }}) as usable
    where event_id in (select event_id from candidate_ids)
),

ranked as (
    select
        event_id,
        received_at,
        payload_hash,
        first_value(payload_hash) over (
            partition by event_id order by received_at, occurred_at, payload_hash
        ) as kept_payload_hash
    from copies
),

final as (
    select
        event_id,
        count(*) as copy_count,
        sum(case when payload_hash <> kept_payload_hash then 1 else 0 end) as row_count,
        min(case when payload_hash <> kept_payload_hash then received_at end) as first_seen_at,
        max(case when payload_hash <> kept_payload_hash then received_at end) as last_seen_at,
        max(received_at) as last_received_at
    from ranked
    group by event_id
    having count(*) > 1
)

select * from final
