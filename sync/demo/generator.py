"""Synthetic B2B SaaS warehouse with planted, known behaviour.

Why synthetic: the signal models must be checked against a ground truth, and no real
dataset comes with one. The generator plants behaviour (milestones that lift retention,
accounts that cross the PQL bar on a known day, usage drops, recoveries, offboarded
champions, downgrades, accounts near plan limits) and writes what it planted to
`raw.planted_truth`, so tests can measure precision and recall of every flag.

Everything is vectorised DuckDB SQL. Randomness comes from hashing (seed, salt, key), not
from `random()`, so the output is identical for a seed whatever the thread count.
The shapes follow what loaders land, with their documented column sets (including columns
the package does not read): Segment `tracks` (no properties column) and `groups`; Stripe
as Fivetran lands it in history mode (`subscription_history`, `subscription_item`, `price`,
`customer`, metadata as JSON); HubSpot `company` + `owner` and Zendesk `ticket`,
`organization`, `user`, `satisfaction_rating` as Fivetran lands them; and the product
database's accounts, users and usage export.

Size (~970 lines): one SQL statement per raw table (in each loader's full column set) plus the planted-truth table, all reading
one set of planted parameters; kept together so a planted behaviour and the rows that
express it are read side by side. It is demo/test tooling, not part of a sync run.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

# Each table in the shape its loader lands (docs/sources.md): Segment (tracks, groups),
# Fivetran Stripe (subscription_history in history mode, subscription_item, price,
# customer), Fivetran HubSpot (company, owner), Fivetran Zendesk (ticket, organization,
# user, satisfaction_rating), and the product database (accounts, users, usage_daily).
RAW_TABLES = (
    "accounts",
    "users",
    "tracks",
    "groups",
    "subscription_history",
    "subscription_item",
    "price",
    "customer",
    "usage_daily",
    "ticket",
    "organization",
    "user",
    "satisfaction_rating",
    "company",
    "owner",
    "planted_truth",
)

# Names the dbt seeds (seeds/plg_milestones.csv, seeds/plg_pql_signals.csv) also use.
MILESTONE_EVENTS = (
    "project_created",
    "data_source_connected",
    "dashboard_created",
    "report_shared",
)
DECOY_EVENTS = ("help_article_viewed", "settings_viewed", "profile_updated", "notification_opened")


@dataclass(frozen=True)
class Scale:
    accounts: int
    events: int  # approximate target for the whole tracks table


SCALES: dict[str, Scale] = {
    "tiny": Scale(accounts=200, events=100_000),
    "small": Scale(accounts=1_000, events=500_000),
    "medium": Scale(accounts=10_000, events=10_000_000),
    "large": Scale(accounts=50_000, events=50_000_000),
}

HISTORY_DAYS = 120


@dataclass(frozen=True)
class GenerationResult:
    path: Path
    schema: str
    as_of: dt.date
    row_counts: dict[str, int]
    seconds: float


def default_as_of() -> dt.date:
    """Today (UTC): the demo looks current when dbt's as-of defaults to now."""
    return dt.datetime.now(dt.UTC).date()


