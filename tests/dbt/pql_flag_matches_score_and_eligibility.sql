-- is_pql is exactly "eligible and score at/above the threshold", and a PQL has a
-- pql_reached_at that is not before its first_pql_reached_at.
with scores as (
    select * from {{ ref('account_pql_scores') }}
),

contradictions as (
    select *
    from scores
    where is_pql <> (coalesce(is_pql_eligible, false) and pql_score >= pql_threshold)
       or (pql_score >= pql_threshold) <> (pql_reached_at is not null)
       or pql_reached_at < first_pql_reached_at
)

select * from contradictions
