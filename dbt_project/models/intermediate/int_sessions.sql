-- One row per session: a person's run of events with no gap longer than
-- var('session_timeout_minutes'). Usage time is last event - first event of the session;
-- screens counts screen and page calls (what PostHog's bounce rule counts).
with

events as (

    select
        person_key,
        event_at,
        message_type,
        lag(event_at) over (partition by person_key order by event_at, message_id) as previous_event_at
    from {{ ref('int_person_events') }}
    where message_type <> 'identify'

),

marked as (

    select
        person_key,
        event_at,
        message_type,
        case
            when previous_event_at is null then 1
            when {{ dbt.datediff('previous_event_at', 'event_at', 'second') }}
                > {{ var('session_timeout_minutes') }} * 60 then 1
            else 0
        end as is_session_start
    from events

),

numbered as (

    select
        person_key,
        event_at,
        message_type,
        sum(is_session_start) over (
            partition by person_key order by event_at rows unbounded preceding
        ) as session_number
    from marked

),

final as (

    select
        {{ surrogate_key(['person_key', 'session_number']) }} as session_key,
        person_key,
        session_number,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        {{ reporting_date('min(event_at)') }} as session_date,
        {{ dbt.datediff('min(event_at)', 'max(event_at)', 'second') }} as duration_seconds,
        count(*) as events,
        sum(case when message_type in ('screen', 'page') then 1 else 0 end) as screens
    from numbered
    group by person_key, session_number

)

select * from final
