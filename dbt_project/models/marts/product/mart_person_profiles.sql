-- One row per person: who they are (latest traits, device), where they came from (first
-- touch and last non-direct), what they did (activity, sessions, orders, referrals,
-- content), their lifecycle status in the latest complete ISO week and their RFM class, as
-- of the last complete day (the newest activity day is still filling).
{%- set traits = var('profile_traits') %}
with

persons as (

    select * from {{ ref('int_persons') }}

),

events as (

    select * from {{ ref('int_person_events') }}

),

person_days as (

    select * from {{ ref('int_growth_person_days') }}

),

as_of as (

    select
        complete.as_of_date,
        -- the latest ISO week that has ended by as_of_date
        {{ period_shift('week', -1, reporting_period_start("'week'", dbt.dateadd('day', 1, 'complete.as_of_date'))) }}
            as status_week
    from (
        select {{ last_complete_activity_day() }} as as_of_date
        from person_days
    ) as complete

),

latest_identify as (

    select
        person_key,
        message_id,
        row_number() over (partition by person_key order by event_at desc, message_id desc) as recency_rank
    from events
    where message_type = 'identify'

),

latest_event as (

    select
        person_key,
        message_id,
        row_number() over (partition by person_key order by event_at desc, message_id desc) as recency_rank
    from events
    where message_type <> 'identify'

),

identities as (

    select
        {%- for trait in traits %}
        {{ json_text('raw_identify.traits', trait) }} as trait_{{ trait }},  -- noqa: LT02
        {%- endfor %}
        latest_identify.person_key
    from latest_identify
    inner join {{ ref('stg_app__events') }} as raw_identify
        on latest_identify.message_id = raw_identify.message_id
    where latest_identify.recency_rank = 1

),

devices as (

    select
        latest_event.person_key,
        raw_event.os_name,
        raw_event.app_version
    from latest_event
    inner join {{ ref('stg_app__events') }} as raw_event
        on latest_event.message_id = raw_event.message_id
    where latest_event.recency_rank = 1

),

-- each active day up to as_of_date, marked with the windows it falls in
dated_days as (

    select
        person_days.*,
        person_days.activity_date > {{ dbt.dateadd('day', -28, 'as_of.as_of_date') }} as is_last_28d,
        person_days.activity_date
        > {{ dbt.dateadd('day', -1 * var('rfm_lookback_days'), 'as_of.as_of_date') }} as is_rfm_lookback,
        {{ reporting_period_start("'week'", 'person_days.activity_date') }} = as_of.status_week as is_status_week,
        {{ reporting_period_start("'week'", 'person_days.activity_date') }}
        = {{ period_shift('week', -1, 'as_of.status_week') }} as is_week_before
    from person_days
    cross join as_of
    where person_days.activity_date <= as_of.as_of_date

),

activity as (

    select
        person_key,
        min(activity_date) as first_active_date,
        max(activity_date) as last_active_date,
        count(*) as active_days,
        sum(case when is_last_28d then sessions else 0 end) as sessions_28d,
        sum(case when is_last_28d then usage_seconds else 0 end) as usage_seconds_28d,
        sum(invites_sent) as invites_sent,
        sum(orders) as orders,
        sum(revenue) as revenue,
        max(case when orders > 0 then activity_date end) as last_order_date,
        max(case when is_status_week then 1 else 0 end) as active_status_week,
        max(case when is_week_before then 1 else 0 end) as active_week_before,
        sum(case when is_rfm_lookback then orders else 0 end) as rfm_frequency,
        sum(case when is_rfm_lookback then revenue else 0 end) as rfm_monetary
    from dated_days
    group by person_key

),

referrals as (

    select
        referrer_user_id as person_key,
        count(*) as referral_signups
    from persons
    where referrer_user_id is not null and signed_up_at is not null
    group by referrer_user_id

),

content as (

    select
        person_key,
        count(*) as content_events,
        count(distinct content_id) as content_items_engaged
    from {{ ref('int_content_app_events') }}
    group by person_key

),

