with source as (
    select * from {{ source('app', 'users') }}
),

renamed as (
    select
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        lower(cast(email as {{ dbt.type_string() }})) as email,
        cast(name as {{ dbt.type_string() }}) as full_name,
        lower(cast(role as {{ dbt.type_string() }})) as role,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(deactivated_at as {{ dbt.type_timestamp() }}) as deactivated_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
),

-- a replicated table can hold several versions of a row: keep the latest
deduplicated as (
    select
        *,
        row_number() over (partition by user_id order by updated_at desc) as version_rank
    from renamed
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
