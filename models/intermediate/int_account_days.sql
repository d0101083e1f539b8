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
-- A dense spine: one row per account and day from the account's creation (or the
-- history start) to the last day that has started before plg_as_of (the as-of day,
-- partial, unless plg_as_of is midnight; macros/plg_intraday.sql). Rolling windows need
-- dense days, and a run minutes after events sees them on today's row.
-- Incremental: the days from the newest built day on, for every account, and the whole
-- history of an account the spine does not hold yet (a new account, or one loaded late);
-- a day already built never changes.

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

{% if is_incremental() %}
built as (
    select max(day) as newest_day from {{ this }}
),

accounts_built as (
    select account_id
    from {{ this }}
    where day = (select newest_day from built)
      and account_id is not null
),
{% endif %}

final as (
    select
        {{ surrogate_key(['accounts.account_id', 'days.day']) }} as account_day_id,
        accounts.account_id,
        days.day
    from accounts
    inner join days on days.day >= cast(accounts.created_at as date)
    where 1 = 1
    {{ plg_history_filter('days.day') }}
    {% if is_incremental() %}
      and (
          days.day >= (select newest_day from built)
          or accounts.account_id not in (select account_id from accounts_built)
      )
    {% endif %}
)

select * from final
