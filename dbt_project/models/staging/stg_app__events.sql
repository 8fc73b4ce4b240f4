-- One row per app event (raw is already unique by message_id).
with

source as (

    select * from {{ source('raw', 'app_events') }}

),

renamed as (

    select
        message_id,
        type as message_type,
        case type
            when 'track' then event
            when 'screen' then '$screen'
            when 'page' then '$pageview'
            when 'identify' then '$identify'
        end as event_name,
        screen_name,
        anonymous_id,
        user_id,
        event_at,
        received_at,
        event_at_source,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        device_timezone,
        {{ json_text('raw_record', 'context.os.name') }} as os_name,
        {{ json_text('raw_record', 'context.app.version') }} as app_version,
        properties,
        traits,
        load_id,
        source_file
    from source

)

select * from renamed
