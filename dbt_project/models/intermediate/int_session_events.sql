{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='replace_affected',
        unique_key='person_key',
        on_schema_change='fail'
    )
}}
-- One row per event of a person (identify calls aside) with the session it belongs to: a
-- new session starts after a gap longer than var('session_timeout_minutes') (PostHog's
-- 30-minute rule). Events on equal times are ordered by message_id.
with

events as (

    select
        person_key,
        message_id,
        message_type,
        event_name,
        screen_name,
        event_at,
        event_date,
        lag(event_at) over (partition by person_key order by event_at, message_id) as previous_event_at
    from {{ growthops.person_events() }}
    where message_type <> 'identify'

),

marked as (

    select
        *,
        case
            when previous_event_at is null then 1
            when {{ dbt.datediff('previous_event_at', 'event_at', 'second') }}
                > {{ var('session_timeout_minutes') }} * 60 then 1
            else 0
        end as is_session_start
    from events

),

final as (

    select
        person_key,
        message_id,
        message_type,
        event_name,
        screen_name,
        event_at,
        event_date,
        sum(is_session_start) over (
            partition by person_key order by event_at, message_id rows unbounded preceding
        ) as session_number
    from marked

)

select * from final