def generate(
    path: str | Path,
    scale: str = "small",
    seed: int = 42,
    as_of: dt.date | None = None,
    schema: str = "raw",
    threads: int | None = None,
) -> GenerationResult:
    """Write the raw tables into `schema` of the DuckDB file at `path` (replacing them)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}")
    if not schema.isidentifier():
        raise ValueError(f"schema name {schema!r} must be a plain identifier")
    as_of = as_of or default_as_of()
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        if threads:
            con.execute(f"set threads = {int(threads)}")
        con.execute("set preserve_insertion_order = false")
        con.execute("set enable_progress_bar = false")
        _run(con, SCALES[scale], int(seed), as_of, schema)
        counts = {
            t: con.execute(f'select count(*) from {schema}."{t}"').fetchone()[0] for t in RAW_TABLES
        }
    finally:
        con.close()
    return GenerationResult(path, schema, as_of, counts, time.perf_counter() - started)


def _run(con: duckdb.DuckDBPyConnection, scale: Scale, seed: int, as_of: dt.date, schema: str):
    t_as_of = dt.datetime.combine(as_of, dt.time())
    con.execute("create schema if not exists _plg_gen")
    con.execute(f"create schema if not exists {schema}")
    # u(salt, key): a uniform in [0, 1) that depends only on (seed, salt, key).
    con.execute(
        f"create or replace macro _u(salt, k) as "
        f"(hash({seed}, salt, k) % 1000000007)::double / 1000000007"
    )
    con.execute("create or replace macro _cap(s) as upper(left(s, 1)) || substr(s, 2)")
    con.execute(f"create or replace macro _t0() as timestamp '{t_as_of:%Y-%m-%d %H:%M:%S}'")
    for step in _STEPS:
        con.execute(step.format(n_accounts=scale.accounts, history=HISTORY_DAYS, schema=schema))
    _generate_activity(con, scale, schema)
    for step in _FINAL_STEPS:
        con.execute(step.format(schema=schema))
    con.execute("drop schema _plg_gen cascade")


# ---------------------------------------------------------------------------------------
# Accounts, plans and planted account-level behaviour.
# Plans: free 35%, trial (pro, trialing) 15%, starter 25%, pro 20%, enterprise 5%.
# Each paid account falls in at most one planted cohort, so the truth is crisp.
_STEPS = [
    """
    create or replace table _plg_gen.acc as
    with base as (
        select
            i as n,
            printf('acct_%06d', i) as account_id,
            _u('plan', i) as r_plan,
            _u('age', i) as r_age,
            _u('cohort', i) as r_cohort,
            _u('size', i) as r_size
        from range(1, {n_accounts} + 1) t(i)
    ),
    planned as (
        select *,
            case
                when r_plan < 0.35 then 'free'
                when r_plan < 0.50 then 'trial'
                when r_plan < 0.75 then 'starter'
                when r_plan < 0.95 then 'pro'
                else 'enterprise'
            end as segment
        from base
    ),
    aged as (
        select *,
            case
                when segment = 'trial' then 3 + floor(r_age * 25)::int
                else 7 + floor(({history} - 8) * sqrt(r_age))::int
            end as age_days,
            case segment
                when 'free' then 1 + floor(r_size * 3)::int
                when 'trial' then 1 + floor(r_size * 8)::int
                when 'starter' then 2 + floor(r_size * 12)::int
                when 'pro' then 5 + floor(r_size * 26)::int
                else 20 + floor(r_size * 80)::int
            end as n_users
        from planned
    )
    select *,
        case
            when segment in ('free', 'trial') then
                case when r_cohort < 0.14 and age_days >= 4 then 'pql' else 'none' end
            when r_cohort < 0.08 then
                case when age_days >= 50 and n_users >= 8 then 'usage_drop' else 'none' end
            when r_cohort < 0.17 then
                case when age_days >= 78 and n_users >= 8 then 'recovered' else 'none' end
            when r_cohort < 0.21 then
                case when age_days >= 40 and n_users >= 3 then 'key_user_offboarded' else 'none' end
            when r_cohort < 0.24 then 'cancel_at_period_end'
            when r_cohort < 0.27 then
                case when age_days >= 45 then 'downgrade' else 'none' end
            when r_cohort < 0.30 then 'negative_support'
            when r_cohort < 0.33 then
                case when age_days >= 45 then 'downgrade_negative_support' else 'none' end
            when r_cohort < 0.43 then
                case when segment in ('starter', 'pro') then 'near_limit' else 'none' end
            when r_cohort > 0.96 then 'canceled'
            else 'none'
        end as cohort,
        _t0() - to_days(age_days) + to_seconds(floor(_u('acc_sec', n) * 86400)::bigint)
            as created_at
    from aged
    """,
    # Users: the first is the admin (the champion), the second of a paid account the
    # billing owner. Milestones are sequential; each one done raises retention.
    """
    create or replace table _plg_gen.usr as
    with expanded as (
        select a.*, j,
            printf('user_%07d', (a.n - 1) * 1000 + j) as user_id,
            hash(a.n * 1000 + j) as uk
        from _plg_gen.acc a, range(1, a.n_users + 1) t(j)
    ),
    timed as (
        select *,
            case when j = 1 then created_at
                 else created_at + to_seconds(floor(
                    _u('usr_join', uk) * date_diff('second', created_at, _t0() - interval 1 day)
                 )::bigint)
            end as user_created_at,
            case when j = 1 then 'admin'
                 when j = 2 and segment in ('starter', 'pro', 'enterprise') then 'billing'
                 else 'member' end as role,
            case when j = 1 then 3.0 else 0.4 + 0.8 * _u('weight', uk) end as weight,
            _u('m1', uk) < 0.80 as m1
        from expanded
    ),
    ms as (
        select *,
            m1 and _u('m2', uk) < 0.65 as m2
        from timed
    ),
    ms2 as (
        select *, m2 and _u('m3', uk) < 0.60 as m3 from ms
    ),
    ms3 as (
        select *, m3 and _u('m4', uk) < 0.60 as m4 from ms2
    ),
    retained as (
        select *,
            (m1::int + m2::int + m3::int + m4::int) as k_milestones,
            j = 1 or _u('retained', uk) < 0.12 + 0.17 * (m1::int + m2::int + m3::int + m4::int)
                as is_retained,
            8 + floor(_u('churn_day', uk) * 21)::int as churn_day
        from ms3
    )
    select *,
        case
            -- planted: the champion leaves 3-12 days before as-of
            when cohort = 'key_user_offboarded' and j = 1
                then _t0() - to_days(3 + floor(_u('offboard', uk) * 10)::int)
                     - to_seconds(floor(_u('off_sec', uk) * 86400)::bigint)
            -- background: light members who stopped using the product leave later
            when j > 2 and not is_retained and weight < 0.7 and _u('deact', uk) < 0.3
                 and user_created_at + to_days(churn_day + 5) < _t0()
                then user_created_at + to_days(churn_day + 5
                     + floor(_u('deact_day', uk) * 30)::int)
        end as raw_deactivated_at
    from retained
    """,
    """
    create or replace table _plg_gen.usr2 as
    select *,
        case when raw_deactivated_at < _t0() then raw_deactivated_at end as deactivated_at,
        least(
            _t0(),
            coalesce(case when raw_deactivated_at < _t0() then raw_deactivated_at end, _t0()),
            case when is_retained then _t0()
                 else user_created_at + to_days(churn_day) end,
            case when cohort = 'canceled'
                 then _t0() - to_days(10 + floor(_u('cancel', n) * 20)::int) else _t0() end
        ) as active_until
    from _plg_gen.usr
    """,
]


def _generate_activity(con: duckdb.DuckDBPyConnection, scale: Scale, schema: str) -> None:
    """Core product activity: user-days, then events per active day, scaled to the target."""
    con.execute(
        """
        create or replace table _plg_gen.user_days as
        select
            u.user_id, u.account_id, u.cohort, u.uk,
            d::date as activity_date,
            -- the champion is the heaviest user: their sessions are twice as long
            case when u.j = 1 then 2.5 else 1.0 end as session_weight,
            -- users who will churn are less engaged while they are around
            least(0.95, 0.32 * u.weight * case when u.is_retained then 1.0 else 0.25 end
                * case
                    when u.cohort = 'usage_drop' and d >= _t0() - interval 16 day then 0.12
                    when u.cohort = 'recovered'
                         and d >= _t0() - interval 45 day and d < _t0() - interval 28 day
                         then 0.12
                    else 1.0 end) as p_active
        from _plg_gen.usr2 u,
             range(date_trunc('day', u.user_created_at), u.active_until, interval 1 day) t(d)
        """
    )
    expected_days, weighted_days = con.execute(
        "select sum(p_active), sum(p_active * session_weight) from _plg_gen.user_days"
    ).fetchone()
    # events on an active day: 1 + a uniform tail whose mean scales with session weight
    mean_extra = max(0.0, (scale.events * 0.97 - expected_days) / max(weighted_days, 1.0))
    con.execute(
        f"""
        create or replace table _plg_gen.core_events as
        with active as (
            select *, hash(uk, activity_date) as dk
            from _plg_gen.user_days
            where _u('active', hash(uk, activity_date)) < p_active
        ),
        counted as (
            select *,
                1 + floor(_u('n_ev', dk) * (2 * {mean_extra:.6f} * session_weight + 1))::int
                    as n_events
            from active
        )
        select
            user_id, account_id, dk, e,
            case
                when r < 0.42 then 'page_viewed'
                when r < 0.67 then 'dashboard_viewed'
                when r < 0.88 then 'query_run'
                else 'search_performed'
            end as event,
            activity_date + to_seconds(floor(_u('ev_sec', hash(dk, e)) * 86399)::bigint)
                as ts,
            '{{}}' as properties
        from (
            select c.*, e, _u('ev_name', hash(c.dk, e)) as r
            from counted c, range(c.n_events) t(e)
        )
        """
    )


_FINAL_STEPS = [
    # Milestone events (first 7 days, sequential), late completions for some retained users,
    # decoys (first 6 days, independent of retention), and PQL-signal background events.
    """
    create or replace table _plg_gen.special_events as
    with m as (
        select *,
            user_created_at + to_seconds(floor(_u('t1', uk) * 40 * 3600)::bigint) as t1
        from _plg_gen.usr2
    ),
    m2 as (
        select *, t1 + to_seconds(floor(_u('t2', uk) * 48 * 3600)::bigint) as t2 from m
    ),
    m3 as (
        select *, t2 + to_seconds(floor(_u('t3', uk) * 36 * 3600)::bigint) as t3 from m2
    ),
    m4 as (
        select *, t3 + to_seconds(floor(_u('t4', uk) * 36 * 3600)::bigint) as t4 from m3
    ),
    milestones as (
        select user_id, account_id, 'project_created' as event, t1 as ts,
               '{{"template": "blank"}}' as properties, active_until
        from m4 where m1
        union all
        select user_id, account_id, 'data_source_connected', t2,
               '{{"source": "postgres"}}', active_until from m4 where m2
        union all
        select user_id, account_id, 'dashboard_created', t3, '{{}}', active_until
        from m4 where m3
        union all
        select user_id, account_id, 'report_shared', t4, '{{"channel": "email"}}', active_until
        from m4 where m4
        union all
        -- late completions (after the milestone's window) by retained users
        select user_id, account_id, 'dashboard_created',
               user_created_at + to_days(10 + floor(_u('late3', uk) * 30)::int),
               '{{}}', active_until
        from m4 where m2 and not m3 and is_retained and _u('late3p', uk) < 0.2
        union all
        select user_id, account_id, 'report_shared',
               user_created_at + to_days(15 + floor(_u('late4', uk) * 30)::int),
               '{{"channel": "slack"}}', active_until
        from m4 where m3 and not m4 and is_retained and _u('late4p', uk) < 0.2
    ),
    decoys as (
        select u.user_id, u.account_id, d.event,
               u.user_created_at + to_seconds(floor(_u('dt_' || d.event, u.uk) * 6 * 86400)::bigint),
               '{{}}', u.active_until
        from _plg_gen.usr2 u,
             (values ('help_article_viewed', 0.50), ('settings_viewed', 0.60),
                     ('profile_updated', 0.40), ('notification_opened', 0.45)) d(event, p)
        where _u('dp_' || d.event, u.uk) < d.p
    ),
    admins as (
        select * from _plg_gen.usr2 where j = 1
    ),
    background_signals as (
        -- invites, paywall hits and integrations at a low background rate over the
        -- account's life: far from the PQL threshold
        select a.user_id, a.account_id, s.event,
               a.user_created_at + to_seconds(floor(
                   _u('bg_t_' || s.event, hash(a.uk, k)) *
                   date_diff('second', a.user_created_at, a.active_until))::bigint),
               s.props, a.active_until
        from admins a,
             (values ('teammate_invited', 0.25, '{{"invitee_role": "member"}}'),
                     ('paywall_hit', 0.30, '{{"feature": "sso", "limit_key": "api_calls"}}'),
                     ('integration_connected', 0.15, '{{"integration": "slack"}}'))
                 s(event, rate_per_month, props),
             range(6) t(k)
        where k < floor(-ln(1 - _u('bg_n_' || s.event, a.uk))
                        * s.rate_per_month * date_diff('day', a.user_created_at, a.active_until) / 30.0)
    )
    select * from milestones
    union all select * from decoys
    union all select * from background_signals
    """,
    # Planted PQL bursts: on the crossing day the account invites 3 teammates, connects
    # 2 integrations and hits the paywall 4 times (30 + 30 + 20 = 80 points >= 60).
    """
    create or replace table _plg_gen.pql as
    select a.account_id, u.user_id, u.uk,
        date_trunc('day', greatest(
            a.created_at + interval 1 day,
            _t0() - to_days(2 + floor(_u('pql_day', a.n) * 20)::int)
        )) as crossing_day
    from _plg_gen.acc a
    join _plg_gen.usr2 u on u.account_id = a.account_id and u.j = 1
    where a.cohort = 'pql'
    """,
    """
    insert into _plg_gen.special_events
    select p.user_id, p.account_id, s.event,
        p.crossing_day + to_seconds((8 * 3600 + floor(_u('pql_sec', hash(p.uk, s.event, k))
                                     * 10 * 3600))::bigint),
        s.props, _t0()
    from _plg_gen.pql p,
         (values ('teammate_invited', 3, '{{"invitee_role": "member"}}'),
                 ('integration_connected', 2, '{{"integration": "salesforce"}}'),
                 ('paywall_hit', 4, '{{"feature": "sso", "limit_key": "seats"}}'))
             s(event, n, props),
         range(4) t(k)
    where k < s.n
    """,
    # Paywall hits of near-limit accounts (expansion signal, paid plans: not PQL-eligible).
    """
    insert into _plg_gen.special_events
    select u.user_id, u.account_id, 'paywall_hit',
        _t0() - to_seconds(floor(_u('nl_pw', hash(u.uk, k)) * 6 * 86400)::bigint) - interval 1 hour,
        '{{"feature": "api_rate", "limit_key": "api_calls"}}', _t0()
    from _plg_gen.usr2 u, range(4) t(k)
    where u.cohort = 'near_limit' and u.j = 1 and k < 1 + floor(_u('nl_n', u.uk) * 4)
    """,
    # tracks: Segment shape. ~0.4% duplicated deliveries (same id, later received_at), a
    # few events arriving days late, and a few with client clocks before signup.
    """
    create or replace table _plg_gen.all_events as
    select user_id, account_id, event, ts, properties,
        md5(concat(user_id, event, ts::varchar, row_number() over (
            partition by user_id, event, ts order by properties))) as id
    from (
        select user_id, account_id, event, ts, properties from _plg_gen.core_events
        union all
        select user_id, account_id, event, ts, properties from _plg_gen.special_events
        where ts < active_until and ts < _t0()
    )
    """,
    """
    create or replace table {schema}.tracks as
    with base as (
        select
            id,
            user_id,
            null::varchar as anonymous_id,
            account_id as context_group_id,
            event,
            _cap(replace(event, '_', ' ')) as event_text,
            ts as original_timestamp,
            case when _u('late', hash(id)) < 0.01
                 then ts + to_seconds(floor(_u('late_s', hash(id)) * 3 * 86400)::bigint)
                 else ts + to_seconds(1 + floor(_u('lat', hash(id)) * 30)::bigint)
            end as received_at,
            properties
        from _plg_gen.all_events
    )
    select id, user_id, anonymous_id, event, event_text,
        original_timestamp as "timestamp", original_timestamp, original_timestamp as sent_at,
        received_at, received_at + interval 20 minute as uuid_ts,
        'analytics.js' as context_library_name, '4.15.3' as context_library_version
    from base
    union all
    select id, user_id, anonymous_id, event, event_text,
        original_timestamp, original_timestamp, original_timestamp,
        received_at + interval 5 minute, received_at + interval 25 minute,
        'analytics.js', '4.15.3'
    from base where _u('dup', hash(id)) < 0.004
    """,
    # groups: Segment's table of `group` calls; each user's call when they joined
    # their account (traits land as columns, e.g. name and industry).
    """
    create or replace table {schema}.groups as
    select
        md5(concat('group', u.user_id)) as id,
        null::varchar as anonymous_id,
        u.user_id,
        u.account_id as group_id,
        u.user_created_at + interval 5 second as "timestamp",
        u.user_created_at + interval 5 second as original_timestamp,
        u.user_created_at + interval 5 second as sent_at,
        u.user_created_at + interval 7 second as received_at,
        u.user_created_at + interval 27 second as uuid_ts,
        'analytics.js' as context_library_name
    from _plg_gen.usr2 u
    """,
    """
    create or replace table {schema}.accounts as
    select account_id, _cap(w1) || ' ' || _cap(w2) as name,
        lower(printf('%s%s-%s.example', w1, w2, substr(account_id, 6))) as domain,
        industry, employee_count, created_at
    from (
        select a.*,
            (['acme', 'globex', 'initech', 'umbrella', 'hooli', 'vandelay', 'stark',
              'wayne', 'tyrell', 'cyberdyne', 'soylent', 'wonka'])[1 + (hash(n, 'w1') % 12)::int] as w1,
            (['labs', 'systems', 'analytics', 'cloud', 'works', 'data', 'logistics',
              'health', 'finance', 'media'])[1 + (hash(n, 'w2') % 10)::int] as w2,
            (['software', 'fintech', 'healthcare', 'retail', 'media', 'education',
              'logistics'])[1 + (hash(n, 'ind') % 7)::int] as industry,
            (n_users * (3 + floor(_u('emp', n) * 20)))::int as employee_count
        from _plg_gen.acc a
    )
    """,
    """
    create or replace table {schema}.users as
    select u.user_id, u.account_id,
        lower(printf('%s.%s@%s', fn, replace(u.user_id, '_', ''), a.domain)) as email,
        _cap(fn) || ' ' || _cap(ln) as name,
        u.role, u.user_created_at as created_at, u.deactivated_at,
        greatest(u.user_created_at, coalesce(u.deactivated_at, u.user_created_at)) as updated_at
    from (
        select *,
            (['ada', 'grace', 'alan', 'linus', 'margaret', 'ken', 'barbara', 'dennis',
              'radia', 'guido', 'frances', 'john'])[1 + (hash(uk, 'fn') % 12)::int] as fn,
            (['lovelace', 'hopper', 'turing', 'torvalds', 'hamilton', 'thompson',
              'liskov', 'ritchie', 'perlman', 'rossum', 'allen', 'backus'])[1 + (hash(uk, 'ln') % 12)::int] as ln
        from _plg_gen.usr2
    ) u
    join {schema}.accounts a using (account_id)
    """,
    # Stripe subscriptions as Fivetran lands them: one row per version.
    """
    create or replace table _plg_gen.sub_base as
    select a.*,
        printf('sub_%06d', a.n) as subscription_id,
        printf('cus_%06d', a.n) as customer_id,
        (select count(*) from _plg_gen.usr2 u
          where u.account_id = a.account_id and u.deactivated_at is null) as active_users,
        case when _u('annual', a.n) < 0.25 and a.segment in ('pro', 'enterprise')
             then 'year' else 'month' end as plan_interval,
        -- the billing period anchor: near-limit accounts are 8-29 days into their period
        case when a.cohort = 'near_limit' then 8 + floor(_u('anchor', a.n) * 21)::int
             else 1 + floor(_u('anchor', a.n) * 29)::int end as days_into_period
    from _plg_gen.acc a
    """,
    """
    create or replace table _plg_gen.sub_versions as
    with b as (
        select *,
            case segment when 'trial' then 'pro' else segment end as final_plan,
            greatest(1, ceil(active_users / 0.6)::int + 1) as seats,
            _t0() - to_days(days_into_period) as period_start,
            _t0() - to_days(3 + floor(_u('chg', n) * 22)::int) as change_at
        from _plg_gen.sub_base
    )
    -- version 1 (or the only version)
    select subscription_id, customer_id, account_id,
        case when cohort in ('downgrade', 'downgrade_negative_support') and final_plan = 'pro'
             then 'enterprise' else final_plan end as plan_id,
        case when segment = 'trial' then 'trialing' else 'active' end as status,
        plan_interval,
        case when cohort in ('downgrade', 'downgrade_negative_support') and final_plan <> 'pro'
             then seats * 2 else seats end as quantity,
        false as cancel_at_period_end,
        created_at as version_start,
        case when cohort in ('downgrade', 'downgrade_negative_support') then change_at
             when cohort = 'cancel_at_period_end' then change_at
             when cohort = 'canceled' then _t0() - to_days(10 + floor(_u('cancel', n) * 20)::int)
             end as version_end,
        period_start, created_at, days_into_period, 1 as version
    from b
    union all
    -- version 2: the downgrade, the cancel-at-period-end request, or the cancellation
    select subscription_id, customer_id, account_id,
        final_plan,
        case when cohort = 'canceled' then 'canceled' else 'active' end,
        plan_interval,
        case when cohort = 'canceled' then 0 else seats end,
        cohort = 'cancel_at_period_end',
        case when cohort = 'canceled' then _t0() - to_days(10 + floor(_u('cancel', n) * 20)::int)
             else change_at end,
        null,
        period_start, created_at, days_into_period, 2
    from b
    where cohort in ('downgrade', 'downgrade_negative_support', 'cancel_at_period_end', 'canceled')
    """,
    # Fivetran Stripe, history mode on: one row per version between _fivetran_start and
    # _fivetran_end; the account id is subscription metadata (JSON); the plan is the price
    # of the subscription's item (one item per subscription, versioned with it).
    """
    create or replace table {schema}.subscription_history as
    select
        subscription_id as id,
        _t0() - interval 2 hour as _fivetran_synced,
        version_start as _fivetran_start,
        coalesce(version_end - interval 1 second, timestamp '9999-12-31 23:59:59') as _fivetran_end,
        version_end is null as _fivetran_active,
        null::double as application_fee_percent,
        'charge_automatically' as billing,
        period_start as billing_cycle_anchor,
        null::bigint as billing_threshold_amount_gte,
        null::boolean as billing_threshold_reset_billing_cycle_anchor,
        null::timestamp as cancel_at,
        cancel_at_period_end,
        case when status = 'canceled' then version_start end as canceled_at,
        created_at as created,
        -- annual plans: usage limits still reset monthly, on the period start's day
        case when plan_interval = 'year' then period_start + interval 6 month
             else period_start + interval 1 month end as current_period_end,
        case when plan_interval = 'year' then period_start - interval 6 month else period_start end
            as current_period_start,
        customer_id,
        null::bigint as days_until_due,
        null::varchar as default_source_id,
        case when status = 'canceled' then version_start end as ended_at,
        printf('in_%s_%d', subscription_id, version) as latest_invoice_id,
        printf('pm_%s', customer_id) as default_payment_method_id,
        null::varchar as pending_setup_intent_id,
        true as livemode,
        printf('{{"account_id": "%s", "source": "app"}}', account_id) as metadata,
        quantity,
        created_at as start_date,
        status,
        null::double as tax_percent,
        case when status = 'trialing' then created_at + interval 30 day end as trial_end,
        case when status = 'trialing' then created_at end as trial_start,
        null::varchar as pause_collection_behavior,
        null::timestamp as pause_collection_resumes_at
    from _plg_gen.sub_versions
    """,
    """
    create or replace table {schema}.subscription_item as
    select
        _t0() - interval 2 hour as _fivetran_synced,
        version_start as _fivetran_start,
        coalesce(version_end - interval 1 second, timestamp '9999-12-31 23:59:59') as _fivetran_end,
        version_end is null as _fivetran_active,
        created_at as created,
        case when plan_interval = 'year' then period_start + interval 6 month
             else period_start + interval 1 month end as current_period_end,
        case when plan_interval = 'year' then period_start - interval 6 month else period_start end
            as current_period_start,
        printf('si_%s', substr(subscription_id, 5)) as id,
        '{{}}' as metadata,
        printf('price_%s_%s', plan_id, plan_interval) as plan_id,
        quantity,
        subscription_id
    from _plg_gen.sub_versions
    """,
    # prices: per seat, per interval; annual = 10 x monthly
    """
    create or replace table {schema}.price as
    select
        printf('price_%s_%s', plan, ivl) as id,
        _t0() - interval 2 hour as _fivetran_synced,
        true as active,
        'per_unit' as billing_scheme,
        timestamp '2024-01-01 00:00:00' as created,
        'usd' as currency,
        null::varchar as invoice_item_id,
        false as is_deleted,
        true as livemode,
        printf('%s_%sly', plan, ivl) as lookup_key,
        '{{}}' as metadata,
        _cap(plan) as nickname,
        printf('prod_%s', plan) as product_id,
        null::varchar as recurring_aggregate_usage,
        ivl as recurring_interval,
        1 as recurring_interval_count,
        'licensed' as recurring_usage_type,
        null::varchar as tiers_mode,
        null::bigint as transform_quantity_divide_by,
        null::varchar as transform_quantity_round,
        'recurring' as type,
        cents * case ivl when 'year' then 10 else 1 end as unit_amount,
        (cents * case ivl when 'year' then 10 else 1 end)::varchar as unit_amount_decimal
    from (values ('free', 0), ('starter', 1500), ('pro', 4000), ('enterprise', 9000)) p(plan, cents),
         (values ('month'), ('year')) i(ivl)
    """,
    """
    create or replace table {schema}.customer as
    select distinct on (customer_id)
        customer_id as id,
        _t0() - interval 2 hour as _fivetran_synced,
        0 as account_balance,
        null::varchar as address_city, null::varchar as address_country,
        null::varchar as address_line_1, null::varchar as address_line_2,
        null::varchar as address_postal_code, null::varchar as address_state,
        0 as balance,
        null::varchar as bank_account_id,
        created_at as created,
        'usd' as currency,
        null::varchar as default_card_id,
        false as delinquent,
        null::varchar as description,
        null::varchar as email,
        upper(substr(md5(customer_id), 1, 8)) as invoice_prefix,
        printf('pm_%s', customer_id) as invoice_settings_default_payment_method,
        null::varchar as invoice_settings_footer,
        false as is_deleted,
        true as livemode,
        _cap(replace(account_id, '_', ' ')) as name,
        null::varchar as phone,
        null::varchar as shipping_address_city, null::varchar as shipping_address_country,
        null::varchar as shipping_address_line_1, null::varchar as shipping_address_line_2,
        null::varchar as shipping_address_postal_code, null::varchar as shipping_address_state,
        null::varchar as shipping_carrier, null::varchar as shipping_name,
        null::varchar as shipping_phone, null::varchar as shipping_tracking_number,
        null::varchar as source_id,
        'none' as tax_exempt,
        null::varchar as tax_info_tax_id, null::varchar as tax_info_type,
        null::varchar as tax_info_verification_status,
        null::varchar as tax_info_verification_verified_name,
        printf('{{"account_id": "%s"}}', account_id) as metadata
    from _plg_gen.sub_versions
    order by customer_id, version
    """,
    # Daily usage export: api_calls (a flow, limited per billing period) and projects
    # (a stock). Background accounts stay under ~55% of every limit; near-limit accounts
    # land at 82-118% of their api_calls limit within the current period.
    """
    create or replace table {schema}.usage_daily as
    with s as (
        select b.account_id, b.n, b.cohort, b.segment, b.days_into_period,
            case b.segment when 'free' then 10000 when 'starter' then 100000
                           when 'enterprise' then null else 1000000 end as api_limit,
            b.created_at,
            case when b.cohort = 'canceled'
                 then _t0() - to_days(10 + floor(_u('cancel', b.n) * 20)::int) else _t0() end
                as usage_until
        from _plg_gen.sub_base b
    ),
    daily as (
        select s.*, d::date as usage_date,
            case
                when api_limit is null then 20000 + floor(_u('ent_api', n) * 180000)
                when cohort = 'near_limit'
                    then (0.82 + 0.36 * _u('nl_pct', n)) * api_limit / days_into_period
                else (0.10 + 0.40 * _u('bg_pct', n)) * api_limit / 31
            end as mean_api
        from s, range(date_trunc('day', s.created_at), s.usage_until, interval 1 day) t(d)
    )
    select account_id, usage_date, 'api_calls' as metric,
        round(mean_api * (0.9 + 0.2 * _u('api_noise', hash(n, usage_date))))::bigint as value
    from daily
    union all
    select account_id, usage_date, 'projects',
        greatest(1, round(case segment when 'free' then 1 when 'trial' then 3
                                       when 'starter' then 8 when 'pro' then 40 else 150 end
              * _u('proj', n) * least(1.0, (date_diff('day', created_at, usage_date) + 1) / 30.0)))::bigint
    from daily
    """,
    # Zendesk Support as Fivetran lands it. Tickets: background ones get a good rating or
    # none; planted negative shift: 3 tickets 4-24 days before as-of rated bad. The
    # organization's external_id is the product account id, the user's the product user id.
    """
    create or replace table _plg_gen.tickets as
    with bg as (
        select a.account_id, a.n, k,
            a.created_at + to_seconds(floor(_u('tk_t', hash(a.n, k))
                * date_diff('second', a.created_at, _t0()))::bigint) as created_at,
            -0.25 + 1.2 * _u('tk_s', hash(a.n, k)) as sentiment_score
        from _plg_gen.acc a, range(8) t(k)
        where a.segment <> 'free'
          and k < floor(-ln(1 - _u('tk_n', a.n)) * 0.5 * a.age_days / 30.0)
    ),
    planted as (
        select a.account_id, a.n, 100 + k as k,
            _t0() - to_days(4 + floor(_u('neg_t', hash(a.n, k)) * 21)::int)
                - to_seconds(floor(_u('neg_s', hash(a.n, k)) * 86400)::bigint),
            -0.5 - 0.4 * _u('neg_v', hash(a.n, k))
        from _plg_gen.acc a, range(3) t(k)
        where a.cohort in ('negative_support', 'downgrade_negative_support')
    ),
    t as (select * from bg union all select * from planted)
    select t.n * 1000 + t.k as ticket_id, t.n, t.account_id,
        (select min(u.user_id) from _plg_gen.usr2 u where u.account_id = t.account_id) as requester_user_id,
        t.created_at,
        (['low', 'normal', 'normal', 'high', 'urgent'])[1 + (hash(n, k, 'prio') % 5)::int] as priority,
        case when t.created_at < _t0() - interval 7 day then 'closed' else 'open' end as status,
        case when sentiment_score <= -0.3 then 'bad'
             when sentiment_score > 0.35 then 'good'
             when t.created_at < _t0() - interval 7 day then 'offered'
             else 'unoffered' end as rating
    from t
    where t.created_at < _t0()
    """,
    """
    create or replace table {schema}.organization as
    select 360000000000 + n as id,
        _t0() - interval 3 hour as _fivetran_synced,
        created_at, null::varchar as details, account_id as external_id,
        null::bigint as group_id, _cap(replace(account_id, '_', ' ')) as name,
        null::varchar as notes, false as shared_comments, false as shared_tickets,
        created_at as updated_at,
        printf('https://vendor.zendesk.com/api/v2/organizations/%d.json', 360000000000 + n) as url
    from _plg_gen.acc
    """,
    """
    create or replace table {schema}."user" as
    select (400000000000 + hash(u.user_id) % 100000000000)::bigint as id,
        _t0() - interval 3 hour as _fivetran_synced,
        true as active, null::varchar as alias, null::varchar as authenticity_token,
        false as chat_only, u.created_at, null::varchar as details, u.email,
        u.user_id as external_id, null::timestamp as last_login_at, 'en-US' as locale,
        1 as locale_id, false as moderator, u.name, null::varchar as notes,
        false as only_private_comments, 360000000000 + a.n as organization_id,
        null::varchar as phone, null::varchar as remote_photo_url, false as restricted_agent,
        'end-user' as role, false as shared, false as shared_agent, null::varchar as signature,
        false as suspended, 'requested' as ticket_restriction, 'UTC' as time_zone,
        false as two_factor_auth_enabled, u.created_at as updated_at,
        printf('https://vendor.zendesk.com/api/v2/users/%d.json',
               400000000000 + hash(u.user_id) % 100000000000) as url,
        true as verified
    from {schema}.users u
    join _plg_gen.acc a using (account_id)
    where u.user_id in (select requester_user_id from _plg_gen.tickets)
    """,
    """
    create or replace table {schema}.ticket as
    select t.ticket_id as id,
        _t0() - interval 3 hour as _fivetran_synced,
        false as allow_channelback, null::bigint as assignee_id, 360003529474 as brand_id,
        t.created_at, 'ticket description' as description, null::timestamp as due_at,
        null::varchar as external_id, null::bigint as forum_topic_id,
        360006965034 as group_id, false as has_incidents, true as is_public,
        360000000000 + t.n as organization_id, t.priority, null::bigint as problem_id,
        'support@vendor.example' as recipient,
        (400000000000 + hash(t.requester_user_id) % 100000000000)::bigint as requester_id,
        t.status, 'help needed' as subject,
        (400000000000 + hash(t.requester_user_id) % 100000000000)::bigint as submitter_id,
        null::varchar as system_client, 360002048693 as ticket_form_id, 'question' as type,
        t.created_at + interval 1 hour as updated_at,
        printf('https://vendor.zendesk.com/api/v2/tickets/%d.json', t.ticket_id) as url,
        'email' as via_channel, null::varchar as via_source_from_id,
        null::varchar as via_source_from_title, null::varchar as via_source_rel,
        'support@vendor.example' as via_source_to_address, null::varchar as via_source_to_name,
        '[]' as merged_ticket_ids, null::varchar as via_source_from_address,
        null::varchar as followup_ids, null::bigint as via_followup_source_id
    from _plg_gen.tickets t
    """,
    # CSAT ratings (Fivetran's Zendesk Support schema): offered, good or bad
    """
    create or replace table {schema}.satisfaction_rating as
    select t.ticket_id * 10 as id,
        _t0() - interval 3 hour as _fivetran_synced,
        null::bigint as assignee_id,
        case t.rating when 'bad' then 'slow and unhelpful' end as comment,
        t.created_at + interval 2 hour as created_at,
        360006965034 as group_id,
        null::varchar as reason,
        (400000000000 + hash(t.requester_user_id) % 100000000000)::bigint as requester_id,
        t.rating as score,
        t.ticket_id,
        t.created_at + interval 3 hour as updated_at,
        printf('https://vendor.zendesk.com/api/v2/satisfaction_ratings/%d.json', t.ticket_id * 10) as url
    from _plg_gen.tickets t
    where t.rating <> 'unoffered'
    """,
    # HubSpot as Fivetran lands it: company (properties as property_* columns, including the
    # plg_account_id property plg-sync setup creates) and owner.
    """
    create or replace table {schema}.owner as
    select * from (values
        (44023296, 'sam@vendor.example', 'Sam', 'Seller'),
        (44023297, 'alex@vendor.example', 'Alex', 'Seller'),
        (44023298, 'jo@vendor.example', 'Jo', 'Success'),
        (44023299, 'kim@vendor.example', 'Kim', 'Success'),
        (44023300, 'enterprise.ae@vendor.example', 'Erin', 'Enterprise')
    ) o(owner_id, email, first_name, last_name)
    """,
    """
    create or replace table {schema}.owner as
    select owner_id, _t0() - interval 3 hour as _fivetran_synced,
        timestamp '2024-01-01 00:00:00' as created_at, 4727653 as portal_id, 'PERSON' as type,
        timestamp '2024-01-01 00:00:00' as updated_at, email, first_name, last_name,
        owner_id + 1000 as active_user_id
    from {schema}.owner
    """,
    """
    create or replace table {schema}.company as
    select 9000000 + n as id,
        false as is_deleted,
        _t0() - interval 3 hour as _fivetran_synced,
        _cap(replace(account_id, '_', ' ')) as property_name,
        null::varchar as property_description,
        created_at + interval 1 hour as property_createdate,
        null::varchar as property_industry, null::varchar as property_address,
        null::varchar as property_address_2, null::varchar as property_city,
        null::varchar as property_state, 'United States' as property_country,
        null::double as property_annualrevenue,
        case
            when cohort = 'canceled' then 'other'
            when segment = 'free' then 'lead'
            when segment = 'trial' then 'marketingqualifiedlead'
            else 'customer'
        end as property_lifecyclestage,
        -- self-serve leads (free, trial) have no owner yet: the handoff assigns one
        case when segment = 'enterprise' then 44023300
             when segment in ('free', 'trial') then null
             else 44023296 + (hash(n, 'owner') % 4)::int end as property_hubspot_owner_id,
        _t0() - to_days(floor(_u('crm_upd', n) * 30)::int) as property_hs_lastmodifieddate,
        account_id as property_plg_account_id
    from _plg_gen.acc
    """,
    # The ground truth the signal models are checked against.
    """
    create or replace table {schema}.planted_truth as
    select 'pql' as truth, 'account' as entity_type, account_id as entity_id,
        crossing_day::date as expected_date, 'crossed the PQL threshold' as detail
    from _plg_gen.pql
    union all
    select 'at_risk', 'account', account_id, null,
        case cohort
            when 'usage_drop' then 'usage dropped by more than 80% in the last 16 days'
            when 'key_user_offboarded' then 'admin (champion) deactivated 3-12 days ago'
            when 'cancel_at_period_end' then 'subscription set to cancel at period end'
            else 'plan downgraded and negative support tickets' end
    from _plg_gen.acc
    where cohort in ('usage_drop', 'key_user_offboarded', 'cancel_at_period_end',
                     'downgrade_negative_support')
    union all
    select 'recovered', 'account', account_id, null,
        'usage dropped 45-28 days ago, then returned to normal'
    from _plg_gen.acc where cohort = 'recovered'
    union all
    select 'near_limit', 'account', account_id, null,
        'api_calls at 82-118% of the plan limit in the current billing period'
    from _plg_gen.acc where cohort = 'near_limit'
    union all
    select 'key_user_offboarded', 'account', account_id, null, 'admin deactivated'
    from _plg_gen.acc where cohort = 'key_user_offboarded'
    union all
    select 'downgrade', 'account', account_id, null, 'plan or seats reduced 3-24 days ago'
    from _plg_gen.acc where cohort in ('downgrade', 'downgrade_negative_support')
    union all
    select 'negative_support', 'account', account_id, null, '3 negative tickets in 25 days'
    from _plg_gen.acc where cohort in ('negative_support', 'downgrade_negative_support')
    union all
    select 'milestone_event', 'event', e, null, 'raises day-30 retention'
    from unnest(['project_created', 'data_source_connected', 'dashboard_created',
                 'report_shared']) t(e)
    union all
    select 'decoy_event', 'event', e, null, 'independent of retention'
    from unnest(['help_article_viewed', 'settings_viewed', 'profile_updated',
                 'notification_opened']) t(e)
    """,
]
