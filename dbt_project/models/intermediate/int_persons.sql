-- One row per person: lifecycle timestamps, revenue, and acquisition attribution.
--
-- Attribution point: the person's first sign-up, or their first event if they never
-- signed up. First touch: the utm touch of the person's first event ('direct' if it had
-- none). Last non-direct touch (GA4): the latest event with a non-direct touch at or
-- before the attribution point and no older than var('attribution_lookback_days');
-- 'direct' if there is none. The acquisition_* columns use last non-direct.
with

events as (

    select * from {{ ref('int_person_events') }}
    where message_type <> 'identify'

),

lifecycle as (

    select
        person_key,
        min(event_at) as first_seen_at,
        min(case when event_name = '{{ var("install_event") }}' then event_at end) as installed_at,
        min(case when event_name = '{{ var("signup_event") }}' then event_at end) as signed_up_at,
        min(case when event_name = '{{ var("activation_event") }}' then event_at end) as activated_at,
        min(case when event_name = '{{ var("order_event") }}' then event_at end) as first_order_at
    from events
    group by person_key

),

first_touch as (

    select
        person_key,
        touch_channel,
        touch_platform,
        utm_campaign,
        row_number() over (partition by person_key order by event_at, message_id) as touch_rank
    from events

),

last_non_direct as (

    select
        events.person_key,
        events.event_at,
        events.touch_channel,
        events.touch_platform,
        events.utm_campaign,
        events.utm_content,
        events.utm_term,
        row_number() over (
            partition by events.person_key order by events.event_at desc, events.message_id desc
        ) as touch_rank
    from events
    inner join lifecycle
        on events.person_key = lifecycle.person_key
    where events.touch_channel <> 'direct'
        and events.event_at <= coalesce(lifecycle.signed_up_at, lifecycle.first_seen_at)
        and events.event_at >= {{ dbt.dateadd('day', -1 * var('attribution_lookback_days'),
                                               'coalesce(lifecycle.signed_up_at, lifecycle.first_seen_at)') }}

),

referrals as (

    select
        person_key,
        max(referrer_user_id) as referrer_user_id
    from events
    where event_name = '{{ var("signup_event") }}'
    group by person_key

),

joined as (

    select
        lifecycle.*,
        coalesce(last_non_direct.event_at, lifecycle.first_seen_at) as acquired_at,
        coalesce(last_non_direct.touch_channel, 'direct') as acquisition_channel,
        last_non_direct.touch_platform as acquisition_platform,
        case when last_non_direct.touch_platform is not null then last_non_direct.utm_campaign end
            as acquisition_campaign_id,
        case when last_non_direct.touch_platform is not null then last_non_direct.utm_content end
            as acquisition_ad_group_id,
        case when last_non_direct.touch_platform is not null then last_non_direct.utm_term end
            as acquisition_keyword_id,
        case when last_non_direct.touch_channel = 'content' then last_non_direct.utm_content end
            as acquisition_content_id,
        first_touch.touch_channel as first_touch_channel,
        first_touch.touch_platform as first_touch_platform,
        first_touch.utm_campaign as first_touch_campaign_id,
        referrals.referrer_user_id
    from lifecycle
    left join last_non_direct
        on lifecycle.person_key = last_non_direct.person_key
        and last_non_direct.touch_rank = 1
    left join first_touch
        on lifecycle.person_key = first_touch.person_key
        and first_touch.touch_rank = 1
    left join referrals
        on lifecycle.person_key = referrals.person_key

),

revenue as (

    select
        joined.person_key,
        sum(events.revenue) as revenue_to_date,
        sum(case when events.event_at < {{ dbt.dateadd('day', 7, 'joined.acquired_at') }} then events.revenue end)
            as revenue_d7,
        sum(case when events.event_at < {{ dbt.dateadd('day', 30, 'joined.acquired_at') }} then events.revenue end)
            as revenue_d30
    from joined
    inner join events
        on joined.person_key = events.person_key
        and events.event_name = '{{ var("order_event") }}'
    group by joined.person_key

)

select
    joined.*,
    {{ reporting_date('joined.acquired_at') }} as acquisition_date,
    coalesce(revenue.revenue_to_date, 0) as revenue_to_date,
    coalesce(revenue.revenue_d7, 0) as revenue_d7,
    coalesce(revenue.revenue_d30, 0) as revenue_d30,
    joined.first_order_at is not null as is_payer
from joined
left join revenue
    on joined.person_key = revenue.person_key