-- RFM over the payers of the lookback: each of R, F, M high or low against their mean
-- (recency high = recent: at most the mean days since the last order; F and M high = at
-- least the mean)
rfm_payers as (

    select
        activity.person_key,
        {{ dbt.datediff('activity.last_order_date', 'as_of.as_of_date', 'day') }} as recency_days,
        activity.rfm_frequency,
        activity.rfm_monetary
    from activity
    cross join as_of
    where activity.rfm_frequency > 0

),

rfm_means as (

    select
        avg(cast(recency_days as double)) as mean_recency_days,
        avg(cast(rfm_frequency as double)) as mean_frequency,
        avg(cast(rfm_monetary as double)) as mean_monetary
    from rfm_payers

),

rfm as (

    select
        rfm_payers.person_key,
        rfm_payers.recency_days,
        case when rfm_payers.recency_days <= rfm_means.mean_recency_days then 'H' else 'L' end
        || case when rfm_payers.rfm_frequency >= rfm_means.mean_frequency then 'H' else 'L' end
        || case when rfm_payers.rfm_monetary >= rfm_means.mean_monetary then 'H' else 'L' end as rfm_code
    from rfm_payers
    cross join rfm_means

),

final as (

    select
        persons.person_key,
        as_of.as_of_date,
        {%- for trait in traits %}
            identities.trait_{{ trait }},
        {%- endfor %}
        devices.os_name,
        devices.app_version,
        persons.acquired_at,
        persons.acquisition_date,
        persons.acquisition_channel,
        persons.acquisition_platform,
        persons.acquisition_campaign_id,
        persons.acquisition_ad_group_id,
        persons.acquisition_keyword_id,
        persons.acquisition_content_id,
        persons.first_touch_channel,
        persons.first_touch_platform,
        persons.first_touch_campaign_id,
        persons.first_seen_at,
        persons.installed_at,
        persons.signed_up_at,
        persons.activated_at,
        persons.first_order_at,
        activity.first_active_date,
        activity.last_active_date,
        cast(coalesce(activity.active_days, 0) as bigint) as active_days,
        case
            when {{ reporting_period_start("'week'", reporting_date('persons.first_seen_at')) }} >= as_of.status_week
                then 'new'
            when activity.active_status_week = 1 and activity.active_week_before = 1 then 'returning'
            when activity.active_status_week = 1 then 'resurrecting'
            when activity.active_week_before = 1 then 'dormant'
            else 'inactive'
        end as lifecycle_status,
        cast(coalesce(activity.sessions_28d, 0) as bigint) as sessions_28d,
        cast(coalesce(activity.usage_seconds_28d, 0) as bigint) as usage_seconds_28d,
        cast(coalesce(activity.orders, 0) as bigint) as orders,
        cast(coalesce(activity.revenue, 0) as decimal(18, 6)) as revenue,
        persons.referrer_user_id,
        persons.referrer_user_id is not null as is_referred,
        cast(coalesce(activity.invites_sent, 0) as bigint) as invites_sent,
        cast(coalesce(referrals.referral_signups, 0) as bigint) as referral_signups,
        cast(coalesce(content.content_events, 0) as bigint) as content_events,
        cast(coalesce(content.content_items_engaged, 0) as bigint) as content_items_engaged,
        cast(rfm.recency_days as integer) as rfm_recency_days,
        cast(coalesce(activity.rfm_frequency, 0) as bigint) as rfm_frequency,
        cast(coalesce(activity.rfm_monetary, 0) as decimal(18, 6)) as rfm_monetary,
        rfm.rfm_code,
        case rfm.rfm_code
            when 'HHH' then 'important_value'
            when 'LHH' then 'important_retain'
            when 'HLH' then 'important_develop'
            when 'LLH' then 'important_win_back'
            when 'HHL' then 'general_value'
            when 'LHL' then 'general_retain'
            when 'HLL' then 'general_develop'
            when 'LLL' then 'general_win_back'
        end as rfm_class
    from persons
    cross join as_of
    left join activity
        on persons.person_key = activity.person_key
    left join identities
        on persons.person_key = identities.person_key
    left join devices
        on persons.person_key = devices.person_key
    left join referrals
        on persons.person_key = referrals.person_key
    left join content
        on persons.person_key = content.person_key
    left join rfm
        on persons.person_key = rfm.person_key

)

select * from final
