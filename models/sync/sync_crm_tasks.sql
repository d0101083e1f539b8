-- One row per churn-risk episode (account_churn_risk: the account's latest episode) of an
-- account whose MRR when the episode started was at least plg_cs_min_mrr, for a CS task
-- in the CRM (HubSpot task / Salesforce Task on the company/Account), upserted by the
-- external id `task_external_id` (hash of account and episode start day): one task per
-- episode across reruns and crashes.
--   status: open while the episode is open; completed when the account recovered
--           (outcome recovered), its subscription was canceled (outcome churned), or the
--           episode vanished from the risk history after a run had reported it (outcome
--           withdrawn: account_risk_episode_log; e.g. a partial day confirmed it and the
--           complete day did not), so no task stays open for an episode that is gone.
--   reasons: the signals on the episode's first day, in words (what triggered it), so the
--            task text does not change while the episode runs.
-- Episodes started more than plg_cs_task_lookback_days days ago are left out.

with churn as (
    select * from {{ ref('account_churn_risk') }}
),

health as (
    select * from {{ ref('account_health_daily') }}
),

accounts as (
    select * from {{ ref('account_signals') }}
),

versions as (
    select * from {{ ref('stg_stripe__subscription_history') }}
),

changes as (
    select * from {{ ref('int_subscription_changes') }}
),

charts as (
    select * from {{ ref('account_usage_sparklines') }}
),

episode_log as (
    select * from {{ ref('account_risk_episode_log') }}
),

reported_episodes as (
    select
        account_id,
        last_episode_started_at as started_at,
        recovered_at,
        cast(null as {{ dbt.type_timestamp() }}) as withdrawn_at
    from churn
    where last_episode_started_at is not null
    union all
    select
        account_id,
        cast(started_on as {{ dbt.type_timestamp() }}) as started_at,
        cast(null as {{ dbt.type_timestamp() }}) as recovered_at,
        withdrawn_at
    from episode_log
    where withdrawn_at is not null
),

episodes as (
    select *
    from reported_episodes
    where started_at >= {{ ts_add_days(plg_as_of(), -1 * var('plg_cs_task_lookback_days')) }}
),

mrr_at_start as (
    select
        episodes.account_id,
        episodes.started_at,
        versions.mrr,
        row_number() over (
            partition by episodes.account_id, episodes.started_at order by versions.valid_from desc
        ) as recency
    from episodes
    inner join versions
        on versions.account_id = episodes.account_id
        and versions.valid_from <= {{ ts_add_days('episodes.started_at', 1) }}
        and (versions.valid_to is null or versions.valid_to > episodes.started_at)
),

canceled as (
    select episodes.account_id, episodes.started_at, min(changes.changed_at) as canceled_at
    from episodes
    inner join changes
        on changes.account_id = episodes.account_id
        and changes.change_kind = 'canceled'
        and changes.changed_at >= episodes.started_at
        and changes.changed_at <= {{ plg_as_of() }}
    group by episodes.account_id, episodes.started_at
),

trigger_reasons as (
    select
        episodes.account_id,
        episodes.started_at,
        health.risk_score,
        {{ dbt.concat([
            "case when health.has_usage_drop then " ~ dbt.concat(["'; usage down '", "cast(cast(round(100 * health.usage_drop_pct, 0) as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")", "'% vs the previous " ~ var('plg_churn_baseline_window_days') ~ " days'"]) ~ " else '' end",
            "case when health.has_key_user_offboarded then '; key user offboarded' else '' end",
            "case when health.has_negative_support then '; negative support tickets' else '' end",
            "case when health.has_downgrade then '; downgrade' else '' end",
            "case when health.is_cancel_at_period_end then '; set to cancel at period end' else '' end"
        ]) }} as reason_text
    from episodes
    inner join health
        on health.account_id = episodes.account_id
        and health.day = cast(episodes.started_at as date)
),

fields as (
    select
        cast({{ surrogate_key(['episodes.account_id', "'risk'", 'cast(episodes.started_at as date)']) }}
            as {{ dbt.type_string() }}) as sync_key,
        cast({{ surrogate_key(['episodes.account_id', "'risk'", 'cast(episodes.started_at as date)']) }}
            as {{ dbt.type_string() }}) as task_external_id,
        cast(episodes.account_id as {{ dbt.type_string() }}) as plg_account_id,
        cast(accounts.crm_company_id as {{ dbt.type_string() }}) as crm_company_id,
        cast({{ dbt.concat(["'Churn risk: '", "coalesce(accounts.account_name, episodes.account_id)"]) }}
            as {{ dbt.type_string() }}) as subject,
        cast(case when episodes.withdrawn_at is not null or episodes.recovered_at is not null
                       or canceled.canceled_at is not null
                  then 'completed' else 'open' end as {{ dbt.type_string() }}) as task_status,
        cast(case when episodes.withdrawn_at is not null then 'withdrawn'
                  when episodes.recovered_at is not null then 'recovered'
                  when canceled.canceled_at is not null then 'churned' end as {{ dbt.type_string() }}) as outcome,
        cast(case when coalesce(mrr_at_start.mrr, 0) >= {{ var('plg_route_to_sales_mrr') }} then 'high' else 'medium' end
            as {{ dbt.type_string() }}) as priority,
        cast(episodes.started_at as {{ dbt.type_timestamp() }}) as at_risk_since,
        cast({{ ts_add_days('episodes.started_at', var('plg_churn_min_signal_days')) }} as {{ dbt.type_timestamp() }}) as due_at,
        cast(case when episodes.withdrawn_at is not null then episodes.withdrawn_at
                  else coalesce(episodes.recovered_at, canceled.canceled_at) end as {{ dbt.type_timestamp() }}) as completed_at,
        cast(coalesce(mrr_at_start.mrr, 0) as {{ plg_type_double() }}) as mrr,
        cast(accounts.plan as {{ dbt.type_string() }}) as plan,
        cast(accounts.owner_email as {{ dbt.type_string() }}) as owner_email,
        -- the CRM's id of that owner, so the task is assigned to them (hubspot_owner_id / OwnerId)
        cast(accounts.crm_owner_id as {{ dbt.type_string() }}) as crm_owner_id,
        -- the account's billing/primary contact, for a task -> contact association
        cast(accounts.billing_owner_email as {{ dbt.type_string() }}) as contact_email,
        cast(trigger_reasons.risk_score as {{ dbt.type_int() }}) as risk_score_at_start,
        cast(nullif(substr(trigger_reasons.reason_text, 3), '') as {{ dbt.type_string() }}) as reasons,
        cast(charts.usage_chart as {{ dbt.type_string() }}) as usage_chart
    from episodes
    inner join mrr_at_start
        on mrr_at_start.account_id = episodes.account_id
        and mrr_at_start.started_at = episodes.started_at
        and mrr_at_start.recency = 1
    left join canceled
        on canceled.account_id = episodes.account_id and canceled.started_at = episodes.started_at
    left join trigger_reasons
        on trigger_reasons.account_id = episodes.account_id
        and trigger_reasons.started_at = episodes.started_at
    left join accounts on accounts.account_id = episodes.account_id
    left join charts
        on charts.account_id = episodes.account_id
        and charts.chart_end_day = cast(episodes.started_at as date)
    where mrr_at_start.mrr >= {{ var('plg_cs_min_mrr') }}
),

final as (
    select
        fields.*,
        cast({{ dbt.concat(["'Why: '", "coalesce(reasons, '-')", "' | Usage: '", "coalesce(usage_chart, '-')"]) }} as {{ dbt.type_string() }}) as body
    from fields
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
