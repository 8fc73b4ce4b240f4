-- One row per app event of an affected person (int_affected_persons), with the columns of
-- int_person_events: what the models kept by person read on an incremental run. Filtered
-- before the joins (by user id, or by the devices - anonymous ids - of an affected person),
-- so a run reads the affected persons' events, not every event. Empty when no model kept
-- by person is built incrementally (the first build, a full refresh): nothing reads it then.
with

affected as (

    select person_key from {{ ref('int_affected_persons') }}

),

affected_devices as (

    select stitched.anonymous_id
    from {{ ref('int_anonymous_ids_stitched') }} as stitched
    inner join affected
        on stitched.person_key = affected.person_key

),

final as (

    select person_events.*
    from {{ ref('int_person_events') }} as person_events
    where {{ growthops.kept_by_person_exists() }}
        and (
            person_events.user_id in (select affected.person_key from affected)
            or (
                person_events.user_id is null
                and person_events.anonymous_id in (select affected_devices.anonymous_id from affected_devices)
            )
        )

)

select * from final
