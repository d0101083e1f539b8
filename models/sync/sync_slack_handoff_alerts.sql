{%- set route_by = var('plg_slack_route_by', 'segment') -%}
{%- set stalled_on = var('plg_stalled_alert_milestones', 'first') -%}
{%- if stalled_on is string and stalled_on not in ['first', 'any'] -%}
  {{ exceptions.raise_compiler_error("var plg_stalled_alert_milestones is '" ~ stalled_on ~ "': use 'first', 'any' or a list of milestone keys from the plg_milestones seed") }}
{%- endif -%}
{%- if route_by not in ['segment', 'plan', 'mrr_band', 'owner'] -%}
  {{ exceptions.raise_compiler_error("var plg_slack_route_by is '" ~ route_by ~ "': use segment, plan, mrr_band or owner") }}
{%- endif -%}
-- One row per handoff alert of the last plg_signal_event_lookback_days days, for Slack
-- (event-style: each row is sent once; sync_key is stable, so a resend is recognisable):
--   pql / expansion : a new deal (sync_crm_deals) with its owner, reasons, activity, chart;
--   at_risk         : a CS task opened (sync_crm_tasks: MRR >= plg_cs_min_mrr);
--   stalled_users   : a daily digest per account, for CS: the active users of an account
--                     with MRR >= plg_cs_min_mrr who stalled (user_activation: no milestone
--                     progress for plg_stall_after_days days) on a milestone named by var
--                     plg_stalled_alert_milestones ('first' (default): still on the seed's
--                     first milestone, as the activation play says; 'any'; or a list of
--                     milestone keys: the user's next milestone is one of them). A user
--                     stalls at last milestone (or signup) + plg_stall_after_days days; the
--                     users who stalled on one UTC day make one message, sent once that
--                     day is over (so its list is final and nobody who stalls later that
--                     day is left out of every digest). One message per account and day,
--                     not one per user: a CSM works accounts, not users.
-- route_key picks the channel: the alert's {{ route_by }} (var plg_slack_route_by:
-- segment, plan, mrr_band or owner); the sync maps route keys to webhooks.

with deals as (
    select * from {{ ref('sync_crm_deals') }}
),

tasks as (
    select * from {{ ref('sync_crm_tasks') }}
),

accounts as (
    select * from {{ ref('account_signals') }}
),

raw_accounts as (
    select * from {{ ref('stg_app__accounts') }}
),

users as (
    select * from {{ ref('user_activation') }}
),

milestones as (
    select * from {{ ref('plg_milestones') }}
),

charts as (
    select * from {{ ref('account_usage_sparklines') }}
),

window_start as (
    select cast({{ plg_event_window_start() }} as {{ dbt.type_timestamp() }}) as starts_at
),

deal_alerts as (
    select
        deals.deal_kind as alert_kind,
        deals.handoff_at as occurred_at,
        deals.plg_account_id as account_id,
        deals.segment,
        deals.plan,
        deals.mrr,
        deals.owner_email,
        deals.owner_name,
        deals.deal_external_id as record_external_id,
        cast(null as {{ dbt.type_string() }}) as user_email,
        case when deals.deal_kind = 'pql' then 'New product-qualified lead'
             else 'Expansion: account at its plan limit' end as headline,
        deals.reasons,
        deals.recent_activity,
        deals.usage_chart
    from deals
    cross join window_start
    where deals.handoff_at >= window_start.starts_at
      and deals.deal_stage = 'open'
),

task_alerts as (
    select
        'at_risk' as alert_kind,
        tasks.at_risk_since as occurred_at,
        tasks.plg_account_id as account_id,
        cast(null as {{ dbt.type_string() }}) as segment,
        tasks.plan,
        tasks.mrr,
        tasks.owner_email,
        cast(null as {{ dbt.type_string() }}) as owner_name,
        tasks.task_external_id as record_external_id,
        cast(null as {{ dbt.type_string() }}) as user_email,
        'Churn risk: CS task opened' as headline,
        tasks.reasons,
        cast(null as {{ dbt.type_string() }}) as recent_activity,
        tasks.usage_chart
    from tasks
    cross join window_start
    where tasks.at_risk_since >= window_start.starts_at
),

first_milestone as (
    select milestone_key
    from (
        select
            milestone_key,
            row_number() over (order by milestone_order, milestone_key) as milestone_rank
        from milestones
    ) as ranked
    where milestone_rank = 1
),

stalled as (
    select
        users.*,
        {{ ts_add_days('coalesce(users.last_milestone_at, users.signed_up_at)', var('plg_stall_after_days')) }} as stalled_at
    from users
    where users.activation_status = 'stalled'
      and users.is_active_user
      {%- if stalled_on == 'first' %}
      and users.next_milestone_key in (select milestone_key from first_milestone)
      {%- elif stalled_on != 'any' %}
      and users.next_milestone_key in {{ in_list(stalled_on) }}
      {%- endif %}
),

-- the users of a paying account who stalled on one complete UTC day
stalled_in_paying_accounts as (
    select
        stalled.*,
        cast(stalled.stalled_at as date) as stall_day,
        row_number() over (
            partition by stalled.account_id, cast(stalled.stalled_at as date)
            order by coalesce(stalled.email, stalled.user_id)
        ) as listed_rank
    from stalled
    inner join accounts on accounts.account_id = stalled.account_id
    where accounts.mrr >= {{ var('plg_cs_min_mrr') }}
      and stalled.stalled_at < cast({{ plg_as_of_date() }} as {{ dbt.type_timestamp() }})
),

