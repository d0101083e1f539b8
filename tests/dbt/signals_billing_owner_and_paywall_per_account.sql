-- account_signals carries every account's billing contact and paywall hits, whatever its
-- plan limits (issue 17.3): an account with an active user who has an email has a
-- billing_owner_email, and paywall_hits_7d equals the account's paywall events of the last
-- 7 days, also for accounts on a plan without limit rows or canceled ones.
with signals as (
    select * from {{ ref('account_signals') }}
),

users as (
    select * from {{ ref('stg_app__users') }}
),

user_events as (
    select * from {{ ref('int_user_event_daily') }}
),

contactable as (
    select distinct account_id
    from users
    where email is not null
      and {{ plg_user_is_active() }}
),

paywall as (
    select account_id, sum(event_count) as hits
    from user_events
    where event_name in {{ in_list(var('plg_paywall_events')) }}
      and activity_date >= {{ plg_days_ago(7) }}
      and first_occurred_at < {{ plg_as_of() }}
    group by account_id
),

problems as (
    select signals.account_id, 'no billing_owner_email' as problem
    from signals
    inner join contactable on signals.account_id = contactable.account_id
    where signals.billing_owner_email is null
    union all
    select signals.account_id, 'paywall_hits_7d differs' as problem
    from signals
    left join paywall on signals.account_id = paywall.account_id
    where signals.paywall_hits_7d <> coalesce(paywall.hits, 0)
)

select * from problems
