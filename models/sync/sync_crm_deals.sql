{%- set months = var('plg_deal_amount_months') -%}
{%- set targets = var('plg_deal_target_mrr') -%}
-- One row per handoff (account_handoffs: PQL episode or routed expansion) for CRM deals
-- (HubSpot deals associated with the company / Salesforce Opportunities on the Account),
-- upserted by the external id `deal_external_id` (= handoff_id), so reruns and crashes
-- never open a second deal for the same episode. Rows come from the owner ledger
-- (account_owner_assignments) plus handoffs still waiting for an owner, so a deal stays
-- in the model after its episode ends and its stage can close:
--   won  : after handoff_at the account converted to paid (PQL) or expanded (expansion:
--          a higher plan, more seats or more MRR), per int_subscription_changes;
--   lost : not won, and the subscription was canceled after handoff_at or
--          plg_deal_open_days days passed;
--   open : otherwise.
-- The deal is pre-filled as things stood at the handoff (plan, MRR, reasons, recent
-- activity, usage chart), so it does not change, and is not resent, every day:
--   amount = {{ months }} x greatest(MRR at handoff, plg_deal_target_mrr of the plan at
--            handoff); once won, {{ months }} x the MRR after the conversion.

with handoffs as (
    select * from {{ ref('account_handoffs') }}
),

assignments as (
    select * from {{ ref('account_owner_assignments') }}
),

accounts as (
    select * from {{ ref('account_signals') }}
),

crm as (
    select * from {{ ref('stg_crm__companies') }}
),

charts as (
    select * from {{ ref('account_usage_sparklines') }}
),

changes as (
    select * from {{ ref('int_subscription_changes') }}
),

signal_days as (
    select * from {{ ref('int_account_pql_signal_daily') }}
),

pql_signals as (
    select * from {{ ref('plg_pql_signals') }}
),

user_days as (
    select * from {{ ref('int_user_daily_activity') }}
),

target_mrr as (
    {%- for plan, value in targets.items() %}
    select '{{ plan }}' as plan, cast({{ value }} as {{ plg_type_double() }}) as target_mrr
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

all_handoffs as (
    select
        handoff_id, handoff_kind, account_id, handoff_at, segment, plan_at_handoff,
        mrr_at_handoff, owner_email, owner_name, crm_owner_id
    from assignments
    union all
    select
        handoffs.handoff_id, handoffs.handoff_kind, handoffs.account_id, handoffs.handoff_at,
        handoffs.segment, handoffs.plan_at_handoff, handoffs.mrr_at_handoff,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }})
    from handoffs
    left join assignments on assignments.handoff_id = handoffs.handoff_id
    where assignments.handoff_id is null
),

outcomes as (
    select
        all_handoffs.handoff_id,
        min(case
                when all_handoffs.handoff_kind = 'pql'
                     and changes.status in ('active', 'past_due')
                     and coalesce(changes.mrr, 0) > 0
                     and (changes.previous_plan in {{ in_list(var('plg_pql_eligible_plans')) }}
                          or changes.previous_status in {{ in_list(var('plg_pql_eligible_statuses')) }}
                          or coalesce(changes.previous_mrr, 0) = 0)
                    then changes.changed_at
                when all_handoffs.handoff_kind = 'expansion' and changes.change_kind = 'expansion'
                    then changes.changed_at
            end) as won_at,
        min(case when changes.change_kind = 'canceled' then changes.changed_at end) as canceled_at
    from all_handoffs
    inner join changes
        on changes.account_id = all_handoffs.account_id
        and changes.changed_at > all_handoffs.handoff_at
        and changes.changed_at <= {{ plg_as_of() }}
    group by all_handoffs.handoff_id
),

-- the PQL reasons on the handoff day: top signals by points, as in account_pql_scores
ranked_reasons as (
    select
        all_handoffs.handoff_id,
        pql_signals.label,
        pql_signals.window_days,
        signal_days.signal_key,
        signal_days.window_units,
        signal_days.points,
        row_number() over (
            partition by all_handoffs.handoff_id
            order by signal_days.points desc, signal_days.signal_key
        ) as reason_rank
    from all_handoffs
    inner join signal_days
        on signal_days.account_id = all_handoffs.account_id
        and signal_days.day = cast(all_handoffs.handoff_at as date)
    inner join pql_signals on pql_signals.signal_key = signal_days.signal_key
    where all_handoffs.handoff_kind = 'pql'
      and signal_days.points > 0
),

handoff_reasons as (
    select
        handoff_id,
        {{ dbt.listagg(
            dbt.concat(["label", "' ('", "cast(cast(round(window_units, 0) as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")",
                        "' in '", "cast(window_days as " ~ dbt.type_string() ~ ")", "' days, +'",
                        "cast(cast(round(points, 0) as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")", "' pts)'"]),
            "'; '",
            "order by points desc, signal_key") }} as reasons
    from ranked_reasons
    where reason_rank <= {{ var('plg_pql_top_reasons') }}
    group by handoff_id
),

