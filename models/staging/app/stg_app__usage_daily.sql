-- Metered usage, one row per account, day and metric. Rows without a key, day, metric or
-- value, negative values and values above plg_usage_max_value are left out and counted in
-- plg_data_quality (plg_app_usage_rows is the one rule for both).
with classified as (
    {{ plg_app_usage_rows() }}
),

-- one value per account, day and metric: if the export repeats a row, keep the largest
final as (
    select
        {{ surrogate_key(['account_id', 'usage_date', 'metric']) }} as account_usage_day_id,
        account_id,
        usage_date,
        metric,
        max(usage_value) as usage_value
    from classified
    where quarantine_reason is null
    group by account_id, usage_date, metric
)

select * from final
