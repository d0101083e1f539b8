-- Every PQL score, daily and current, lies in [0, 100]; signal points are never negative.
with daily as (
    select account_id, pql_score from {{ ref('account_pql_daily') }}
),

current_scores as (
    select account_id, pql_score from {{ ref('account_pql_scores') }}
),

signal_points as (
    select account_id, points from {{ ref('int_account_pql_signal_daily') }}
),

out_of_range as (
    select account_id, pql_score as value, 'account_pql_daily.pql_score' as what
    from daily where pql_score < 0 or pql_score > 100 or pql_score is null
    union all
    select account_id, pql_score, 'account_pql_scores.pql_score'
    from current_scores where pql_score < 0 or pql_score > 100 or pql_score is null
    union all
    select account_id, points, 'int_account_pql_signal_daily.points'
    from signal_points where points < 0 or points is null
)

select * from out_of_range