-- activity in the 7 days ending with the handoff day
handoff_activity as (
    select
        all_handoffs.handoff_id,
        count(distinct user_days.user_id) as active_users_7d,
        sum(user_days.event_count) as events_7d
    from all_handoffs
    inner join user_days
        on user_days.account_id = all_handoffs.account_id
        and user_days.activity_date <= cast(all_handoffs.handoff_at as date)
        and user_days.activity_date > {{ date_add_days('cast(all_handoffs.handoff_at as date)', -7) }}
    group by all_handoffs.handoff_id
),

staged as (
    select
        all_handoffs.*,
        case
            when outcomes.won_at is not null then 'won'
            when outcomes.canceled_at is not null then 'lost'
            when all_handoffs.handoff_at < {{ ts_add_days(plg_as_of(), -1 * var('plg_deal_open_days')) }} then 'lost'
            else 'open'
        end as deal_stage,
        coalesce(
            outcomes.won_at,
            outcomes.canceled_at,
            {{ ts_add_days('all_handoffs.handoff_at', var('plg_deal_open_days')) }}
        ) as close_at
    from all_handoffs
    left join outcomes on outcomes.handoff_id = all_handoffs.handoff_id
),

fields as (
    select
        cast(staged.handoff_id as {{ dbt.type_string() }}) as sync_key,
        cast(staged.handoff_id as {{ dbt.type_string() }}) as deal_external_id,
        cast(staged.account_id as {{ dbt.type_string() }}) as plg_account_id,
        cast(accounts.crm_company_id as {{ dbt.type_string() }}) as crm_company_id,
        cast({{ dbt.concat(["coalesce(accounts.account_name, staged.account_id)",
                            "case when staged.handoff_kind = 'pql' then ' - PQL (' else ' - expansion (' end",
                            "coalesce(staged.plan_at_handoff, 'no plan')", "')'"]) }}
            as {{ dbt.type_string() }}) as deal_name,
        cast(staged.handoff_kind as {{ dbt.type_string() }}) as deal_kind,
        cast(staged.deal_stage as {{ dbt.type_string() }}) as deal_stage,
        cast(round(case
                when staged.deal_stage = 'won' and coalesce(accounts.mrr, 0) > 0
                    then {{ months }} * accounts.mrr
                else {{ months }} * greatest(coalesce(staged.mrr_at_handoff, 0), coalesce(target_mrr.target_mrr, 0))
            end, 2) as {{ plg_type_double() }}) as amount,
        cast(staged.plan_at_handoff as {{ dbt.type_string() }}) as plan,
        cast(coalesce(staged.mrr_at_handoff, 0) as {{ plg_type_double() }}) as mrr,
        cast(staged.close_at as {{ dbt.type_timestamp() }}) as close_at,
        cast(staged.handoff_at as {{ dbt.type_timestamp() }}) as handoff_at,
        cast(staged.segment as {{ dbt.type_string() }}) as segment,
        cast(staged.owner_email as {{ dbt.type_string() }}) as owner_email,
        cast(staged.owner_name as {{ dbt.type_string() }}) as owner_name,
        {#- the ledger's id; a CRM owner recorded before the ledger carried CRM ids gets the
            company's owner id while that owner is still the company's owner -#}
        cast(coalesce(
                staged.crm_owner_id,
                case when crm.owner_email = staged.owner_email then crm.owner_id end
            ) as {{ dbt.type_string() }}) as crm_owner_id,
        cast(case
                when staged.handoff_kind = 'pql' then handoff_reasons.reasons
                else {{ dbt.concat(["'routed to sales: '", "coalesce(charts.limit_key, 'a plan limit')",
                                    "' near its limit on the '", "coalesce(staged.plan_at_handoff, '?')", "' plan'"]) }}
            end as {{ dbt.type_string() }}) as reasons,
        {#- plg_number_text: a sum is a double on some engines ("12.0"), the same text everywhere -#}
        cast({{ dbt.concat([plg_number_text("coalesce(handoff_activity.active_users_7d, 0)"),
                            "' active users, '",
                            plg_number_text("coalesce(handoff_activity.events_7d, 0)"),
                            "' events in the 7 days to the handoff'"]) }}
            as {{ dbt.type_string() }}) as recent_activity,
        cast(charts.usage_chart as {{ dbt.type_string() }}) as usage_chart
    from staged
    left join accounts on accounts.account_id = staged.account_id
    left join crm on crm.account_id = staged.account_id
    left join target_mrr on target_mrr.plan = staged.plan_at_handoff
    left join charts
        on charts.account_id = staged.account_id
        and charts.chart_end_day = cast(staged.handoff_at as date)
    left join handoff_reasons on handoff_reasons.handoff_id = staged.handoff_id
    left join handoff_activity on handoff_activity.handoff_id = staged.handoff_id
),

final as (
    select
        fields.*,
        cast({{ dbt.concat(["'Why: '", "coalesce(reasons, '-')", "' | Activity: '", "coalesce(recent_activity, '-')", "' | Usage: '", "coalesce(usage_chart, '-')"]) }} as {{ dbt.type_string() }}) as note
    from fields
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
