-- Each Wilson interval contains its observed rate, and the groups add up to the cohort.
with lift as (
    select * from {{ ref('milestone_retention_lift') }}
),

inconsistent as (
    select *
    from lift
    where retention_did_ci_lower > retention_did_pct
       or retention_did_ci_upper < retention_did_pct
       or retention_did_not_ci_lower > retention_did_not_pct
       or retention_did_not_ci_upper < retention_did_not_pct
       or retained_did_count > users_did_count
       or retained_did_not_count > users_did_not_count
       or (has_enough_data and lift_rank is null)
       or (not has_enough_data and lift_rank is not null)
),

cohort_sizes as (
    select count(distinct users_did_count + users_did_not_count) as distinct_cohort_sizes
    from lift
),

uneven_cohort as (
    select lift.*
    from lift
    cross join cohort_sizes
    where cohort_sizes.distinct_cohort_sizes > 1
)

select * from inconsistent
union all
select * from uneven_cohort
