-- account_signals repeats the plays' flags unchanged, and primary_signal agrees with them.
with signals as (
    select * from {{ ref('account_signals') }}
),

contradictions as (
    select *
    from signals
    where (primary_signal = 'at_risk') <> coalesce(is_at_risk, false)
       or (primary_signal = 'pql' and (not coalesce(is_pql, false) or coalesce(is_at_risk, false)))
       or (primary_signal = 'expansion' and not is_near_limit)
       or (primary_signal = 'recovered' and not coalesce(is_recovered, false))
       or (primary_signal = 'none' and (coalesce(is_pql, false) or is_near_limit or coalesce(is_recovered, false)))
       or is_near_limit <> (limit_status <> 'ok')
)

select * from contradictions
