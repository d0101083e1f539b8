{#- Support tickets with a `quarantine_reason` per row (null = usable):
    stg_helpdesk__support_tickets keeps the usable ones, plg_data_quality counts the
    others (no ticket id, no creation time, no resolvable account). -#}
{% macro plg_helpdesk_ticket_rows() -%}
  {{ return(adapter.dispatch('plg_helpdesk_ticket_rows', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_helpdesk_ticket_rows() -%}
{%- set helpdesk = var('plg_helpdesk_source', 'zendesk') -%}
{%- if helpdesk not in ['generic', 'zendesk'] -%}
  {{ exceptions.raise_compiler_error("var plg_helpdesk_source is " ~ helpdesk ~ "; use generic or zendesk (docs/sources.md)") }}
{%- endif -%}
{%- set str = dbt.type_string() -%}
{%- set ts = dbt.type_timestamp() -%}
{%- set dbl = plg_type_double() -%}
{%- if helpdesk == 'generic' %}
{%- set tickets = source('helpdesk', 'support_tickets') %}
{%- set columns = plg_relation_columns(tickets, 'vars plg_helpdesk_schema / plg_tickets_identifier') %}
{%- do plg_require_columns(tickets, columns, ['ticket_id', 'account_id', 'created_at'], {}) %}
with source as (
    select * from {{ tickets }}
),

final as (
    select
        cast(ticket_id as {{ str }}) as ticket_id,
        cast(account_id as {{ str }}) as account_id,
        {{ plg_optional_column(columns, 'requester_user_id', str) }} as requester_user_id,
        cast(created_at as {{ ts }}) as created_at,
        lower({{ plg_optional_column(columns, 'priority', str) }}) as priority,
        lower({{ plg_optional_column(columns, 'status', str) }}) as status,
        -- scores outside [-1, 1] are loader errors: clamp rather than let them dominate
        {{ plg_clamp_unit(plg_optional_column(columns, 'sentiment_score', dbl)) }} as sentiment_score
    from source
)

{{ plg_helpdesk_classified() }}
{%- else %}
{%- set tickets = source('helpdesk', 'ticket') %}
{%- set ticket_cols = plg_relation_columns(tickets, 'vars plg_helpdesk_schema / plg_zendesk_ticket_identifier') %}
{%- do plg_require_columns(tickets, ticket_cols, ['id', 'created_at'], {}) %}
{%- set orgs = source('helpdesk', 'organization') %}
{%- set org_cols = plg_relation_columns(orgs, 'vars plg_helpdesk_schema / plg_zendesk_organization_identifier') %}
{%- set zusers = source('helpdesk', 'user') %}
{%- set user_cols = plg_relation_columns(zusers, 'vars plg_helpdesk_schema / plg_zendesk_user_identifier') %}
{%- do plg_require_columns(zusers, user_cols, ['id'], {}) %}
{%- set account_from = var('plg_zendesk_account_from', 'organization_external_id') %}
{%- if account_from == 'organization_external_id' %}
  {%- set org_account_expr = 'cast(external_id as ' ~ str ~ ')' %}
  {%- do plg_require_columns(orgs, org_cols, ['id', 'external_id'], {'external_id': 'Zendesk organizations have it; or set plg_zendesk_account_from to organization_field or email_domain'}) %}
{%- elif account_from == 'organization_field' %}
  {%- set field = var('plg_zendesk_organization_account_field', none) %}
  {%- if not field %}
    {{ exceptions.raise_compiler_error("plg_zendesk_account_from is organization_field: set var plg_zendesk_organization_account_field to the organization column holding the product account id (docs/sources.md)") }}
  {%- endif %}
  {%- set org_account_expr = 'cast(' ~ field ~ ' as ' ~ str ~ ')' %}
  {%- do plg_require_columns(orgs, org_cols, ['id', field], {field: 'var plg_zendesk_organization_account_field names it (an organization field synced by Fivetran)'}) %}
{%- elif account_from == 'email_domain' %}
  {%- do plg_require_columns(zusers, user_cols, ['email'], {}) %}
{%- else %}
  {{ exceptions.raise_compiler_error("var plg_zendesk_account_from is " ~ account_from ~ "; use organization_external_id, organization_field or email_domain (docs/sources.md)") }}
{%- endif %}
{%- set user_from = var('plg_zendesk_user_from', 'external_id') %}
{%- if user_from not in ['external_id', 'email', 'none'] %}
  {{ exceptions.raise_compiler_error("var plg_zendesk_user_from is " ~ user_from ~ "; use external_id, email or none (docs/sources.md)") }}
{%- endif %}
{%- set ratings_from = var('plg_zendesk_ratings_from', 'satisfaction_rating') %}
{%- if ratings_from == 'satisfaction_rating' %}
  {%- set ratings = source('helpdesk', 'satisfaction_rating') %}
  {%- set rating_cols = plg_relation_columns(ratings, 'var plg_zendesk_ratings_from (satisfaction_rating) and plg_zendesk_satisfaction_rating_identifier; set plg_zendesk_ratings_from: ticket_field_history or none if you do not sync it') %}
  {%- do plg_require_columns(ratings, rating_cols, ['ticket_id', 'score'], {}) %}
{%- elif ratings_from == 'ticket_field_history' %}
  {%- set ratings = source('helpdesk', 'ticket_field_history') %}
  {%- set rating_cols = plg_relation_columns(ratings, 'var plg_zendesk_ratings_from (ticket_field_history) and plg_zendesk_ticket_field_history_identifier') %}
  {%- do plg_require_columns(ratings, rating_cols, ['ticket_id', 'field_name', 'value', 'updated'], {}) %}
{%- elif ratings_from != 'none' %}
  {{ exceptions.raise_compiler_error("var plg_zendesk_ratings_from is " ~ ratings_from ~ "; use satisfaction_rating, ticket_field_history or none (docs/sources.md)") }}
{%- endif %}
{%- set sentiment_column = var('plg_zendesk_sentiment_column', none) %}
{%- if sentiment_column %}
  {%- do plg_require_columns(tickets, ticket_cols, [sentiment_column], {sentiment_column: 'var plg_zendesk_sentiment_column names it; unset it to use CSAT ratings only'}) %}
{%- endif %}
with tickets as (
    select
        cast(id as {{ str }}) as ticket_id,
        {{ plg_optional_column(ticket_cols, 'organization_id', str) }} as organization_id,
        {{ plg_optional_column(ticket_cols, 'requester_id', str) }} as requester_id,
        cast(created_at as {{ ts }}) as created_at,
        lower({{ plg_optional_column(ticket_cols, 'priority', str) }}) as priority,
        lower({{ plg_optional_column(ticket_cols, 'status', str) }}) as status,
        {% if sentiment_column -%}
        {{ plg_clamp_unit('cast(' ~ sentiment_column ~ ' as ' ~ dbl ~ ')') }}
        {%- else -%}
        cast(null as {{ dbl }})
        {%- endif %} as ticket_sentiment
    from {{ tickets }}
    where lower(coalesce({{ plg_optional_column(ticket_cols, 'status', str) }}, '')) <> 'deleted'
    {%- if plg_has_column(ticket_cols, '_fivetran_deleted') and ticket_cols is not none %}
      and not coalesce(cast(_fivetran_deleted as {{ dbt.type_boolean() }}), false)
    {%- endif %}
),

zendesk_users as (
    select
        cast(id as {{ str }}) as zendesk_user_id,
        lower({{ plg_optional_column(user_cols, 'email', str) }}) as email,
        {{ plg_optional_column(user_cols, 'external_id', str) }} as external_id,
        {{ plg_optional_column(user_cols, 'organization_id', str) }} as organization_id
    from {{ zusers }}
),
{%- if account_from != 'email_domain' %}

organizations as (
    select
        cast(id as {{ str }}) as organization_id,
        {{ org_account_expr }} as account_id
    from {{ orgs }}
),
{%- else %}

account_domains as (
    select lower(domain) as domain, min(account_id) as account_id
    from {{ ref('stg_app__accounts') }}
    where domain is not null
    group by 1
),
{%- endif %}
{%- if user_from == 'email' %}

product_users as (
    select email, min(user_id) as user_id
    from {{ ref('stg_app__users') }}
    where email is not null
    group by 1
),
{%- endif %}
{%- if ratings_from != 'none' %}

-- the latest rating per ticket: bad -> -1, good -> 1 (offered / unoffered: no rating)
latest_ratings as (
    select ticket_id, score from (
        select
            cast(ticket_id as {{ str }}) as ticket_id,
            {%- if ratings_from == 'satisfaction_rating' %}
            lower(cast(score as {{ str }})) as score,
            row_number() over (
                partition by ticket_id
                order by {{ plg_optional_column(rating_cols, 'updated_at', ts) }} desc,
                         {{ plg_optional_column(rating_cols, 'created_at', ts) }} desc
            ) as recency
        from {{ ratings }}
            {%- else %}
            lower(cast(value as {{ str }})) as score,
            row_number() over (partition by ticket_id order by cast(updated as {{ ts }}) desc) as recency
        from {{ ratings }}
        where field_name = 'satisfaction_score'
            {%- endif %}
    ) as ranked
    where recency = 1 and score in ('good', 'bad')
),
{%- endif %}

final as (
    select
        tickets.ticket_id,
        {% if account_from == 'email_domain' -%}
        account_domains.account_id
        {%- else -%}
        coalesce(ticket_organizations.account_id, requester_organizations.account_id)
        {%- endif %} as account_id,
        {% if user_from == 'external_id' -%}
        requesters.external_id
        {%- elif user_from == 'email' -%}
        product_users.user_id
        {%- else -%}
        cast(null as {{ str }})
        {%- endif %} as requester_user_id,
        tickets.created_at,
        tickets.priority,
        tickets.status,
        coalesce(
            tickets.ticket_sentiment,
            {% if ratings_from != 'none' -%}
            case latest_ratings.score when 'bad' then -1.0 when 'good' then 1.0 end
            {%- else -%}
            cast(null as {{ dbl }})
            {%- endif %}
        ) as sentiment_score
    from tickets
    left join zendesk_users as requesters on tickets.requester_id = requesters.zendesk_user_id
    {%- if account_from == 'email_domain' %}
    left join account_domains
        on account_domains.domain = {{ dbt.split_part('requesters.email', "'@'", 2) }}
    {%- else %}
    left join organizations as ticket_organizations
        on tickets.organization_id = ticket_organizations.organization_id
    left join organizations as requester_organizations
        on requesters.organization_id = requester_organizations.organization_id
    {%- endif %}
    {%- if user_from == 'email' %}
    left join product_users on requesters.email = product_users.email
    {%- endif %}
    {%- if ratings_from != 'none' %}
    left join latest_ratings on tickets.ticket_id = latest_ratings.ticket_id
    {%- endif %}
)

{{ plg_helpdesk_classified() }}
{%- endif %}
{%- endmacro %}


{#- The quarantine columns both helpdesk shapes add to their `final` CTE (generic table and
    Zendesk): the record key, when it was seen, why it cannot be used (null = usable), and a
    payload hash that tells a repeated delivery from a conflicting one. -#}
{% macro plg_helpdesk_classified() -%}
  {{ return(adapter.dispatch('plg_helpdesk_classified', 'plg_signals')()) }}
{%- endmacro %}

{% macro default__plg_helpdesk_classified() -%}
select
      final.*,
      ticket_id as record_key,
      created_at as seen_at,
      case
          when ticket_id is null or trim(ticket_id) = '' then 'missing_key'
          when created_at is null then 'missing_timestamp'
          when account_id is null or trim(account_id) = '' then 'unresolved_account'
      end as quarantine_reason,
      {{ surrogate_key(['account_id', 'requester_user_id', 'created_at', 'priority', 'status', 'sentiment_score']) }} as payload_hash
  from final
{%- endmacro %}
