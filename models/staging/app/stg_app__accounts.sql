-- Accounts, one row per account id. Rows without an id or a creation time are left out and
-- counted in plg_data_quality (plg_app_accounts_rows is the one rule for both); an id
-- repeated with a different payload keeps the earliest created (then the smallest
-- payload hash, so the choice is deterministic) and the rest are counted.
with classified as (
    {{ plg_app_accounts_rows() }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by account_id order by created_at, payload_hash
        ) as copy_number
    from classified
    where quarantine_reason is null
),

final as (
    select
        account_id,
        account_name,
        domain,
        industry,
        employee_count,
        created_at
    from ranked
    where copy_number = 1
)

select * from final
