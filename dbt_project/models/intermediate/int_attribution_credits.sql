{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='replace_affected',
        unique_key='person_key',
        on_schema_change='fail'
    )
}}
-- One row per conversion × attribution model × credited touch: the share of the conversion
-- each model gives the touch (README "Attribution models").
--
-- Conversions: each person's first sign-up, and every order (with its revenue in the
-- reporting currency). Touches: the person's events carrying utm fields at or before the
-- conversion and at most var('attribution_lookback_days') older, ordered by (time, message
-- id). A conversion no model can credit (no touch; for last non-direct, no non-direct touch)
-- is credited 100% to 'direct' with no touch, so every model's credits of a conversion sum
-- to 1.
with

events as (

    select * from {{ growthops.person_events() }}
    where message_type <> 'identify'
        and person_key is not null

),

signups as (

    select
        *,
        row_number() over (partition by person_key order by event_at, message_id) as signup_rank
    from events
    where event_name = '{{ var("signup_event") }}'

),

conversions as (

    select
        message_id as conversion_id,
        person_key,
        'signup' as conversion_type,
        event_at as converted_at,
        cast(null as decimal(18, 6)) as revenue
    from signups
    where signup_rank = 1
    union all
    select
        message_id as conversion_id,
        person_key,
        'order' as conversion_type,
        event_at as converted_at,
        revenue
    from events
    where event_name = '{{ var("order_event") }}'

),

touches as (

    select
        conversions.conversion_id,
        events.message_id as touch_message_id,
        events.event_at as touch_at,
        events.touch_channel,
        events.touch_platform,
        events.utm_campaign,
        events.utm_content,
        events.utm_term,
        row_number() over (
            partition by conversions.conversion_id order by events.event_at, events.message_id
        ) as touch_position,
        count(*) over (partition by conversions.conversion_id) as touch_count,
        {{ growthops.funnel_seconds_between('events.event_at', 'conversions.converted_at') }} / 86400
            as age_days
    from conversions
    inner join events
        on conversions.person_key = events.person_key
        and conversions.converted_at >= events.event_at
        and events.event_at
        >= {{ dbt.dateadd('day', -1 * var('attribution_lookback_days'), 'conversions.converted_at') }}
    where events.utm_source is not null
        or events.utm_medium is not null

),

ranked as (

    select
        *,
        -- the latest touch first, among the conversion's direct and its non-direct touches
        row_number() over (
            partition by conversion_id, touch_channel = 'direct'
            order by touch_at desc, touch_message_id desc
        ) as rank_from_last_of_kind,
        power(2, -1 * age_days / {{ var('attribution_half_life_days') }}) as decay_weight
    from touches

),

credits as (

    select
        conversion_id,
        touch_message_id,
        'first_touch' as attribution_model,
        1.0 as credit
    from ranked
    where touch_position = 1
    union all
    select
        conversion_id,
        touch_message_id,
        'last_touch' as attribution_model,
        1.0 as credit
    from ranked
    where touch_position = touch_count
    union all
    select
        conversion_id,
        touch_message_id,
        'last_non_direct' as attribution_model,
        1.0 as credit
    from ranked
    where touch_channel <> 'direct'
        and rank_from_last_of_kind = 1
    union all
    select
        conversion_id,
        touch_message_id,
        'linear' as attribution_model,
        1.0 / touch_count as credit
    from ranked
    union all
    select
        conversion_id,
        touch_message_id,
        'position_based' as attribution_model,
        case
            when touch_count = 1 then 1.0
            when touch_count = 2 then 0.5
            when touch_position = 1 or touch_position = touch_count then 0.4
            else 0.2 / (touch_count - 2)
        end as credit
    from ranked
    union all
    select
        conversion_id,
        touch_message_id,
        'time_decay' as attribution_model,
        -- summed in touch order: a float sum in another order may differ in the last bit
        decay_weight / sum(decay_weight) over (
            partition by conversion_id order by touch_position
            rows between unbounded preceding and unbounded following
        ) as credit
    from ranked

),

models as (

    select 'first_touch' as attribution_model
    union all
    select 'last_touch'
    union all
    select 'last_non_direct'
    union all
    select 'linear'
    union all
    select 'position_based'
    union all
    select 'time_decay'

),

credited_models as (

    select distinct
        conversion_id,
        attribution_model
    from credits

),

direct as (

    -- conversions a model could not credit: 100% direct, no touch
    select
        conversions.conversion_id,
        cast(null as {{ dbt.type_string() }}) as touch_message_id,
        models.attribution_model,
        1.0 as credit
    from conversions
    cross join models
    left join credited_models
        on conversions.conversion_id = credited_models.conversion_id
        and models.attribution_model = credited_models.attribution_model
    where credited_models.conversion_id is null

),

all_credits as (

    select * from credits
    union all
    select * from direct

),

final as (

    select
        conversions.conversion_id,
        conversions.person_key,
        conversions.conversion_type,
        conversions.converted_at,
        {{ growthops.reporting_date('conversions.converted_at') }} as conversion_date,
        all_credits.attribution_model,
        all_credits.touch_message_id,
        ranked.touch_at,
        ranked.touch_position,
        ranked.touch_count,
        coalesce(ranked.touch_channel, 'direct') as channel,
        ranked.touch_platform as platform,
        case when ranked.touch_platform is not null then ranked.utm_campaign end as campaign_id,
        case when ranked.touch_platform is not null then ranked.utm_content end as ad_group_id,
        case when ranked.touch_platform is not null then ranked.utm_term end as keyword_id,
        case when ranked.touch_channel = 'content' then ranked.utm_content end as content_id,
        -- to 12 places: engines differ in a float's last bit (DuckDB and Spark build the same),
        -- and revenue x credit is exact decimal arithmetic rounded half up to micros
        cast(round(all_credits.credit, 12) as double) as credit,
        cast(
            cast(conversions.revenue as decimal(38, 6))
            * cast(round(all_credits.credit, 12) as decimal(18, 12)) as decimal(18, 6)
        ) as credited_revenue
    from all_credits
    inner join conversions
        on all_credits.conversion_id = conversions.conversion_id
    left join ranked
        on all_credits.conversion_id = ranked.conversion_id
        and all_credits.touch_message_id = ranked.touch_message_id

)

select * from final
