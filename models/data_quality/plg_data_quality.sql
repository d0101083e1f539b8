-- What staging could not use, or used with a caveat, one row per source table, reason
-- and record key: an analyst's list of raw rows to look at and fix upstream.
--   quarantined  the row is left out of staging (no key, event name or timestamp; stamped
--                after plg_as_of + plg_event_future_tolerance_hours; no resolvable
--                account; negative or absurd usage)
--   deduplicated an id repeated with a different payload: staging kept one row
--                deterministically, these are the others
--   kept         the row is used, with a caveat (a user without an account, a plan
--                missing from plg_plan_limits)
-- Each staging model's rules are one macro (macros/sources) read by both the model and
-- this one. table_row_count is the rows read from that table, for the warn/error share
-- tests (tests/dbt/data_quality_*.sql, vars plg_quarantine_warn_pct / _error_pct).
-- The events table's findings by event id come from int_segment_tracks_findings, which
-- keeps them incrementally (re-reading every event on every run cost more than the rest
-- of a scheduled run); rows without an event id, and the table's size, are read here.
{{ config(materialized='table') }}

-- events without an id (null, empty or blank). A blank id is empty or starts with
-- whitespace, so it sorts before '!' or, for non-ASCII whitespace, after '~': that range
-- test is answered from column statistics, and the trim runs on almost no rows.
{%- set raw_id = 'cast(id as ' ~ dbt.type_string() ~ ')' %}
with tracks_without_id as (
    select * from ({{ plg_segment_tracks_rows(
        row_filter="id is null or ((" ~ raw_id ~ " < '!' or " ~ raw_id ~ " > '~') and trim(" ~ raw_id ~ ") = '')"
    ) }}) as rows_read
),

tracks_size as (
    select count(*) as table_row_count
    from ({{ plg_segment_tracks_rows() }}) as rows_read
),

tracks_findings as (
    select * from {{ ref('int_segment_tracks_findings') }}
    where row_count > 0
),

accounts as (
    select * from ({{ plg_app_accounts_rows() }}) as rows_read
),

users as (
    select * from ({{ plg_app_users_rows() }}) as rows_read
),

usage as (
    select * from ({{ plg_app_usage_rows() }}) as rows_read
),

subscriptions as (
    select * from ({{ plg_stripe_subscription_rows() }}) as rows_read
),

tickets as (
    select * from ({{ plg_helpdesk_ticket_rows() }}) as rows_read
),

plan_limits as (
    select distinct lower(cast(plan as {{ dbt.type_string() }})) as plan
    from {{ ref('plg_plan_limits') }}
),

staged_users as (
    select * from {{ ref('stg_app__users') }}
),

staged_accounts as (
    select * from {{ ref('stg_app__accounts') }}
),

-- rows that break a rule, per table
quarantined as (
    {%- for source_name, table_name, cte, key in [
        ('app', 'accounts', 'accounts', 'record_key'),
        ('app', 'users', 'users', 'record_key'),
        ('app', 'usage_daily', 'usage', 'record_key'),
        ('stripe', 'subscription_history', 'subscriptions', 'record_key'),
        ('helpdesk', 'tickets', 'tickets', 'record_key'),
    ] %}
    select
        '{{ source_name }}' as source_name,
        '{{ table_name }}' as table_name,
        cast({{ key }} as {{ dbt.type_string() }}) as record_key,
        quarantine_reason as reason,
        'quarantined' as action,
        seen_at
    from {{ cte }}
    where quarantine_reason is not null
    union all
    {%- endfor %}
    -- events without an id (the ones with an id: int_segment_tracks_findings)
    select
        'segment', 'tracks', cast(event_id as {{ dbt.type_string() }}),
        quarantine_reason, 'quarantined', received_at
    from tracks_without_id
),

