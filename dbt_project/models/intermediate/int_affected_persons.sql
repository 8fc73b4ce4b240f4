-- One row per person whose events or order revenue changed since the last run that
-- consumed the change logs: the persons an incremental run recomputes, from all of their
-- events. For each pending change row: its user id, and the person its anonymous id was
-- stitched to before the change and is stitched to now - so a late identify recomputes
-- both the person who loses the device (anon:X) and the one who gains it.
with

event_changes as (

    select * from {{ ref('int_event_changes') }}

),

revenue_changes as (

    select * from {{ ref('int_revenue_changes') }}
    where is_pending

),

stitched as (

    select * from {{ ref('int_anonymous_ids_stitched') }}

),

persons as (

    select event_changes.user_id as person_key
    from event_changes
    union
    select event_changes.stitched_before as person_key
    from event_changes
    union
    select stitched.person_key
    from event_changes
    inner join stitched
        on event_changes.anonymous_id = stitched.anonymous_id
    union
    select coalesce(revenue_changes.user_id, stitched.person_key) as person_key
    from revenue_changes
    left join stitched
        on revenue_changes.anonymous_id = stitched.anonymous_id

),

final as (

    select person_key
    from persons
    where person_key is not null

)

select * from final
