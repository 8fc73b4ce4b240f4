-- One row per reporting-time-zone day x acquisition channel: the AARRR funnel
-- (acquisition, activation, retention, referral, revenue) and activity (DAU/WAU/MAU).
-- Every person counts in the channel int_persons attributes them to (last non-direct).
-- The spine runs from the first to the last day with any activity, for every channel, so
-- quiet days appear with zeros. Semantics column by column: _product__growth.yml.
with

persons as (

    select
        person_key,
        acquisition_channel,
        referrer_user_id,
        {{ reporting_date('first_seen_at') }} as first_seen_date,
        {{ reporting_date('signed_up_at') }} as signed_up_date,
        {{ reporting_date('activated_at') }} as activated_date
    from {{ ref('int_persons') }}

),

person_days as (

    select
        person_days.person_key,
        person_days.activity_date,
        person_days.usage_seconds,
        person_days.invites_sent,
        person_days.orders,
        person_days.revenue,
        persons.acquisition_channel
    from {{ ref('int_growth_person_days') }} as person_days
    inner join persons
        on person_days.person_key = persons.person_key

),

bounds as (

    select
        min(activity_date) as first_date,
        max(activity_date) as last_date
    from person_days

),

spine as (

    {{ day_spine('(select first_date from bounds)', '(select last_date from bounds)') }}

),

channels as (

    select distinct acquisition_channel from persons

),

grid as (

    select
        spine.date_day as report_date,
        channels.acquisition_channel
    from spine
    cross join channels

),

activity as (

    select
        activity_date as report_date,
        acquisition_channel,
        count(*) as dau,
        sum(usage_seconds) as usage_seconds,
        sum(invites_sent) as referral_invites,
        sum(revenue) as revenue,
        sum(case when orders > 0 then 1 else 0 end) as paying_users
    from person_days
    group by activity_date, acquisition_channel

),

rolling as (

    select
        grid.report_date,
        grid.acquisition_channel,
        count(distinct case
            when person_days.activity_date > {{ dbt.dateadd('day', -7, 'grid.report_date') }}
                then person_days.person_key
        end) as wau,
        count(distinct person_days.person_key) as mau
    from grid
    inner join person_days
        on grid.acquisition_channel = person_days.acquisition_channel
        and grid.report_date >= person_days.activity_date
        and {{ dbt.dateadd('day', -30, 'grid.report_date') }} < person_days.activity_date
    group by grid.report_date, grid.acquisition_channel

),

new_users as (

    select
        first_seen_date as report_date,
        acquisition_channel,
        count(*) as new_users
    from persons
    group by first_seen_date, acquisition_channel

),

signups as (

    select
        signed_up_date as report_date,
        acquisition_channel,
        count(*) as signups
    from persons
    where signed_up_date is not null
    group by signed_up_date, acquisition_channel

),

activations as (

    select
        activated_date as report_date,
        acquisition_channel,
        count(*) as activated
    from persons
    where activated_date is not null
    group by activated_date, acquisition_channel

),

returns as (

    select
        persons.first_seen_date as report_date,
        persons.acquisition_channel,
        {{ dbt.datediff('persons.first_seen_date', 'person_days.activity_date', 'day') }} as day_n,
        persons.person_key
    from persons
    inner join person_days
        on persons.person_key = person_days.person_key
        and persons.first_seen_date < person_days.activity_date

),

retention as (

    select
        report_date,
        acquisition_channel,
        sum(case when day_n = 1 then 1 else 0 end) as d1_retained,
        sum(case when day_n = 7 then 1 else 0 end) as d7_retained,
        sum(case when day_n = 30 then 1 else 0 end) as d30_retained
    from returns
    group by report_date, acquisition_channel

),

