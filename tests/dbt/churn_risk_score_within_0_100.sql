-- Every churn risk score, daily and current, lies in [0, 100]; usage_drop_pct is at most 1.
with daily as (
    select account_id, day, risk_score, usage_drop_pct from {{ ref('account_health_daily') }}
),

current_risk as (
    select account_id, risk_score from {{ ref('account_churn_risk') }}
),

out_of_range as (
    select account_id, risk_score as value, 'account_health_daily.risk_score' as what
    from daily where risk_score < 0 or risk_score > 100 or risk_score is null
    union all
    select account_id, usage_drop_pct, 'account_health_daily.usage_drop_pct'
    from daily where usage_drop_pct > 1
    union all
    select account_id, risk_score, 'account_churn_risk.risk_score'
    from current_risk where risk_score < 0 or risk_score > 100 or risk_score is null
)

select * from out_of_range
