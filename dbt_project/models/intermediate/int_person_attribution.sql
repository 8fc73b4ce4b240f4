{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='replace_affected',
        unique_key='person_key',
        on_schema_change='fail'
    )
}}
-- One row per person: the touch their acquisition is credited to, by first touch and by
-- last non-direct touch (GA4's default; the acquisition_* columns every mart uses).
--
-- Attribution point: the person's first sign-up, or their first event if they never
-- signed up. First touch: the utm touch of the person's first event ('direct' if it had
-- none). Last non-direct touch: the latest event with a non-direct touch at or before the
-- attribution point and no older than var('attribution_lookback_days'); 'direct' if there
-- is none. Events on equal times are ordered by message_id.
with

events as (

    select * from {{ growthops.person_events() }}
    where message_type <> 'identify'

),

attribution_points as (

    select
        person_key,
        min(event_at) as first_seen_at,
        coalesce(
            min(case when event_name = '{{ var("signup_event") }}' then event_at end), min(event_at)
        ) as attribution_point_at
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
    inner join attribution_points
        on events.person_key = attribution_points.person_key
    where events.touch_channel <> 'direct'
        and events.event_at <= attribution_points.attribution_point_at
        and events.event_at >= {{ dbt.dateadd('day', -1 * var('attribution_lookback_days'),
                                               'attribution_points.attribution_point_at') }}

),

final as (

    select
        attribution_points.person_key,
        attribution_points.attribution_point_at,
        coalesce(last_non_direct.event_at, attribution_points.first_seen_at) as acquired_at,
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
        first_touch.utm_campaign as first_touch_campaign_id
    from attribution_points
    left join last_non_direct
        on attribution_points.person_key = last_non_direct.person_key
        and last_non_direct.touch_rank = 1
    left join first_touch
        on attribution_points.person_key = first_touch.person_key
        and first_touch.touch_rank = 1

)

select * from final
