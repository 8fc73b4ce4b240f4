-- One row per app event of an affected person (int_affected_persons), with the columns of
-- int_person_events: what the models kept by person read on an incremental run. Filtered
-- before the joins (by user id, or by the anonymous ids stitched to an affected person),
-- so a run reads the affected persons' events, not every event.
with

affected as (

    select person_key from {{ ref('int_affected_persons') }}

),

affected_anonymous_ids as (

    select stitched.anonymous_id
    from {{ ref('int_anonymous_ids_stitched') }} as stitched
    inner join affected
        on stitched.person_key = affected.person_key

),

final as (

    select person_events.*
    from {{ ref('int_person_events') }} as person_events
    where person_events.user_id in (select affected.person_key from affected)
        or (
            person_events.user_id is null
            and person_events.anonymous_id in (select affected_anonymous_ids.anonymous_id from affected_anonymous_ids)
        )

)

select * from final
