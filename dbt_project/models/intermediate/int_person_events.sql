{{ config(materialized='view') }}
-- One row per app event, with the person it belongs to (person_key): the user id when the
-- event has one, else the person its anonymous id was stitched to; revenue is in the
-- reporting currency (int_revenue_converted), revenue_in_currency as the app sent it.
with

final as (

    select
        coalesce(events.user_id, stitched.person_key) as person_key,
        events.message_id,
        events.message_type,
        events.event_name,
        events.screen_name,
        events.anonymous_id,
        events.user_id,
        events.event_at,
        events.event_date,
        events.received_at,
        events.utm_source,
        events.utm_medium,
        events.utm_campaign,
        events.utm_term,
        events.utm_content,
        events.touch_channel,
        events.touch_platform,
        events.content_id,
        converted.revenue,
        events.revenue as revenue_in_currency,
        events.revenue_currency,
        events.invite_code,
        events.referrer_user_id,
        events.properties,
        events.load_id,
        events.source_file
    from {{ ref('int_events_enriched') }} as events
    left join {{ ref('int_anonymous_ids_stitched') }} as stitched
        on events.anonymous_id = stitched.anonymous_id
    left join {{ ref('int_revenue_converted') }} as converted
        on events.message_id = converted.message_id

)

select * from final