-- an id repeated with a different payload: every copy but the one staging keeps
{%- set dedupe_rules = [
    ('app', 'accounts', 'accounts', 'record_key', 'created_at, payload_hash', 'seen_at'),
    ('helpdesk', 'tickets', 'tickets', 'record_key', 'created_at desc, payload_hash', 'seen_at'),
] %}
deduplicated as (
    {%- for source_name, table_name, cte, key, order_by, seen in dedupe_rules %}
    select
        '{{ source_name }}' as source_name,
        '{{ table_name }}' as table_name,
        cast(key_value as {{ dbt.type_string() }}) as record_key,
        'duplicate_id_different_payload' as reason,
        'deduplicated' as action,
        seen_at
    from (
        select
            {{ key }} as key_value,
            {{ seen }} as seen_at,
            payload_hash,
            first_value(payload_hash) over (
                partition by {{ key }} order by {{ order_by }}
            ) as kept_payload_hash
        from {{ cte }}
        where quarantine_reason is null
    ) as copies
    where payload_hash <> kept_payload_hash
    union all
    {%- endfor %}
    -- users: several versions are normal; two different rows for the latest version are not
    select
        'app', 'users', cast(user_id as {{ dbt.type_string() }}),
        'duplicate_id_different_payload', 'deduplicated', seen_at
    from (
        select
            user_id,
            seen_at,
            payload_hash,
            rank() over (partition by user_id order by updated_at desc) as version_rank,
            first_value(payload_hash) over (
                partition by user_id order by updated_at desc, payload_hash
            ) as kept_payload_hash
        from users
        where quarantine_reason is null
    ) as versions
    where version_rank = 1 and payload_hash <> kept_payload_hash
    union all
    -- usage: the same account, day and metric with different values (the largest is kept)
    select
        'app', 'usage_daily', cast(record_key as {{ dbt.type_string() }}),
        'duplicate_key_different_value', 'deduplicated', seen_at
    from (
        -- keys with several rows first (an aggregate, not a window over every row)
        select
            usage.record_key,
            usage.seen_at,
            usage.usage_value,
            repeated_keys.kept_value
        from usage
        inner join (
            select record_key, max(usage_value) as kept_value
            from usage
            where quarantine_reason is null
            group by record_key
            having count(*) > 1
        ) as repeated_keys
            on repeated_keys.record_key = usage.record_key
        where usage.quarantine_reason is null
    ) as copies
    where usage_value < kept_value
),

-- used, with a caveat
kept as (
    select
        'app' as source_name,
        'users' as table_name,
        cast(staged_users.user_id as {{ dbt.type_string() }}) as record_key,
        case
            when staged_users.account_id is null then 'user_without_account'
            else 'account_not_found'
        end as reason,
        'kept' as action,
        staged_users.created_at as seen_at
    from staged_users
    left join staged_accounts on staged_users.account_id = staged_accounts.account_id
    where staged_accounts.account_id is null
    union all
    select
        'stripe', 'subscription_history', cast(subscriptions.subscription_id as {{ dbt.type_string() }}),
        'plan_not_in_plg_plan_limits', 'kept', subscriptions.valid_from
    from subscriptions
    left join plan_limits on subscriptions.plan = plan_limits.plan
    where subscriptions.quarantine_reason is null
      and subscriptions.is_current_version
      and subscriptions.plan is not null
      and plan_limits.plan is null
),

findings as (
    select *, 1 as row_count, seen_at as first_seen_at, seen_at as last_seen_at
    from (
        select * from quarantined
        union all
        select * from deduplicated
        union all
        select * from kept
    ) as copies
    union all
    select
        'segment', 'tracks', record_key, reason, action,
        cast(null as {{ dbt.type_timestamp() }}), row_count, first_seen_at, last_seen_at
    from tracks_findings
),

table_sizes as (
    select 'segment' as source_name, 'tracks' as table_name, table_row_count from tracks_size
    union all
    {%- for source_name, table_name, cte in [
        ('app', 'accounts', 'accounts'),
        ('app', 'users', 'users'), ('app', 'usage_daily', 'usage'),
        ('stripe', 'subscription_history', 'subscriptions'), ('helpdesk', 'tickets', 'tickets'),
    ] %}
    select '{{ source_name }}', '{{ table_name }}', count(*)
    from {{ cte }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        findings.source_name,
        findings.table_name,
        findings.record_key,
        findings.reason,
        findings.action,
        cast(sum(findings.row_count) as {{ dbt.type_bigint() }}) as row_count,
        min(findings.first_seen_at) as first_seen_at,
        max(findings.last_seen_at) as last_seen_at,
        max(table_sizes.table_row_count) as table_row_count,
        {{ plg_as_of() }} as checked_at
    from findings
    left join table_sizes
        on findings.source_name = table_sizes.source_name
        and findings.table_name = table_sizes.table_name
    group by 1, 2, 3, 4, 5
)

select * from final
