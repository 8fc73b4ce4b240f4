{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='replace_affected',
        unique_key='person_key',
        on_schema_change='fail'
    )
}}
-- One row per person and reporting-time-zone day on which the person did anything (any
-- event except identify calls): the activity the growth mart counts, with that day's
-- usage time (sessions by the day they started), invites, orders and revenue.
with

events as (

    select
        person_key,
        event_date,
        event_name,
        revenue
    from {{ growthops.person_events() }}
    where message_type <> 'identify'

),

sessions as (

    select
        person_key,
        session_date,
        count(*) as sessions,
        sum(duration_seconds) as usage_seconds
    from {{ growthops.affected_rows(ref('int_sessions')) }}
    group by person_key, session_date

),

daily as (

    select
        person_key,
        event_date as activity_date,
        count(*) as events,
        sum(case when event_name = '{{ var("invite_event") }}' then 1 else 0 end) as invites_sent,
        sum(case when event_name = '{{ var("order_event") }}' then 1 else 0 end) as orders,
        coalesce(sum(case when event_name = '{{ var("order_event") }}' then revenue end), 0) as revenue
    from events
    group by person_key, event_date

),

final as (

    select
        daily.person_key,
        daily.activity_date,
        cast(daily.events as {{ dbt.type_bigint() }}) as events,
        cast(coalesce(sessions.sessions, 0) as {{ dbt.type_bigint() }}) as sessions,
        cast(coalesce(sessions.usage_seconds, 0) as {{ dbt.type_bigint() }}) as usage_seconds,
        cast(daily.invites_sent as {{ dbt.type_bigint() }}) as invites_sent,
        cast(daily.orders as {{ dbt.type_bigint() }}) as orders,
        cast(daily.revenue as decimal(18, 6)) as revenue
    from daily
    left join sessions
        on daily.person_key = sessions.person_key
        and daily.activity_date = sessions.session_date

)

select * from final
