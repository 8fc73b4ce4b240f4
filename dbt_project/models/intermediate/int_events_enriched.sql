{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='delete+insert',
        unique_key='source_file',
        on_schema_change='fail'
    )
}}
-- One row per app event, with its reporting-time-zone day, the properties the marts use,
-- and its utm touch classified into a channel.
--
-- Incremental by arrival, not by event time: each run takes the files int_event_changes
-- logged for it (their version in staging differs from the one in this table, so neither
-- the order of load ids nor any clock decides what is picked up, and rows added to a loaded
-- version - a held row that loads once its FX rate arrives, a duplicate restored when its
-- first copy was restated away - are seen too). Such a file is taken whole: delete+insert
-- on source_file replaces all of its rows, so a late event is never missed and a file
-- delivered again under its name replaces its rows.
with

-- the files this run takes (on a full refresh: all of them)
new_files as (

    {% if is_incremental() %}
        select distinct changes.source_file
        from {{ ref('int_event_changes') }} as changes
        where changes.invocation_id = '{{ invocation_id }}'
    {% else %}
        -- depends_on: {{ ref('int_event_changes') }}
        select distinct arrived.source_file
        from {{ ref('stg_app__events') }} as arrived
    {% endif %}

),

events as (

    select arrived.*
    from {{ ref('stg_app__events') }} as arrived
    inner join new_files
        on arrived.source_file = new_files.source_file

),

channels as (

    select * from {{ ref('channel_mapping') }}

),

final as (

    select
        events.message_id,
        events.message_type,
        events.event_name,
        events.screen_name,
        events.anonymous_id,
        events.user_id,
        events.event_at,
        {{ reporting_date('events.event_at') }} as event_date,
        events.received_at,
        events.utm_source,
        events.utm_medium,
        events.utm_campaign,
        events.utm_term,
        events.utm_content,
        case
            when events.utm_source is null and events.utm_medium is null then 'direct'
            else coalesce(channels.channel, 'other')
        end as touch_channel,
        channels.platform as touch_platform,
        {{ json_text('events.properties', 'content_id') }} as content_id,
        cast({{ json_text('events.properties', 'revenue') }} as decimal(18, 6)) as revenue,
        {{ json_text('events.properties', 'currency') }} as revenue_currency,
        {{ json_text('events.properties', 'invite_code') }} as invite_code,
        {{ json_text('events.properties', 'referrer_user_id') }} as referrer_user_id,
        events.properties,
        events.load_id,
        events.source_file
    from events
    left join channels
        on events.utm_source = channels.utm_source
        and events.utm_medium = channels.utm_medium

)

select * from final
