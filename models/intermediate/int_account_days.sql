-- A dense spine: one row per account and day from the account's creation (or the
-- history start) to the last day that has started before plg_as_of (the as-of day,
-- partial, unless plg_as_of is midnight; macros/plg_intraday.sql). Rolling windows need
-- dense days, and a run minutes after events sees them on today's row.

with accounts as (
    select * from {{ ref('stg_app__accounts') }}
),

bounds as (
    select
        min(cast(created_at as date)) as first_day
    from accounts
),

days as (
    {{ day_series('(select first_day from bounds)', plg_day_spine_end()) }}
),

final as (
    select
        {{ surrogate_key(['accounts.account_id', 'days.day']) }} as account_day_id,
        accounts.account_id,
        days.day
    from accounts
    inner join days on days.day >= cast(accounts.created_at as date)
    where 1 = 1
    {{ plg_history_filter('days.day') }}
)

select * from final
