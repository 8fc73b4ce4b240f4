{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='replace_affected',
        unique_key='person_key',
        on_schema_change='fail'
    )
}}
-- One row per session (int_session_events): usage time is last event - first event of the
-- session; screens counts screen and page calls (what PostHog's bounce rule counts).
with

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
    from {{ growthops.affected_rows(ref('int_session_events')) }}
    group by person_key, session_number

)

select * from final
