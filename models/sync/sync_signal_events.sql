-- One row per signal occurrence in the last plg_signal_event_lookback_days days, for
-- event-style syncs (Customer.io events, Slack alerts): pql_reached, became_at_risk,
-- recovered, limit_approaching, limit_reached, and the conversions journeys exit on
-- (issue 18): converted (a free or trialing subscription became paid), plan_upgraded (a
-- higher plan), limit_resolved (a plan or seat expansion of an account that hit a paywall
-- in the plg_signal_event_lookback_days days before it, after which no limit is near). Every value is fixed at the moment the
-- signal happened, and sync_key is derived from (account, signal, day), so the row never
-- changes and a resend carries the same event id.
-- The event is attached to the account's primary contact: its billing owner
-- (int_account_active_users: the active billing user, else an admin, else the earliest
-- active user, users with an email first).

with accounts as (
    select * from {{ ref('account_signals') }}
),

account_users as (
    select * from {{ ref('int_account_active_users') }}
),

pql_days as (
    select * from {{ ref('account_pql_daily') }}
),

pql_scores as (
    select * from {{ ref('account_pql_scores') }}
),

pql_signal_days as (
    select * from {{ ref('int_account_pql_signal_daily') }}
),

pql_signals as (
    select * from {{ ref('plg_pql_signals') }}
),

pql_crossings as (
    select * from {{ ref('int_account_pql_crossings') }}
),

churn as (
    select * from {{ ref('account_churn_risk') }}
),

limits as (
    select * from {{ ref('account_plan_limits') }}
),

usage as (
    select * from {{ ref('int_account_usage_daily') }}
),

user_events as (
    select * from {{ ref('int_user_event_daily') }}
),

changes as (
    select * from {{ ref('int_subscription_changes') }}
    where changed_at >= cast({{ plg_event_window_start() }} as {{ dbt.type_timestamp() }})
      and changed_at < {{ plg_as_of() }}
      and previous_status is not null
),

primary_contact as (
    select
        account_id,
        billing_owner_user_id as user_id,
        billing_owner_email as email
    from account_users
),

-- the reasons as they stood on the crossing day (top 3 signals by points that day); only
-- the crossing days in the event window are read, not every account's every day
pql_day_reasons as (
    select
        pql_signal_days.account_id,
        pql_signal_days.day,
        pql_signals.label,
        pql_signal_days.points,
        pql_signal_days.signal_key,
        row_number() over (
            partition by pql_signal_days.account_id, pql_signal_days.day
            order by pql_signal_days.points desc, pql_signal_days.signal_key
        ) as reason_rank
    from pql_signal_days
    inner join pql_signals on pql_signal_days.signal_key = pql_signals.signal_key
    inner join pql_days
        on pql_days.account_id = pql_signal_days.account_id
        and pql_days.day = pql_signal_days.day
        and pql_days.is_crossing_day
    where pql_signal_days.points > 0
      and pql_signal_days.day >= {{ plg_event_window_start() }}
),

pql_reason_text as (
    select
        account_id,
        day,
        {{ dbt.listagg('label', "', '", 'order by points desc, signal_key') }} as reason
    from pql_day_reasons
    where reason_rank <= {{ var('plg_pql_top_reasons') }}
    group by account_id, day
),

pql_events as (
    select
        pql_days.account_id,
        'pql_reached' as event_name,
        pql_crossings.crossed_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as limit_key,
        pql_days.pql_score as score,
        pql_reason_text.reason
    from pql_days
    inner join pql_scores
        on pql_days.account_id = pql_scores.account_id and pql_scores.is_pql_eligible
    inner join pql_crossings
        on pql_days.account_id = pql_crossings.account_id and pql_days.day = pql_crossings.day
    left join pql_reason_text
        on pql_days.account_id = pql_reason_text.account_id and pql_days.day = pql_reason_text.day
    where pql_days.is_crossing_day
      and pql_days.day >= {{ plg_event_window_start() }}
),

risk_events as (
    select
        account_id,
        'became_at_risk' as event_name,
        at_risk_since as occurred_at,
        cast(null as {{ dbt.type_string() }}) as limit_key,
        cast(null as {{ plg_type_double() }}) as score,
        replace(top_risk_reason_key, '_', ' ') as reason
    from churn
    where is_at_risk
      and at_risk_since >= cast({{ plg_event_window_start() }} as {{ dbt.type_timestamp() }})
),

recovery_events as (
    select
        account_id,
        'recovered' as event_name,
        recovered_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as limit_key,
        cast(null as {{ plg_type_double() }}) as score,
        'usage back to normal' as reason
    from churn
    where is_recovered
      and recovered_at >= cast({{ plg_event_window_start() }} as {{ dbt.type_timestamp() }})
),

