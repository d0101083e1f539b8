{{
    config(
        materialized='incremental',
        unique_key='handoff_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
        full_refresh=false,
    )
}}
-- The owner of every handoff (account_handoffs), decided once and kept: an append-only
-- ledger. `--full-refresh` leaves it alone (full_refresh=false), so no rebuild reshuffles
-- accounts between reps; dropping the table rebuilds the same assignments from the same
-- handoffs and roster, because the rotation is a pure function of its inputs.
--
-- Weighted round-robin per segment (stride scheduling): an active rep with weight w owns
-- the rotation positions slot / w for slot = 0, 1, 2, ...; handoffs of a segment, in order
-- of handoff_at (then handoff_id), take the free positions in increasing order (ties by
-- rep email). After n handoffs each rep holds n x w / (sum of weights) of them, +/- 1.
-- An incremental run continues each rep after its last slot; a rep that joins (or comes
-- back from inactive) starts at the segment's current position, so it does not receive
-- every lead until it has "caught up".
-- A handoff whose segment has no active rep goes to the roster's `default` segment; with
-- no active rep there either it stays unassigned and is tried again on the next run.
-- When the CRM company already has an owner (an owner id or an owner email in the CRM),
-- that owner is recorded (source `crm`) with the CRM's own owner id, and no rotation slot is
-- used, unless var plg_owner_override_crm is true.

with handoffs as (
    select * from {{ ref('account_handoffs') }}
),

roster as (
    select
        lower(cast(rep_email as {{ dbt.type_string() }})) as rep_email,
        cast(rep_name as {{ dbt.type_string() }}) as rep_name,
        cast(crm_owner_id as {{ dbt.type_string() }}) as crm_owner_id,
        cast(segment as {{ dbt.type_string() }}) as segment,
        {{ to_bool('is_active') }} as is_active,
        cast(weight as {{ dbt.type_int() }}) as weight
    from {{ ref('plg_sales_roster') }}
),

pending as (
    select handoffs.*
    from handoffs
    {% if is_incremental() %}
    left join {{ this }} as assigned on assigned.handoff_id = handoffs.handoff_id
    where assigned.handoff_id is null
    {% endif %}
),

active_reps as (
    select *
    from roster
    where coalesce(is_active, false) and weight > 0
),

staffed_segments as (
    select distinct segment from active_reps
),

-- owners already set in the CRM are kept (unless overridden)
crm_owned as (
    select
        pending.*,
        cast(null as {{ dbt.type_string() }}) as rotation_pool,
        coalesce(roster.rep_email, pending.crm_owner_email, roster_by_id.rep_email) as owner_email,
        coalesce(roster.rep_name, roster_by_id.rep_name) as owner_name,
        coalesce(pending.crm_company_owner_id, roster.crm_owner_id) as crm_owner_id,
        'crm' as assignment_source,
        cast(null as {{ dbt.type_int() }}) as rotation_slot,
        cast(null as {{ plg_type_double() }}) as rotation_position
    from pending
    left join roster on roster.rep_email = pending.crm_owner_email
    left join (
        select *, row_number() over (partition by crm_owner_id order by rep_email) as id_rank
        from roster
    ) as roster_by_id
        on roster_by_id.crm_owner_id = pending.crm_company_owner_id
        and roster_by_id.id_rank = 1
    where (pending.crm_owner_email is not null or pending.crm_company_owner_id is not null)
      and not {{ 'true' if var('plg_owner_override_crm', false) else 'false' }}
),

to_rotate as (
    select
        pending.*,
        case
            when own_segment.segment is not null then pending.segment
            when default_segment.segment is not null then 'default'
        end as rotation_pool
    from pending
    left join staffed_segments as own_segment on own_segment.segment = pending.segment
    left join staffed_segments as default_segment on default_segment.segment = 'default'
    where (pending.crm_owner_email is null and pending.crm_company_owner_id is null)
       or {{ 'true' if var('plg_owner_override_crm', false) else 'false' }}
),

queued as (
    select
        *,
        row_number() over (partition by rotation_pool order by handoff_at, handoff_id) as queue_number
    from to_rotate
    where rotation_pool is not null
),

{% if is_incremental() %}
rep_history as (
    select rotation_pool, owner_email, max(rotation_position) as last_position
    from {{ this }}
    where assignment_source = 'round_robin'
    group by 1, 2
),

