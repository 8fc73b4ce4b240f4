{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='replace_affected',
        unique_key='person_key',
        on_schema_change='fail'
    )
}}
-- One row per session (a person's events with no gap over var('session_timeout_minutes')):
-- its day, duration, events, screens and PostHog's bounce rule; per person-day counts are
-- a group by (person_key, session_date).
with

sessions as (

    select * from {{ growthops.affected_rows(ref('int_sessions')) }}

),

persons as (

    select
        person_key,
        acquisition_channel
    from {{ growthops.affected_rows(ref('int_persons')) }}

),

final as (

    select
        sessions.session_key,
        sessions.person_key,
        persons.acquisition_channel,
        sessions.session_date,
        sessions.started_at,
        sessions.ended_at,
        cast(sessions.duration_seconds as bigint) as duration_seconds,
        cast(sessions.events as bigint) as events,
        cast(sessions.screens as bigint) as screens,
        -- PostHog (web analytics): no screen or page view -> not counted; else a bounce
        -- unless it viewed more than one or lasted at least 10 seconds
        case
            when sessions.screens = 0 then null
            else not (sessions.screens > 1 or sessions.duration_seconds >= 10)
        end as is_bounce
    from sessions
    inner join persons
        on sessions.person_key = persons.person_key

)

select * from final
