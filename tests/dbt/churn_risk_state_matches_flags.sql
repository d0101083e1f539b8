-- risk_state is the at-risk cycle spelled out (issue 17.5): at_risk and awaiting_recovery
-- are exactly is_at_risk, recovered is exactly is_recovered, an open episode whose score
-- fell below the threshold is awaiting_recovery (never a bare "at risk, score 0"), and
-- every state but none has a reason.
with churn as (
    select * from {{ ref('account_churn_risk') }}
),

contradictions as (
    select *
    from churn
    where (risk_state in ('at_risk', 'awaiting_recovery')) <> is_at_risk
       or (risk_state = 'recovered') <> (is_recovered and not is_at_risk)
       or (risk_state = 'at_risk' and risk_score < {{ var('plg_churn_risk_threshold') }})
       or (risk_state <> 'none' and risk_state_reason is null)
       or (risk_state = 'none' and risk_state_reason is not null)
)

select * from contradictions
