-- One row per person-to-account relationship for Customer.io (add_relationships), so
-- journeys can read the account object's attributes from a person.

with users as (
    select * from {{ ref('user_activation') }}
),

final as (
    select
        cast({{ dbt.concat(['user_id', "'|'", 'account_id']) }} as {{ dbt.type_string() }}) as sync_key,
        cast(user_id as {{ dbt.type_string() }}) as id,
        cast(account_id as {{ dbt.type_string() }}) as object_id,
        cast(role as {{ dbt.type_string() }}) as role
    from users
    where is_active_user
      and account_id is not null
)

select
    final.*,
    {{ sync_hash('final') }} as sync_hash
from final