stalled_per_milestone as (
    select
        account_id,
        stall_day,
        coalesce(next_milestone_label, next_milestone_key, '?') as milestone,
        count(*) as user_count
    from stalled_in_paying_accounts
    group by 1, 2, 3
),

stalled_digests as (
    select
        account_id,
        stall_day,
        count(*) as user_count,
        {{ dbt.listagg('case when listed_rank <= 10 then coalesce(email, user_id) end', "', '", 'order by coalesce(email, user_id)') }} as user_emails
    from stalled_in_paying_accounts
    group by 1, 2
),

stalled_milestones as (
    select
        account_id,
        stall_day,
        {{ dbt.listagg(dbt.concat(["milestone", "' ('", "cast(user_count as " ~ dbt.type_string() ~ ")", "')'"]),
                       "'; '", 'order by user_count desc, milestone') }} as milestones
    from stalled_per_milestone
    group by 1, 2
),

stalled_alerts as (
    select
        'stalled_users' as alert_kind,
        {{ ts_add_days('cast(stalled_digests.stall_day as ' ~ dbt.type_timestamp() ~ ')', 1) }} as occurred_at,
        stalled_digests.account_id,
        cast(null as {{ dbt.type_string() }}) as segment,
        accounts.plan,
        accounts.mrr,
        accounts.owner_email,
        cast(null as {{ dbt.type_string() }}) as owner_name,
        cast({{ surrogate_key(['stalled_digests.account_id', "'stalled'", 'stalled_digests.stall_day']) }}
            as {{ dbt.type_string() }}) as record_external_id,
        {{ dbt.concat(["stalled_digests.user_emails",
                       "case when stalled_digests.user_count > 10 then " ~ dbt.concat(["' (+'", "cast(stalled_digests.user_count - 10 as " ~ dbt.type_string() ~ ")", "' more)'"]) ~ " else '' end"]) }} as user_email,
        'Stalled users in a paying account' as headline,
        {{ dbt.concat(["cast(stalled_digests.user_count as " ~ dbt.type_string() ~ ")",
                       "case when stalled_digests.user_count = 1 then ' user' else ' users' end",
                       "' with no milestone progress for " ~ var('plg_stall_after_days') ~ " days; stuck on: '",
                       "stalled_milestones.milestones"]) }} as reasons,
        cast(null as {{ dbt.type_string() }}) as recent_activity,
        charts.usage_chart
    from stalled_digests
    inner join stalled_milestones
        on stalled_milestones.account_id = stalled_digests.account_id
        and stalled_milestones.stall_day = stalled_digests.stall_day
    cross join window_start
    inner join accounts on accounts.account_id = stalled_digests.account_id
    left join charts
        on charts.account_id = stalled_digests.account_id
        and charts.chart_end_day = {{ plg_last_day() }}
    where {{ ts_add_days('cast(stalled_digests.stall_day as ' ~ dbt.type_timestamp() ~ ')', 1) }} >= window_start.starts_at
),

alerts as (
    select * from deal_alerts
    union all
    select * from task_alerts
    union all
    select * from stalled_alerts
),

enriched as (
    select
        alerts.*,
        coalesce(
            alerts.segment,
            {{ plg_handoff_segment('raw_accounts.employee_count', 'accounts.plan', 'accounts.mrr_band', 'raw_accounts.industry') }}
        ) as account_segment,
        accounts.account_name,
        accounts.mrr_band,
        accounts.crm_company_id
    from alerts
    left join accounts on accounts.account_id = alerts.account_id
    left join raw_accounts on raw_accounts.account_id = alerts.account_id
),

final as (
    select
        cast({{ surrogate_key(['alert_kind', 'account_id', 'record_external_id', 'cast(occurred_at as date)']) }}
            as {{ dbt.type_string() }}) as sync_key,
        cast(alert_kind as {{ dbt.type_string() }}) as alert_kind,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(
            {%- if route_by == 'segment' %} account_segment
            {%- elif route_by == 'plan' %} coalesce(plan, 'none')
            {%- elif route_by == 'mrr_band' %} coalesce(mrr_band, 'none')
            {%- else %} coalesce(owner_email, 'unassigned')
            {%- endif %} as {{ dbt.type_string() }}) as route_key,
        cast(account_segment as {{ dbt.type_string() }}) as segment,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(account_name as {{ dbt.type_string() }}) as account_name,
        cast(plan as {{ dbt.type_string() }}) as plan,
        cast(mrr as {{ plg_type_double() }}) as mrr,
        cast(mrr_band as {{ dbt.type_string() }}) as mrr_band,
        cast(owner_email as {{ dbt.type_string() }}) as owner_email,
        cast(owner_name as {{ dbt.type_string() }}) as owner_name,
        cast(crm_company_id as {{ dbt.type_string() }}) as crm_company_id,
        cast(record_external_id as {{ dbt.type_string() }}) as record_external_id,
        cast(user_email as {{ dbt.type_string() }}) as user_email,
        cast(headline as {{ dbt.type_string() }}) as headline,
        cast(reasons as {{ dbt.type_string() }}) as reasons,
        cast(recent_activity as {{ dbt.type_string() }}) as recent_activity,
        cast(usage_chart as {{ dbt.type_string() }}) as usage_chart
    from enriched
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
