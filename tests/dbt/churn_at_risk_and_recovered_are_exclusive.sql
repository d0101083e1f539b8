-- An account is never at risk and recovered at once; at_risk_since is set exactly when at
-- risk (scored accounts), recovered_at whenever is_recovered; unscored accounts are neither.
with risk as (
    select * from {{ ref('account_churn_risk') }}
),

contradictions as (
    select *
    from risk
    where (is_at_risk and is_recovered)
       or (is_at_risk and at_risk_since is null)
       or (is_recovered and recovered_at is null)
       or (not is_scored and (is_at_risk or is_recovered))
       or (risk_band in ('churned', 'not_scored')) = is_scored
)

select * from contradictions
