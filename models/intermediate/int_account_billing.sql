-- One row per account with a subscription: the version in force at the as-of time
-- (plg_version_in_force; a live version over a canceled one, plg_version_preference), and
-- the most recent downgrade within the lookback (var plg_churn_downgrade_lookback_days).

with versions as (
    select * from {{ ref('stg_stripe__subscription_history') }}
),

changes as (
    select * from {{ ref('int_subscription_changes') }}
),

in_force as (
    select
        versions.*,
        row_number() over (
            partition by versions.account_id
            order by {{ plg_version_preference('versions') }}
        ) as preference
    from versions
    where {{ plg_version_in_force('versions', plg_as_of()) }}
),

current_version as (
    select * from in_force where preference = 1
),

recent_downgrades as (
    select
        account_id,
        changed_at,
        change_kind,
        row_number() over (partition by account_id order by changed_at desc) as recency
    from changes
    where change_kind in ('plan_downgrade', 'seat_reduction', 'mrr_reduction')
      and changed_at <= {{ plg_as_of() }}
      and changed_at > {{ ts_add_days(plg_as_of(), -1 * var('plg_churn_downgrade_lookback_days')) }}
),

final as (
    select
        current_version.account_id,
        current_version.subscription_id,
        current_version.plan,
        current_version.status,
        current_version.plan_interval,
        current_version.seats,
        current_version.mrr,
        case
            when current_version.mrr >= {{ var('plg_mrr_band_edges')['high'] }} then 'high'
            when current_version.mrr >= {{ var('plg_mrr_band_edges')['mid'] }} then 'mid'
            when current_version.mrr >= {{ var('plg_mrr_band_edges')['low'] }} then 'low'
            else 'none'
        end as mrr_band,
        current_version.is_cancel_at_period_end,
        current_version.current_period_start_at,
        current_version.current_period_end_at,
        -- usage limits reset monthly, also on annual plans: the latest monthly
        -- anniversary of the period start that is not after the as-of time
        case
            when current_version.plan_interval = 'year' then
                case
                    when cast({{ dbt.dateadd('month', dbt.datediff('current_version.current_period_start_at', plg_as_of(), 'month'), 'current_version.current_period_start_at') }} as {{ dbt.type_timestamp() }}) > {{ plg_as_of() }}
                        then cast({{ dbt.dateadd('month', dbt.datediff('current_version.current_period_start_at', plg_as_of(), 'month') ~ ' - 1', 'current_version.current_period_start_at') }} as {{ dbt.type_timestamp() }})
                    else cast({{ dbt.dateadd('month', dbt.datediff('current_version.current_period_start_at', plg_as_of(), 'month'), 'current_version.current_period_start_at') }} as {{ dbt.type_timestamp() }})
                end
            else current_version.current_period_start_at
        end as usage_cycle_start_at,
        current_version.trial_end_at,
        recent_downgrades.changed_at as last_downgrade_at,
        recent_downgrades.change_kind as last_downgrade_kind
    from current_version
    left join recent_downgrades
        on current_version.account_id = recent_downgrades.account_id
        and recent_downgrades.recency = 1
)

select * from final