-- the day in the current usage cycle on which cumulative usage crossed each boundary
cycle_usage as (
    select
        limits.account_id,
        limits.limit_key,
        limits.limit_value,
        usage.usage_date,
        sum(usage.usage_value) over (
            partition by limits.account_id, limits.limit_key
            order by usage.usage_date rows between unbounded preceding and current row
        ) as cumulative_usage
    from limits
    inner join usage
        on usage.account_id = limits.account_id
        and usage.metric = limits.limit_key
        and usage.usage_date >= cast(limits.usage_cycle_start_at as date)
        and usage.usage_date <= {{ plg_last_day() }}
    where limits.aggregation = 'cycle_sum'
),

boundaries as (
    select 'limit_approaching' as event_name, {{ var('plg_limit_approaching_percent') }} as boundary_percent
    union all
    select 'limit_reached', 100
),

limit_crossings as (
    select
        cycle_usage.account_id,
        boundaries.event_name,
        cycle_usage.limit_key,
        min(cycle_usage.usage_date) as crossed_on,
        boundaries.boundary_percent
    from cycle_usage
    cross join boundaries
    where 100 * cycle_usage.cumulative_usage >= boundaries.boundary_percent * cycle_usage.limit_value
    group by 1, 2, 3, 5
),

limit_events as (
    select
        account_id,
        event_name,
        cast(crossed_on as {{ dbt.type_timestamp() }}) as occurred_at,
        limit_key,
        cast(boundary_percent as {{ plg_type_double() }}) as score,
        {{ dbt.concat(["limit_key", "' passed '", "cast(boundary_percent as " ~ dbt.type_string() ~ ")", "'% of the plan limit'"]) }} as reason
    from limit_crossings
    where crossed_on >= {{ plg_event_window_start() }}
),

-- conversions: the first qualifying change of the day per account and event
conversion_changes as (
    select
        account_id,
        'converted' as event_name,
        changed_at,
        plan,
        previous_plan,
        mrr
    from changes
    where status in ('active', 'past_due')
      and coalesce(mrr, 0) > 0
      and (previous_plan in {{ in_list(var('plg_pql_eligible_plans')) }}
           or previous_status in {{ in_list(var('plg_pql_eligible_statuses')) }}
           or coalesce(previous_mrr, 0) = 0)
    union all
    select account_id, 'plan_upgraded', changed_at, plan, previous_plan, mrr
    from changes
    where change_kind = 'expansion'
      and plan <> previous_plan
    union all
    select changes.account_id, 'limit_resolved', changes.changed_at, changes.plan, changes.previous_plan, changes.mrr
    from changes
    inner join accounts on accounts.account_id = changes.account_id
    where changes.change_kind = 'expansion'
      and accounts.limit_status = 'ok'
      and exists (
          select 1
          from user_events
          where user_events.account_id = changes.account_id
            and user_events.event_name in {{ in_list(var('plg_paywall_events')) }}
            and user_events.first_occurred_at < changes.changed_at
            and user_events.activity_date >= {{ date_add_days('cast(changes.changed_at as date)', -1 * var('plg_signal_event_lookback_days')) }}
      )
),

first_conversions as (
    select
        *,
        row_number() over (
            partition by account_id, event_name, cast(changed_at as date) order by changed_at
        ) as occurrence
    from conversion_changes
),

conversion_events as (
    select
        account_id,
        event_name,
        changed_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as limit_key,
        cast(mrr as {{ plg_type_double() }}) as score,
        {{ dbt.concat(["coalesce(previous_plan, '?')", "' -> '", "coalesce(plan, '?')",
                       "', MRR '", "cast(cast(round(coalesce(mrr, 0), 0) as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")"]) }} as reason
    from first_conversions
    where occurrence = 1
),

occurrences as (
    select * from conversion_events
    union all
    select * from pql_events
    union all
    select * from risk_events
    union all
    select * from recovery_events
    union all
    select * from limit_events
),

final as (
    select
        cast({{ surrogate_key(['occurrences.account_id', 'occurrences.event_name', 'occurrences.limit_key', 'cast(occurrences.occurred_at as date)']) }}
            as {{ dbt.type_string() }}) as sync_key,
        cast(occurrences.event_name as {{ dbt.type_string() }}) as event_name,
        cast(occurrences.occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(primary_contact.user_id as {{ dbt.type_string() }}) as id,
        cast(primary_contact.email as {{ dbt.type_string() }}) as email,
        cast(occurrences.account_id as {{ dbt.type_string() }}) as account_id,
        cast(accounts.account_name as {{ dbt.type_string() }}) as account_name,
        cast(accounts.plan as {{ dbt.type_string() }}) as plan,
        cast(accounts.mrr as {{ plg_type_double() }}) as mrr,
        cast(accounts.crm_company_id as {{ dbt.type_string() }}) as crm_company_id,
        cast(occurrences.limit_key as {{ dbt.type_string() }}) as limit_key,
        cast(occurrences.score as {{ plg_type_double() }}) as score,
        cast(occurrences.reason as {{ dbt.type_string() }}) as reason
    from occurrences
    inner join accounts on occurrences.account_id = accounts.account_id
    left join primary_contact
        on occurrences.account_id = primary_contact.account_id
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
