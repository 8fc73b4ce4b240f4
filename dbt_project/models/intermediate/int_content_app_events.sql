{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='replace_affected',
        unique_key='person_key',
        on_schema_change='fail'
    )
}}
-- One row per in-app content event (viewed, liked, commented, shared) that names a
-- content item, with the person and the reporting-time-zone day.
with

final as (

    select
        message_id,
        person_key,
        event_at,
        event_date,
        event_name,
        content_id
    from {{ growthops.person_events() }}
    where event_name in (
            '{{ var("content_view_event") }}',
            '{{ var("content_like_event") }}',
            '{{ var("content_comment_event") }}',
            '{{ var("content_share_event") }}'
        )
        and content_id is not null

)

select * from final
