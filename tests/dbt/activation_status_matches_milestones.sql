-- activation_status agrees with the milestone counts it is derived from.
with activation as (
    select * from {{ ref('user_activation') }}
),

contradictions as (
    select *
    from activation
    where (activation_status = 'activated') <> (milestones_total > 0 and milestones_completed_count = milestones_total)
       or (activation_status = 'activated') <> (activated_at is not null)
       or (activation_status = 'activated' and next_milestone_key is not null)
       or (activation_status <> 'activated' and milestones_total > 0 and next_milestone_key is null)
       or (activation_status = 'not_started' and milestones_completed_count > 0)
       or (activation_status = 'in_progress' and milestones_completed_count = 0)
       or (milestones_completed_count > 0) <> (last_milestone_at is not null)
       or milestones_completed_count > milestones_total
)

select * from contradictions
