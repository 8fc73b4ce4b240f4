-- One row per anonymous id: the person it belongs to.
-- An anonymous id belongs to the first user id it appeared with (on an identify call or
-- any event carrying both ids); an id never seen with a user id is a person of its own.
-- Like PostHog, a later different user id on the same device does not re-merge.
with

links as (

    select
        anonymous_id,
        user_id,
        row_number() over (partition by anonymous_id order by event_at, message_id) as link_rank
    from {{ ref('int_events_enriched') }}
    where anonymous_id is not null and user_id is not null

),

anonymous_ids as (

    select distinct anonymous_id
    from {{ ref('int_events_enriched') }}
    where anonymous_id is not null

),

final as (

    select
        anonymous_ids.anonymous_id,
        coalesce(links.user_id, 'anon:' || anonymous_ids.anonymous_id) as person_key,
        links.user_id is not null as is_identified
    from anonymous_ids
    left join links
        on anonymous_ids.anonymous_id = links.anonymous_id
        and links.link_rank = 1

)

select * from final
