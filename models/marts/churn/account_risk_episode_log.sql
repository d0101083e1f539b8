{{
    config(
        materialized='incremental',
        unique_key='episode_id',
        incremental_strategy=plg_incremental_strategy(),
        on_schema_change='append_new_columns',
        full_refresh=false,
    )
}}
-- Every churn-risk episode a run has reported (account_churn_risk: the account's latest
-- episode), kept after it leaves the model: an episode confirmed on a partial day, or by
-- events a later load corrected, can vanish from the history, and the CS task opened for
-- it must still be closed (sync_crm_tasks: completed, outcome withdrawn) rather than stay
-- open in the CRM forever.
--   withdrawn_at: the as-of time of the first run at which the episode was no longer the
--                 account's latest episode although it was still open when last reported
--                 (null while reported, after a recovery, or once it comes back).
-- `--full-refresh` leaves it alone (full_refresh=false): a rebuild cannot know which
-- episodes earlier runs reported. Dropping the table starts it again from the current
-- episodes.

with churn as (
    select * from {{ ref('account_churn_risk') }}
),

reported as (
    select
        {{ surrogate_key(['account_id', "'risk'", 'cast(last_episode_started_at as date)']) }} as episode_id,
        account_id,
        cast(last_episode_started_at as date) as started_on,
        recovered_at
    from churn
    where last_episode_started_at is not null
),

{% if is_incremental() %}
stored as (
    select * from {{ this }}
),

final as (
    select
        reported.episode_id,
        reported.account_id,
        reported.started_on,
        coalesce(stored.first_reported_at, {{ plg_as_of() }}) as first_reported_at,
        cast(reported.recovered_at as {{ dbt.type_timestamp() }}) as recovered_at,
        cast(null as {{ dbt.type_timestamp() }}) as withdrawn_at
    from reported
    left join stored on stored.episode_id = reported.episode_id
    union all
    select
        stored.episode_id,
        stored.account_id,
        stored.started_on,
        stored.first_reported_at,
        stored.recovered_at,
        {{ plg_as_of() }} as withdrawn_at
    from stored
    left join reported on reported.episode_id = stored.episode_id
    where reported.episode_id is null
      and stored.withdrawn_at is null
      and stored.recovered_at is null
)
{% else %}
final as (
    select
        episode_id,
        account_id,
        started_on,
        {{ plg_as_of() }} as first_reported_at,
        cast(recovered_at as {{ dbt.type_timestamp() }}) as recovered_at,
        cast(null as {{ dbt.type_timestamp() }}) as withdrawn_at
    from reported
)
{% endif %}

select * from final