-- An invitee's sign-up is credited to the inviter's channel (the person whose user id is
-- the invitee's referrer_user_id), or to the invitee's own channel if the inviter is unknown.
referral_signups as (

    select
        invitees.signed_up_date as report_date,
        coalesce(inviters.acquisition_channel, invitees.acquisition_channel) as acquisition_channel,
        count(*) as referral_signups
    from persons as invitees
    left join persons as inviters
        on invitees.referrer_user_id = inviters.person_key
    where invitees.signed_up_date is not null
        and (invitees.acquisition_channel = 'referral' or invitees.referrer_user_id is not null)
    group by
        invitees.signed_up_date,
        coalesce(inviters.acquisition_channel, invitees.acquisition_channel)

),

joined as (

    select
        grid.report_date,
        grid.acquisition_channel,
        coalesce(new_users.new_users, 0) as new_users,
        coalesce(signups.signups, 0) as signups,
        coalesce(activations.activated, 0) as activated,
        coalesce(activity.dau, 0) as dau,
        coalesce(rolling.wau, 0) as wau,
        coalesce(rolling.mau, 0) as mau,
        coalesce(activity.usage_seconds, 0) as usage_seconds,
        {{ dbt.datediff('grid.report_date', 'bounds.last_date', 'day') }} as days_observed_after,
        coalesce(retention.d1_retained, 0) as d1_retained,
        coalesce(retention.d7_retained, 0) as d7_retained,
        coalesce(retention.d30_retained, 0) as d30_retained,
        coalesce(activity.referral_invites, 0) as referral_invites,
        coalesce(referral_signups.referral_signups, 0) as referral_signups,
        coalesce(activity.revenue, 0) as revenue,
        coalesce(activity.paying_users, 0) as paying_users
    from grid
    cross join bounds
    left join activity
        on grid.report_date = activity.report_date and grid.acquisition_channel = activity.acquisition_channel
    left join rolling
        on grid.report_date = rolling.report_date and grid.acquisition_channel = rolling.acquisition_channel
    left join new_users
        on grid.report_date = new_users.report_date and grid.acquisition_channel = new_users.acquisition_channel
    left join signups
        on grid.report_date = signups.report_date and grid.acquisition_channel = signups.acquisition_channel
    left join activations
        on grid.report_date = activations.report_date and grid.acquisition_channel = activations.acquisition_channel
    left join retention
        on grid.report_date = retention.report_date and grid.acquisition_channel = retention.acquisition_channel
    left join referral_signups
        on grid.report_date = referral_signups.report_date
        and grid.acquisition_channel = referral_signups.acquisition_channel

),

final as (

    select
        report_date,
        acquisition_channel,
        cast(new_users as {{ dbt.type_bigint() }}) as new_users,
        cast(signups as {{ dbt.type_bigint() }}) as signups,
        cast(activated as {{ dbt.type_bigint() }}) as activated,
        cast(dau as {{ dbt.type_bigint() }}) as dau,
        cast(wau as {{ dbt.type_bigint() }}) as wau,
        cast(mau as {{ dbt.type_bigint() }}) as mau,
        {{ safe_divide('dau', 'mau') }} as stickiness,
        cast(usage_seconds as {{ dbt.type_bigint() }}) as usage_seconds,
        {{ safe_divide('usage_seconds', 'dau') }} as avg_usage_seconds,
        cast(case when days_observed_after >= 1 then d1_retained end as {{ dbt.type_bigint() }}) as d1_retained,
        cast(case when days_observed_after >= 7 then d7_retained end as {{ dbt.type_bigint() }}) as d7_retained,
        cast(case when days_observed_after >= 30 then d30_retained end as {{ dbt.type_bigint() }}) as d30_retained,
        case when days_observed_after >= 1 then {{ safe_divide('d1_retained', 'new_users') }} end as d1_retention_rate,
        case when days_observed_after >= 7 then {{ safe_divide('d7_retained', 'new_users') }} end as d7_retention_rate,
        case when days_observed_after >= 30 then {{ safe_divide('d30_retained', 'new_users') }} end
            as d30_retention_rate,
        cast(referral_invites as {{ dbt.type_bigint() }}) as referral_invites,
        cast(referral_signups as {{ dbt.type_bigint() }}) as referral_signups,
        {{ safe_divide('referral_signups', 'dau') }} as k_factor,
        cast(revenue as decimal(18, 6)) as revenue,
        cast(paying_users as {{ dbt.type_bigint() }}) as paying_users
    from joined

)

select * from final
