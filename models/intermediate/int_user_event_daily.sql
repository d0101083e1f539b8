{{
    config(
        materialized='incremental',
        unique_key='user_event_day_id',
        incremental_strategy=plg_day_incremental_strategy(),
        meta={'plg_day_column': 'activity_date'},
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
-- On DuckDB a full build writes the rows in day order (plg_day_order) and an incremental
-- run's delete is bounded by the first recomputed day (plg_day_delete_insert), so both
-- the delete and every reader of recent days skip the row groups of older days.

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
{#- the days holding an event the warehouse received since this model's newest receipt
    minus the lookback, filtered on the stored columns first, so only those rows pay for
    the clamp -#}
{%- set newly_received_days -%}
    select distinct
        cast({{ plg_event_time('occurred_at', 'received_at') }} as date) as activity_date
    from {{ ref('stg_segment__tracks') }}
    where received_at >= {{ watermark }}
       or (received_at is null and occurred_at >= {{ watermark }})
{%- endset %}
{%- if execute and this is not string %}
{#- read once before the run, as literals, like the bounds above: the first recomputed day
    (the older of the incremental start and the oldest such day) then bounds the stored
    day of the events directly, so the warehouse filters (DuckDB pushes it into the scan,
    BigQuery prunes partitions) instead of joining a scalar subquery to every event and
    reading every column of every event on each run; the days themselves are a list -#}
{%- set changed_days = [] %}
{%- for day in run_query(newly_received_days).columns[0].values() | reject('none') | sort %}
{%- do changed_days.append("cast('" ~ (day ~ '')[:10] ~ "' as date)") %}
{%- endfor %}
{%- set changed_day_list = changed_days | join(', ') %}
{%- set first_day = 'least(' ~ incremental_start ~ ', ' ~ (changed_days[0] if changed_days else incremental_start) ~ ')' %}
{%- else %}
{#- a unit test (`this` names the given rows) or parsing: the same values as subqueries -#}
{%- set changed_day_list = 'select activity_date from (' ~ newly_received_days ~ ') as changed_days' %}
{%- set first_day = '(select least(' ~ incremental_start ~ ', coalesce(min(activity_date), '
    ~ incremental_start ~ ')) from (' ~ newly_received_days ~ ') as changed_days)' %}
{%- endif %}

-- clamping only moves an event earlier, so an event of a recomputed day never has an
-- occurred_date before the first such day: a bound on the stored (partitioned) day
candidates as (
    select *
    from events
    where occurred_date >= {{ first_day }}
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
    {%- if changed_day_list %}
       or activity_date in ({{ changed_day_list }})
    {%- endif %}
    {% endif %}
),

-- per user, event name, day and the event's own account first: the users join and the
-- surrogate key then run once per output row instead of once per event
per_event_account as (
    select
        user_id,
        event_account_id,
        event_name,
        activity_date,
        count(*) as event_count,
        min(activity_at) as first_occurred_at,
        max(activity_at) as last_occurred_at,
        max(received_at) as last_received_at
    from in_scope
    group by user_id, event_account_id, event_name, activity_date
),

-- one row per user, event name and day: the account is the users table's; for a user it
-- does not know, the account of that day's latest event naming one (ties to the greater
-- account id), so events naming two accounts in a day still give one row per key
per_user_event_day as (
    select
        per_event_account.user_id,
        coalesce(
            users.account_id,
            {#- only a user the users table does not know pays for the pick -#}
            {{ plg_latest_account(
                'case when users.account_id is null then per_event_account.event_account_id end',
                'per_event_account.last_occurred_at') }}
        ) as account_id,
        per_event_account.event_name,
        per_event_account.activity_date,
        sum(per_event_account.event_count) as event_count,
        min(per_event_account.first_occurred_at) as first_occurred_at,
        max(per_event_account.last_occurred_at) as last_occurred_at,
        max(per_event_account.last_received_at) as last_received_at
    from per_event_account
    left join users on per_event_account.user_id = users.user_id
    -- users.account_id is one value per user: grouping by it is free, aggregating it is not
    group by per_event_account.user_id, users.account_id, per_event_account.event_name, per_event_account.activity_date
),

final as (
    select
        {{ surrogate_key(['user_id', 'event_name', 'activity_date']) }} as user_event_day_id,
        user_id,
        account_id,
        event_name,
        activity_date,
        event_count,
        first_occurred_at,
        last_occurred_at,
        last_received_at
    from per_user_event_day
)

select * from final
{{ plg_day_order('activity_date') }}
