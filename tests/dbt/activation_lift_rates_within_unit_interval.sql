-- Every rate and Wilson bound of milestone_retention_lift lies in [0, 1] (null allowed).
with lift as (
    select * from {{ ref('milestone_retention_lift') }}
),

out_of_range as (
    select *
    from lift
    where retention_did_pct < 0 or retention_did_pct > 1
       or retention_did_not_pct < 0 or retention_did_not_pct > 1
       or retention_did_ci_lower < 0 or retention_did_ci_lower > 1
       or retention_did_ci_upper < 0 or retention_did_ci_upper > 1
       or retention_did_not_ci_lower < 0 or retention_did_not_ci_lower > 1
       or retention_did_not_ci_upper < 0 or retention_did_not_ci_upper > 1
       or retention_lift < 0
       or retention_difference < -1 or retention_difference > 1
)

select * from out_of_range
