{{ config(enabled=var('plg_event_account_source', 'groups') == 'groups') }}
-- Segment / RudderStack `groups`: one row per user with the account (group) of their
-- latest `group` call, by event time then receipt time. Only built with
-- plg_event_account_source: groups (the default).
{%- set relation = source('segment', 'groups') %}
{%- set columns = plg_relation_columns(relation, 'vars plg_segment_schema / plg_groups_identifier') %}
{%- do plg_require_columns(relation, columns, ['user_id', 'group_id', 'timestamp'], {
      'user_id': 'Segment and RudderStack write it on group calls made after identify',
      'group_id': 'Segment and RudderStack write it on every group call',
      'timestamp': 'Segment and RudderStack write it on every row'}) %}
with source as (
    select * from {{ relation }}
),

renamed as (
    select
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(group_id as {{ dbt.type_string() }}) as account_id,
        cast({{ plg_source_column('timestamp') }} as {{ dbt.type_timestamp() }}) as grouped_at,
        {{ plg_optional_column(columns, 'received_at', dbt.type_timestamp()) }} as received_at
    from source
    where user_id is not null and group_id is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by user_id order by grouped_at desc, received_at desc, account_id
        ) as recency
    from renamed
),

final as (
    select user_id, account_id, grouped_at
    from ranked
    where recency = 1
)

select * from final
