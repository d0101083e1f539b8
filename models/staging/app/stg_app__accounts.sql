with source as (
    select * from {{ source('app', 'accounts') }}
),

final as (
    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(name as {{ dbt.type_string() }}) as account_name,
        cast(domain as {{ dbt.type_string() }}) as domain,
        cast(industry as {{ dbt.type_string() }}) as industry,
        cast(employee_count as {{ dbt.type_int() }}) as employee_count,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at
    from source
)

select * from final
