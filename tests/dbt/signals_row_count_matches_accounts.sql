-- account_signals has exactly one row per account in stg_app__accounts: no account is
-- dropped by its joins and none is fanned out. Returns a row when the counts differ.
with accounts as (
    select count(*) as account_count from {{ ref('stg_app__accounts') }}
),

signals as (
    select count(*) as signal_count from {{ ref('account_signals') }}
),

mismatch as (
    select accounts.account_count, signals.signal_count
    from accounts
    cross join signals
    where accounts.account_count <> signals.signal_count
)

select * from mismatch
