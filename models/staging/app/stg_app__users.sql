-- A table, not a view as other staging models are (STYLE 7, materialise by cost): eleven
-- models read it on every run (int_user_event_daily, the activation marts, account
-- models, plg_data_quality), and as a view each of them repeated the quarantine rules,
-- the payload hash and the dedupe window over every user row; as a table that is done
-- once per run.
{{ config(materialized='table') }}

-- Users, one row per user (latest version), with role and deactivation. Rows without a
-- user id or signup time are left out and counted in plg_data_quality
-- (plg_app_users_rows is the one rule for both). Users without an account, or whose
-- account is not in accounts, are kept (docs/sources.md: supported; their events count
-- for the account of their latest group call) and counted in plg_data_quality.
with classified as (
    {{ plg_app_users_rows() }}
),

-- a replicated table can hold several versions of a row: keep the latest (ties broken
-- by payload hash, so the choice is deterministic)
deduplicated as (
    select
        *,
        row_number() over (
            partition by user_id order by updated_at desc, payload_hash
        ) as version_rank
    from classified
    where quarantine_reason is null
),

final as (
    select
        user_id,
        account_id,
        email,
        full_name,
        role,
        created_at,
        deactivated_at,
        deactivated_at is null as is_active
    from deduplicated
    where version_rank = 1
)

select * from final
