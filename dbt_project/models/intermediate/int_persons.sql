{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='replace_affected',
        unique_key='person_key',
        on_schema_change='fail'
    )
}}
-- One row per person: lifecycle timestamps, revenue, the referrer, and the acquisition
-- attribution of int_person_attribution (last non-direct in acquisition_*, first touch in
-- first_touch_*). revenue_d7 / revenue_d30: orders before acquired_at + 7 / 30 days (an
-- order before the acquisition touch counts as day 0).
with

events as (

    select * from {{ growthops.person_events() }}
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

referrals as (

    select
        person_key,
        max(referrer_user_id) as referrer_user_id
    from events
    where event_name = '{{ var("signup_event") }}'
    group by person_key

),

attribution as (

    select * from {{ growthops.affected_rows(ref('int_person_attribution')) }}

),

revenue as (

    select
        attribution.person_key,
        sum(events.revenue) as revenue_to_date,
        sum(case when events.event_at < {{ dbt.dateadd('day', 7, 'attribution.acquired_at') }} then events.revenue end)
            as revenue_d7,
        sum(case when events.event_at < {{ dbt.dateadd('day', 30, 'attribution.acquired_at') }} then events.revenue end)
            as revenue_d30
    from attribution
    inner join events
        on attribution.person_key = events.person_key
        and events.event_name = '{{ var("order_event") }}'
    group by attribution.person_key

),

final as (

    select
        lifecycle.person_key,
        lifecycle.first_seen_at,
        lifecycle.installed_at,
        lifecycle.signed_up_at,
        lifecycle.activated_at,
        lifecycle.first_order_at,
        attribution.acquired_at,
        attribution.acquisition_channel,
        attribution.acquisition_platform,
        attribution.acquisition_campaign_id,
        attribution.acquisition_ad_group_id,
        attribution.acquisition_keyword_id,
        attribution.acquisition_content_id,
        attribution.first_touch_channel,
        attribution.first_touch_platform,
        attribution.first_touch_campaign_id,
        referrals.referrer_user_id,
        {{ reporting_date('attribution.acquired_at') }} as acquisition_date,
        coalesce(revenue.revenue_to_date, 0) as revenue_to_date,
        coalesce(revenue.revenue_d7, 0) as revenue_d7,
        coalesce(revenue.revenue_d30, 0) as revenue_d30,
        lifecycle.first_order_at is not null as is_payer
    from lifecycle
    inner join attribution
        on lifecycle.person_key = attribution.person_key
    left join referrals
        on lifecycle.person_key = referrals.person_key
    left join revenue
        on lifecycle.person_key = revenue.person_key

)

select * from final
