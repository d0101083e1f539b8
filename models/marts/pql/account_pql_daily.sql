{{
    config(
        materialized='incremental',
        unique_key='account_day_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
        partition_by=plg_day_partition('day'),
        cluster_by=plg_day_cluster('day'),
    )
}}
{%- set start = plg_incremental_start('day', ref('int_account_pql_signal_daily'), 'day') -%}
-- Daily PQL score history, one row per account and day:
--   pql_score = least(100, sum of the signals' points that day)
-- The first crossing of the threshold is read from this history, not from "now".
-- Incremental: the days int_account_pql_signal_daily rewrote are recomputed (the newest
-- built day minus the lookback, or the oldest day whose signal rows hold events received
-- since this model's newest receipt, last_received_at: the same start that model used),
-- and the crossing test reads the stored score of the day before the first of them.

with signal_days as (
    select * from {{ ref('int_account_pql_signal_daily') }}
    {% if is_incremental() %}
    where day >= {{ start }}
    {% endif %}
),

scored as (
    select
        account_id,
        day,
        round(least(100, sum(points)), 1) as pql_score,
        sum(units) as signal_units,
        max(last_received_at) as last_received_at
    from signal_days
    group by account_id, day
),

{% if is_incremental() %}
previous_day as (
    select account_id, pql_score
    from {{ this }}
    where day = {{ date_add_days(start, -1) }}
),
{% endif %}

flagged as (
    select
        scored.*,
        scored.pql_score >= {{ var('plg_pql_threshold') }} as is_above_threshold,
        coalesce(
            lag(scored.pql_score) over (partition by scored.account_id order by scored.day)
            {%- if is_incremental() %},
            previous_day.pql_score
            {%- endif %}
        ) as previous_pql_score
    from scored
    {% if is_incremental() %}
    left join previous_day on previous_day.account_id = scored.account_id
    {% endif %}
),

final as (
    select
        {{ surrogate_key(['account_id', 'day']) }} as account_day_id,
        account_id,
        day,
        pql_score,
        signal_units,
        is_above_threshold,
        is_above_threshold
            and coalesce(previous_pql_score, 0) < {{ var('plg_pql_threshold') }} as is_crossing_day,
        last_received_at
    from flagged
)

-- an incremental run writes only the rows that differ from the stored ones (macro
-- plg_changed_rows): the same table as rewriting every recomputed row
{{ plg_changed_rows('final', ['account_day_id', 'account_id', 'day', 'pql_score', 'signal_units', 'is_above_threshold', 'is_crossing_day', 'last_received_at'], 'day >= ' ~ start) }}
