{{ config(materialized='view') }}
-- One row per app event, with the person it belongs to (person_key): the user id when the
-- event has one, else the person its anonymous id was stitched to.
select
    coalesce(events.user_id, stitched.person_key) as person_key,
    events.*
from {{ ref('int_events_enriched') }} as events
left join {{ ref('int_anonymous_ids_stitched') }} as stitched
    on events.anonymous_id = stitched.anonymous_id
