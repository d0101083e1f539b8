with source as (
    select * from {{ source('helpdesk', 'support_tickets') }}
),

final as (
    select
        cast(ticket_id as {{ dbt.type_string() }}) as ticket_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(requester_user_id as {{ dbt.type_string() }}) as requester_user_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        lower(cast(priority as {{ dbt.type_string() }})) as priority,
        lower(cast(status as {{ dbt.type_string() }})) as status,
        -- scores outside [-1, 1] are loader errors: clamp rather than let them dominate
        case
            when sentiment_score is null then null
            when sentiment_score > 1 then 1.0
            when sentiment_score < -1 then -1.0
            else cast(sentiment_score as {{ plg_type_double() }})
        end as sentiment_score
    from source
)

select * from final
