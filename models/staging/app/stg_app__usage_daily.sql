with source as (
    select * from {{ source('app', 'usage_daily') }}
),

renamed as (
    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(usage_date as date) as usage_date,
        lower(cast(metric as {{ dbt.type_string() }})) as metric,
        cast(value as {{ plg_type_double() }}) as usage_value
    from source
),

-- one value per account, day and metric: if the export repeats a row, keep the largest
final as (
    select
        {{ surrogate_key(['account_id', 'usage_date', 'metric']) }} as account_usage_day_id,
        account_id,
        usage_date,
        metric,
        max(usage_value) as usage_value
    from renamed
    group by account_id, usage_date, metric
)

select * from final
