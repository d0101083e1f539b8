{#- Support tickets per var plg_helpdesk_source (docs/sources.md#helpdesk).
    generic: one support_tickets table with account_id and sentiment_score.
    zendesk: Fivetran's Zendesk tables. The account comes from the ticket's organization
    (or the requester's) per plg_zendesk_account_from: the organization's external_id, a
    column of the organization (a custom field), or the requester's email domain matched
    to accounts.domain. The user from plg_zendesk_user_from: the Zendesk user's
    external_id, or the email matched to users.email. Sentiment: a ticket column named by
    plg_zendesk_sentiment_column when you have one (clamped to [-1, 1]); otherwise the
    CSAT rating: bad -> -1, good -> 1 (plg_zendesk_ratings_from). The lookups are the
    exception to "no joins in staging": a ticket without its account is not usable. -#}
-- The rules live in plg_helpdesk_ticket_rows (macros/sources): tickets without an id, a
-- creation time or a resolvable account are left out here and counted in
-- plg_data_quality; a ticket id repeated with a different payload keeps one row
-- (the latest created, then the smallest payload hash) and the rest are counted.
with classified as (
    {{ plg_helpdesk_ticket_rows() }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by ticket_id order by created_at desc, payload_hash
        ) as copy_number
    from classified
    where quarantine_reason is null
),

final as (
    select
        ticket_id,
        account_id,
        requester_user_id,
        created_at,
        priority,
        status,
        sentiment_score
    from ranked
    where copy_number = 1
)

select * from final