pool_clock as (
    select rotation_pool, max(rotation_position) as clock
    from {{ this }}
    where assignment_source = 'round_robin'
    group by 1
),
{% endif %}

-- each active rep's first free slot in its pool
rep_start as (
    select
        active_reps.*,
        {% if is_incremental() %}
        greatest(
            coalesce(cast(floor(rep_history.last_position * active_reps.weight + 0.000001) as {{ dbt.type_int() }}) + 1, 0),
            cast(ceil(coalesce(pool_clock.clock, 0) * active_reps.weight - 0.000001) as {{ dbt.type_int() }})
        ) as first_slot
        {% else %}
        0 as first_slot
        {% endif %}
    from active_reps
    {% if is_incremental() %}
    left join rep_history
        on rep_history.rotation_pool = active_reps.segment
        and rep_history.owner_email = active_reps.rep_email
    left join pool_clock on pool_clock.rotation_pool = active_reps.segment
    {% endif %}
),

-- as many candidate slots per rep as there are handoffs waiting in its pool
candidates as (
    select
        rep_start.segment as rotation_pool,
        rep_start.rep_email,
        rep_start.rep_name,
        rep_start.crm_owner_id,
        rep_start.first_slot + queued.queue_number - 1 as rotation_slot,
        cast(rep_start.first_slot + queued.queue_number - 1 as {{ plg_type_double() }})
            / rep_start.weight as rotation_position
    from rep_start
    inner join queued on queued.rotation_pool = rep_start.segment
),

ranked_candidates as (
    select
        *,
        row_number() over (
            partition by rotation_pool order by rotation_position, rep_email
        ) as candidate_number
    from candidates
),

rotated as (
    select
        queued.handoff_id,
        queued.handoff_kind,
        queued.account_id,
        queued.account_name,
        queued.handoff_at,
        queued.segment,
        queued.plan_at_handoff,
        queued.mrr_at_handoff,
        queued.crm_company_id,
        queued.crm_owner_email,
        queued.rotation_pool,
        ranked_candidates.rep_email as owner_email,
        ranked_candidates.rep_name as owner_name,
        ranked_candidates.crm_owner_id,
        'round_robin' as assignment_source,
        ranked_candidates.rotation_slot,
        ranked_candidates.rotation_position
    from queued
    inner join ranked_candidates
        on ranked_candidates.rotation_pool = queued.rotation_pool
        and ranked_candidates.candidate_number = queued.queue_number
),

assigned as (
    select
        handoff_id, handoff_kind, account_id, account_name, handoff_at, segment,
        plan_at_handoff, mrr_at_handoff, crm_company_id, crm_owner_email, rotation_pool, owner_email, owner_name,
        crm_owner_id, assignment_source, rotation_slot, rotation_position
    from crm_owned
    union all
    select
        handoff_id, handoff_kind, account_id, account_name, handoff_at, segment,
        plan_at_handoff, mrr_at_handoff, crm_company_id, crm_owner_email, rotation_pool, owner_email, owner_name,
        crm_owner_id, assignment_source, rotation_slot, rotation_position
    from rotated
),

final as (
    select
        cast(handoff_id as {{ dbt.type_string() }}) as handoff_id,
        cast(handoff_kind as {{ dbt.type_string() }}) as handoff_kind,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(handoff_at as {{ dbt.type_timestamp() }}) as handoff_at,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(plan_at_handoff as {{ dbt.type_string() }}) as plan_at_handoff,
        cast(mrr_at_handoff as {{ plg_type_double() }}) as mrr_at_handoff,
        cast(rotation_pool as {{ dbt.type_string() }}) as rotation_pool,
        cast(owner_email as {{ dbt.type_string() }}) as owner_email,
        cast(owner_name as {{ dbt.type_string() }}) as owner_name,
        cast(crm_owner_id as {{ dbt.type_string() }}) as crm_owner_id,
        cast(assignment_source as {{ dbt.type_string() }}) as assignment_source,
        cast(rotation_slot as {{ dbt.type_int() }}) as rotation_slot,
        cast(rotation_position as {{ plg_type_double() }}) as rotation_position,
        cast({{ plg_as_of() }} as {{ dbt.type_timestamp() }}) as assigned_at
    from assigned
)

select * from final
