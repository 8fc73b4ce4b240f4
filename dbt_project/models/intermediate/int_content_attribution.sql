-- One row per person credited to a content item, and how.
--
-- utm_content wins: a person whose acquisition (last non-direct touch, int_persons) came
-- from a content post is credited to that post (acquisition_content_id = utm_content).
-- Only a person with no acquisition content falls back to first_view: the first Content
-- Viewed event in the app at or before their sign-up (or their activation when they have
-- no sign-up). Persons with neither are not in this model.
with

persons as (

    select
        person_key,
        first_seen_at,
        signed_up_at,
        activated_at,
        acquisition_content_id,
        coalesce(signed_up_at, activated_at) as converted_at
    from {{ ref('int_persons') }}

),

first_views as (

    select
        views.person_key,
        views.content_id,
        row_number() over (partition by views.person_key order by views.event_at, views.message_id) as view_rank
    from {{ ref('int_content_app_events') }} as views
    inner join persons
        on views.person_key = persons.person_key
    where views.event_name = '{{ var("content_view_event") }}'
        and persons.acquisition_content_id is null
        and views.event_at <= persons.converted_at

),

attributed as (

    select
        persons.person_key,
        coalesce(persons.acquisition_content_id, first_views.content_id) as content_id,
        case when persons.acquisition_content_id is not null then 'utm_content' else 'first_view' end
            as attribution_method,
        {{ reporting_date('persons.first_seen_at') }} as first_seen_date,
        {{ reporting_date('persons.signed_up_at') }} as signed_up_date,
        {{ reporting_date('persons.activated_at') }} as activated_date
    from persons
    left join first_views
        on persons.person_key = first_views.person_key
        and first_views.view_rank = 1

),

final as (

    select * from attributed
    where content_id is not null

)

select * from final
