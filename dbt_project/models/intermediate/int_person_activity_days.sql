{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='replace_affected',
        unique_key='person_key',
        on_schema_change='fail'
    )
}}
-- One row per person and reporting day on which they were active in the lifecycle sense:
-- any event except identify calls, or only var('lifecycle_event') when it is set.
{%- set lifecycle_event = validate_lifecycle_event() %}
{%- set is_activity = "message_type <> 'identify'" %}
{%- if lifecycle_event %}{% set is_activity = "event_name = " ~ funnel_sql_string(lifecycle_event) %}{% endif %}
with

final as (

    select distinct
        person_key,
        event_date as activity_date
    from {{ growthops.person_events() }}
    where {{ is_activity }}

)

select * from final
